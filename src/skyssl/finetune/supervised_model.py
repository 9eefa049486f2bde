"""The supervised network: a pretraining run's encoder architecture with a linear head, and its artefact.

Stein et al.'s ``SSLFineTuner`` (formats §6.3) puts a Flatten–Dropout(0)–Linear head on the MoCo query
encoder (``encoder_q``, fc = Identity), or on the same architecture randomly initialised for the
supervised baseline. Here the encoder is rebuilt from the run's config with
:func:`skyssl.models.encoders.build_encoder` and, for ``init="checkpoint"``, given the query encoder's
weights strictly. The rebuilt encoder has plain BatchNorm even when the run trained with split
BatchNorm: split-BN is MoCo's defence against the key encoder cheating, irrelevant to a supervised loss,
and its state dict is BatchNorm2d's, so the weights carry over unchanged.

Everything needed to rebuild the network and its input views — encoder name, stem, channels, the
survey and the run's augmentation config — is stored in the artefact's manifest, so a fine-tuned
model predicts without its pretraining run.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from skyssl import surveys
from skyssl.augment.pipeline import AugmentPipeline
from skyssl.augment.spec import AugmentConfig
from skyssl.embed.model import TrainedEncoder
from skyssl.models.base import Encoder
from skyssl.models.encoders import build_encoder


class SupervisedModel(nn.Module):
    """Encoder → Linear(out_dim, n_outputs); parameters `encoder.*` and `head.*`. Input: network views."""

    def __init__(self, encoder: Encoder, n_outputs: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(encoder.out_dim, n_outputs)
        self.n_outputs = n_outputs

    def forward(self, views: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(views))


def architecture(trained: TrainedEncoder, n_outputs: int) -> dict[str, Any]:
    """What rebuilds the network and its views: the manifest's `model` entry."""
    return {
        "encoder": trained.config.model.encoder,
        "small_stamp": trained.config.model.small_stamp,
        "in_channels": trained.pipeline.output_channels,
        "representation_dim": trained.representation_dim,
        "n_outputs": n_outputs,
        "survey": trained.survey.name,
        "crop_px": trained.pipeline.crop_px,
        "augment": trained.pipeline.config.model_dump(mode="json"),
        "augment_spec": trained.pipeline.config.to_spec(),
    }


def build_model(arch: dict[str, Any]) -> SupervisedModel:
    """A randomly initialised network of the given architecture (seed torch first for a fixed draw)."""
    encoder = build_encoder(arch["encoder"], int(arch["in_channels"]), small_stamp=bool(arch["small_stamp"]))
    return SupervisedModel(encoder, int(arch["n_outputs"]))


def pipeline_of(arch: dict[str, Any]) -> AugmentPipeline:
    """The run's augmentation pipeline (training views) whose `center_view` is the evaluation view."""
    return AugmentPipeline(AugmentConfig.model_validate(arch["augment"]), surveys.get(arch["survey"]))


def initial_model(trained: TrainedEncoder, n_outputs: int, init: str, seed: int) -> SupervisedModel:
    """The network before training: the run's query encoder (`checkpoint`) or a random one (`scratch`).

    The draw of the random parts (the head; the whole encoder from scratch) is fixed by `seed`.
    """
    torch.manual_seed(seed)
    model = build_model(architecture(trained, n_outputs))
    if init == "checkpoint":
        model.encoder.load_state_dict(trained.moco.encoder_q.state_dict(), strict=True)
    return model
