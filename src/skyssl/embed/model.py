"""A trained encoder loaded from a run dir, ready to embed stamps: weights, views and provenance together.

Embeddings are only comparable when every object went through the same network *and* the same input
transform, so :func:`load_run` returns both as one object: the MoCo model of the run (in eval mode,
gradients off), the :class:`~skyssl.augment.pipeline.AugmentPipeline` whose :meth:`center_view` is the
evaluation view (centre crop + the run's input stretch), the survey it was trained on, and what the
Embeddings manifest records about them (the checkpoint's SHA-256 and the preprocessing spec).

The model is built by the train package itself (:func:`skyssl.train.config.load_config` on the run's
`config.yaml`, :func:`skyssl.train.module.build_moco`) and loaded strictly from `last.ckpt`, so an
encoder that does not match its checkpoint fails here rather than producing quietly wrong vectors.
BatchNorm in eval mode normalises with running statistics, so a vector depends only on its own image,
never on the rest of the batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from skyssl import surveys
from skyssl.augment.pipeline import AugmentPipeline
from skyssl.errors import SkysslError
from skyssl.models.checkpoints import file_sha256
from skyssl.models.moco import MoCo
from skyssl.store import Store
from skyssl.surveys import Survey
from skyssl.train import rundir
from skyssl.train.config import PretrainConfig, load_config

STATE_PREFIX = "moco."
"""Where :class:`~skyssl.train.module.PretrainModule` keeps its MoCo model in the Lightning state dict."""


def auto_device(device: str | torch.device | None = None) -> torch.device:
    """`device` as given, else CUDA when present, else the CPU (nothing assumes a GPU)."""
    if device is None or str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        chosen = torch.device(device)
    except RuntimeError:
        raise SkysslError(f"unknown device {str(device)!r}; use auto, cpu, cuda or cuda:N") from None
    if chosen.type == "cuda" and not torch.cuda.is_available():
        raise SkysslError(f"device {str(device)!r} asked for, but torch sees no CUDA GPU here")
    return chosen


@dataclass
class TrainedEncoder:
    """A run's MoCo model in eval mode with its evaluation view and provenance; see :func:`load_run`."""

    run_dir: Path
    checkpoint: Path
    checkpoint_sha256: str
    global_step: int
    config: PretrainConfig
    survey: Survey
    pipeline: AugmentPipeline
    moco: MoCo

    # --- description -----------------------------------------------------------------------------
    @property
    def device(self) -> torch.device:
        return next(self.moco.parameters()).device

    @property
    def bands(self) -> tuple[str, ...]:
        """The bands the stamps must hold, in order (the survey's; the pipeline may reorder them)."""
        return tuple(self.survey.bands)

    @property
    def representation_dim(self) -> int:
        return int(self.moco.out_dim)

    @property
    def projection_dim(self) -> int:
        return int(self.config.model.emb_dim)

    def dims(self, projection: bool = False) -> dict[str, int]:
        """Vector kinds and widths an extraction writes: the backbone, and the projection on request."""
        dims = {"backbone": self.representation_dim}
        if projection:
            dims["projection"] = self.projection_dim
        return dims

    def checkpoint_info(self) -> dict[str, Any]:
        """The manifest's `checkpoint` entry: which weights made the vectors."""
        return {"path": str(self.checkpoint.resolve()), "sha256": self.checkpoint_sha256,
                "run_dir": str(self.run_dir.resolve()), "global_step": self.global_step,
                "encoder": self.config.model.encoder, "small_stamp": self.config.model.small_stamp}

    def preprocessing_spec(self) -> dict[str, Any]:
        """The manifest's `preprocessing` entry: how a stored stamp became the network input."""
        augment = self.pipeline.config
        return {
            "view": "centre crop (AugmentPipeline.center_view)",
            "crop_px": self.pipeline.crop_px,
            "input_stretch": augment.input_stretch,
            "asinh_scale_nmgy": list(self.pipeline.asinh_scale_nmgy),
            "survey": self.survey.name,
            "bands": list(self.bands),
            "input_units": "nanomaggies per pixel",
            "training_augment_spec": augment.to_spec(),
            "training_augment": augment.model_dump(mode="json"),
            "backbone": "query encoder output before the projection head",
            "projection": "query projection head output, L2-normalised",
        }

    # --- checks ----------------------------------------------------------------------------------
    def check_stamps(self, n_bands: int, height_px: int, width_px: int, bands: tuple[str, ...] | None,
                     where: str) -> None:
        """Raise a one-line :class:`SkysslError` unless stamps of this shape can go through the model."""
        if n_bands != self.survey.n_bands or (bands is not None and tuple(bands) != self.bands):
            named = f" ({', '.join(bands)})" if bands else ""
            raise SkysslError(f"{where} holds {n_bands} bands{named} but the model of {self.run_dir} was trained "
                              f"on {self.survey.name} ({', '.join(self.bands)})")
        if min(height_px, width_px) < self.pipeline.crop_px:
            raise SkysslError(f"{where} holds {height_px}×{width_px} px stamps, smaller than the model's "
                              f"{self.pipeline.crop_px} px view")

    def check_store(self, store: Store) -> None:
        """The store's stamps fit the model: same bands, stamps at least as large as the view."""
        n_bands, height, width = store.image_shape
        self.check_stamps(n_bands, height, width, store.bands, str(store.path))

    # --- embedding -------------------------------------------------------------------------------
    def to(self, device: str | torch.device | None) -> TrainedEncoder:
        """Move the model to `device` ("auto"/None: CUDA when present); returns self."""
        self.moco.to(auto_device(device))
        return self

    @torch.inference_mode()
    def embed_views(self, views: torch.Tensor, projection: bool = False) -> dict[str, torch.Tensor]:
        """Network-ready views (B, C, crop, crop) → {"backbone": (B, D)[, "projection": (B, 128)]}.

        The projection reuses the backbone features (one encoder pass, as MoCo.project would redo it).
        """
        features = self.moco.representation(views.to(self.device, non_blocking=True))
        out = {"backbone": features}
        if projection:
            out["projection"] = torch.nn.functional.normalize(self.moco.head_q(features), dim=1)
        return out

    def embed_images(self, images_nmgy: torch.Tensor, projection: bool = False) -> dict[str, torch.Tensor]:
        """Stamps (B, C, H, W) in nmgy → vectors of their centre views (the evaluation view)."""
        images = images_nmgy.to(self.device, non_blocking=True)
        return self.embed_views(self.pipeline.center_view(images.float()), projection)


