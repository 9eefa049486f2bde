"""MoCo v2: a query encoder trained against a momentum key encoder and a queue of negatives.

He et al. 2020 (MoCo) with the v2 changes of Chen et al. 2020: MLP projection head, τ = 0.2, stronger
augmentation (the latter lives in :mod:`skyssl.augment`). Paper defaults, which are this module's:
K = 65,536 keys, m = 0.999, τ = 0.2, a 128-d output from a Linear–ReLU–Linear head (formats §6.2). The
parts are small and tested separately and re-exported here:

- :func:`info_nce_logits`, :func:`info_nce_loss` — the loss (:mod:`skyssl.models.infonce`);
- :func:`momentum_update_` — the key-encoder EMA (:mod:`skyssl.models.ema`);
- :class:`KeyQueue` — the FIFO dictionary of keys (:mod:`skyssl.models.queue`);
- :func:`concat_all_gather`, :func:`batch_shuffle_ddp`, :func:`batch_unshuffle_ddp` — collectives and
  shuffle-BN across ranks (:mod:`skyssl.models.distributed`);
- :class:`SplitBatchNorm2d`, :func:`convert_to_split_bn` — shuffle-BN's emulation on one device
  (:mod:`skyssl.models.split_bn`).

:class:`MoCo` composes them. It is plain PyTorch; Lightning, optimisers and schedules stay in
:mod:`skyssl.train`.
"""

from __future__ import annotations

import copy
import warnings
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from skyssl.errors import SkysslError
from skyssl.models.distributed import (
    batch_shuffle_ddp,
    batch_unshuffle_ddp,
    concat_all_gather,
    is_distributed,
)
from skyssl.models.ema import momentum_update_
from skyssl.models.heads import ProjectionHead
from skyssl.models.infonce import info_nce_logits, info_nce_loss
from skyssl.models.queue import KeyQueue
from skyssl.models.split_bn import SplitBatchNorm2d, convert_to_split_bn

__all__ = [
    "SHUFFLE_MODES",
    "KeyQueue",
    "MoCo",
    "SplitBatchNorm2d",
    "batch_shuffle_ddp",
    "batch_unshuffle_ddp",
    "concat_all_gather",
    "convert_to_split_bn",
    "info_nce_logits",
    "info_nce_loss",
    "momentum_update_",
]

ShuffleMode = Literal["ddp", "split_bn", "none"]
SHUFFLE_MODES: tuple[str, ...] = ("ddp", "split_bn", "none")
"""How the key encoder is kept from exploiting BatchNorm statistics (see :class:`MoCo`)."""


