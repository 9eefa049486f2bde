"""Encoders, projection heads, MoCo v2 and checkpoint I/O (plain PyTorch; Lightning lives in skyssl.train).

- :mod:`skyssl.models.encoders` — :func:`build_encoder` by name: torchvision ResNet18/34/50 with the
  small-stamp stem and any band count, and the fast ``"small"`` CPU encoder;
- :mod:`skyssl.models.heads` — the MoCo v2 :class:`ProjectionHead`;
- :mod:`skyssl.models.moco` — :class:`MoCo` and its parts (loss, EMA, queue, shuffle-BN, split-BN);
- :mod:`skyssl.models.checkpoints` — :func:`load_encoder_weights` for the published key layouts.

The names below are imported on first use, so importing one submodule (say the MoCo parts in a
spawned worker) does not pay for torchvision.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from skyssl.models.base import Encoder
    from skyssl.models.checkpoints import LoadReport, load_encoder_weights
    from skyssl.models.encoders import ENCODER_NAMES, build_encoder
    from skyssl.models.heads import ProjectionHead
    from skyssl.models.moco import MoCo

_EXPORTS = {
    "ENCODER_NAMES": "skyssl.models.encoders",
    "Encoder": "skyssl.models.base",
    "LoadReport": "skyssl.models.checkpoints",
    "MoCo": "skyssl.models.moco",
    "ProjectionHead": "skyssl.models.heads",
    "build_encoder": "skyssl.models.encoders",
    "load_encoder_weights": "skyssl.models.checkpoints",
}

__all__ = [
    "ENCODER_NAMES",
    "Encoder",
    "LoadReport",
    "MoCo",
    "ProjectionHead",
    "build_encoder",
    "load_encoder_weights",
]


def __getattr__(name: str) -> object:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'skyssl.models' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