def _read_checkpoint(path: Path) -> dict[str, Any]:
    """The Lightning checkpoint as tensors and plain values (`weights_only`: unpickling runs no code)."""
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as exc:  # torch raises several kinds for a truncated or foreign file
        reason = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        raise SkysslError(f"{path} is not a readable skyssl checkpoint ({reason})") from None
    if not isinstance(checkpoint, dict) or not isinstance(checkpoint.get("state_dict"), dict):
        raise SkysslError(f"{path} is not a Lightning checkpoint (no state_dict)")
    return checkpoint


def _survey_of(checkpoint: dict[str, Any], config: PretrainConfig, path: Path) -> Survey:
    """The survey the run trained on: recorded by the module in the checkpoint (the config may say any)."""
    record = checkpoint.get("skyssl") or {}
    name = record.get("survey") or (checkpoint.get("hyper_parameters") or {}).get("survey_name") or config.survey
    if not name:
        raise SkysslError(f"{path} records no survey; it was not written by `skyssl pretrain`")
    return surveys.get(str(name))


def _load_moco(checkpoint: dict[str, Any], config: PretrainConfig, in_channels: int, path: Path) -> MoCo:
    """The run's MoCo model with the checkpoint's weights, strictly; eval mode, no gradients."""
    from skyssl.train.module import build_moco  # Lightning loads only when a model is actually built

    moco = build_moco(config, in_channels, world_size=1)
    state = {k[len(STATE_PREFIX):]: v for k, v in checkpoint["state_dict"].items() if k.startswith(STATE_PREFIX)}
    if not state:
        raise SkysslError(f"{path} holds no '{STATE_PREFIX}*' weights; it is not a skyssl pretraining checkpoint")
    try:
        moco.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()[1].strip() if len(str(exc).splitlines()) > 1 else str(exc)
        raise SkysslError(f"{path} does not fit the model its config.yaml describes: {first}") from None
    moco.eval().requires_grad_(False)
    return moco


def load_run(run_dir: str | Path, device: str | torch.device | None = "cpu") -> TrainedEncoder:
    """The trained encoder of a `skyssl pretrain` run dir (config.yaml + last.ckpt), on `device`.

    Every problem with the folder is a one-line :class:`SkysslError`: not a folder, not a run dir, no
    `last.ckpt`, an unreadable checkpoint, weights that do not fit the config.
    """
    run = Path(run_dir)
    if not run.is_dir():
        raise SkysslError(f"{run}: no such run dir (give the folder `skyssl pretrain --out` wrote)")
    config_path, checkpoint_path = run / rundir.CONFIG_FILE, run / rundir.LAST_CHECKPOINT
    if not config_path.is_file():
        raise SkysslError(f"{run} is not a skyssl run dir: no {rundir.CONFIG_FILE}")
    if not checkpoint_path.is_file():
        raise SkysslError(f"{run}: no {rundir.LAST_CHECKPOINT} (has the run saved a checkpoint yet?)")
    config = load_config(config_path)
    checkpoint = _read_checkpoint(checkpoint_path)
    survey = _survey_of(checkpoint, config, checkpoint_path)
    pipeline = AugmentPipeline(config.augment_config(), survey)
    moco = _load_moco(checkpoint, config, pipeline.output_channels, checkpoint_path)
    encoder = TrainedEncoder(run, checkpoint_path, file_sha256(checkpoint_path), int(checkpoint.get("global_step", 0)),
                             config, survey, pipeline, moco)
    return encoder.to(device)