class MoCo(nn.Module):
    """MoCo v2 around any encoder with ``out_dim``; state-dict keys ``encoder_q.*``, ``head_q.*``,
    ``encoder_k.*``, ``head_k.*``, ``queue.keys``, ``queue.ptr``.

    ``encoder`` becomes ``encoder_q`` (owned, converted in place for ``split_bn``); ``encoder_k`` and
    the heads' key copy are deep copies with ``requires_grad=False``, updated only by the EMA.

    ``shuffle`` chooses the defence against the BatchNorm shortcut (MoCo §3.3):

    - ``"ddp"`` — shuffle-BN across ranks as in the paper. Without an initialised process group of more
      than one rank it does nothing, and a warning says so once;
    - ``"split_bn"`` — every BatchNorm2d in both encoders becomes a :class:`SplitBatchNorm2d` over
      ``num_splits`` sub-batches and the key batch is permuted on the device, emulating ``num_splits``
      GPUs (8, as in the paper's runs, by default). The per-device batch must divide by ``num_splits``;
    - ``"none"`` — no defence (e.g. for encoders without BatchNorm).

    ``momentum`` and ``temperature`` are plain attributes, so a schedule may change them between steps.
    """

    def __init__(
        self,
        encoder: nn.Module,
        head_hidden_dim: int | None = None,
        emb_dim: int = 128,
        queue_size: int = 65536,
        momentum: float = 0.999,
        temperature: float = 0.2,
        shuffle: ShuffleMode = "ddp",
        num_splits: int = 8,
    ) -> None:
        super().__init__()
        _check_settings(encoder, emb_dim, queue_size, momentum, temperature, shuffle, num_splits)
        self.momentum = momentum
        self.temperature = temperature
        self.shuffle = shuffle
        self.num_splits = num_splits
        self._warned_no_shuffle = False
        self.encoder_q = convert_to_split_bn(encoder, num_splits) if shuffle == "split_bn" else encoder
        self.head_q = ProjectionHead(encoder.out_dim, head_hidden_dim, emb_dim)
        self.encoder_k = copy.deepcopy(self.encoder_q).requires_grad_(False)
        self.head_k = copy.deepcopy(self.head_q).requires_grad_(False)
        self.queue = KeyQueue(emb_dim, queue_size)

    @property
    def out_dim(self) -> int:
        """Width of :meth:`representation` (the encoder's, before the head)."""
        return self.encoder_q.out_dim

    def representation(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) → (B, out_dim): the query encoder's features, before the head — what is embedded.

        The caller sets eval mode and ``no_grad`` as needed.
        """
        return self.encoder_q(x)

    def project(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) → (B, emb_dim): L2-normalised output of the query head (the contrastive space)."""
        return F.normalize(self.head_q(self.encoder_q(x)), dim=1)

    def forward(self, view_q: torch.Tensor, view_k: torch.Tensor) -> dict[str, torch.Tensor]:
        """One MoCo step on two augmented views of the same batch → dict(loss, logits, labels, acc1).

        In training mode: queries from ``view_q``; then without gradients the key encoder takes its
        momentum step, keys are computed from ``view_k`` (shuffled per ``shuffle``), the loss is the
        InfoNCE of queries against their keys and a snapshot of the queue, and the keys of the global
        batch are enqueued. In eval mode the key encoder and queue are left untouched, so a validation
        loss has no side effects. ``acc1`` is the fraction of queries whose positive key scores highest
        (MoCo's logs print it ×100).
        """
        q = self.project(view_q)
        with torch.no_grad():
            if self.training:
                momentum_update_(self.encoder_q, self.encoder_k, self.momentum)
                momentum_update_(self.head_q, self.head_k, self.momentum)
            k = self._keys(view_k)
        # float32 even under autocast: with τ = 0.2 the logits span ±5, where bf16 resolves only ~0.03.
        with torch.autocast(device_type=q.device.type, enabled=False):
            logits, labels = info_nce_logits(
                q.float(), k.float(), self.queue.snapshot().float(), self.temperature
            )
            loss = F.cross_entropy(logits, labels)
        with torch.no_grad():
            acc1 = (logits.argmax(dim=1) == labels).float().mean()
            if self.training:
                self.queue.enqueue(concat_all_gather(k))
        return {"loss": loss, "logits": logits, "labels": labels, "acc1": acc1}

    def _keys(self, view_k: torch.Tensor) -> torch.Tensor:
        """L2-normalised keys (B, emb_dim) in the order of ``view_k``, computed with the chosen shuffle."""
        if self.shuffle == "ddp":
            if not is_distributed():
                self._warn_no_shuffle()
            shuffled, idx_unshuffle = batch_shuffle_ddp(view_k)
            return batch_unshuffle_ddp(self._encode_k(shuffled), idx_unshuffle)
        if self.shuffle == "split_bn":
            perm = torch.randperm(view_k.shape[0], device=view_k.device)
            return self._encode_k(view_k[perm])[torch.argsort(perm)]
        return self._encode_k(view_k)

    def _encode_k(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.head_k(self.encoder_k(x)), dim=1)

    def _warn_no_shuffle(self) -> None:
        if self.training and not self._warned_no_shuffle:
            self._warned_no_shuffle = True
            warnings.warn(
                "MoCo shuffle='ddp' outside a multi-rank process group: no shuffle-BN, so the model can "
                "cheat through BatchNorm statistics; use shuffle='split_bn' on a single device",
                RuntimeWarning,
                stacklevel=3,
            )


def _check_settings(
    encoder: nn.Module,
    emb_dim: int,
    queue_size: int,
    momentum: float,
    temperature: float,
    shuffle: str,
    num_splits: int,
) -> None:
    """Fail at construction, with one line naming the setting, rather than at step one or hour three."""
    if not isinstance(getattr(encoder, "out_dim", None), int):
        raise SkysslError("MoCo needs an encoder with an integer `out_dim` (see skyssl.models.encoders)")
    if shuffle not in SHUFFLE_MODES:
        raise SkysslError(f"unknown MoCo shuffle {shuffle!r}; choose one of: {', '.join(SHUFFLE_MODES)}")
    if emb_dim < 1 or queue_size < 1 or num_splits < 1:
        raise SkysslError(
            f"MoCo emb_dim, queue_size and num_splits must be positive, got {emb_dim}, {queue_size}, "
            f"{num_splits}"
        )
    if not 0.0 <= momentum <= 1.0:
        raise SkysslError(f"MoCo momentum must be in [0, 1], got {momentum}")
    if not temperature > 0.0:
        raise SkysslError(f"MoCo temperature must be positive, got {temperature}")
