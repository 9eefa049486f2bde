"""The encoder contract every backbone in :mod:`skyssl.models` satisfies.

An encoder maps a batch of cutouts (B, C, H, W) to representations (B, out_dim): globally average
pooled, with no classification or projection layer, because MoCo takes its representation *before*
the projection head (formats §6.1) and every downstream layer (embed, search, mining) consumes it.
"""

from __future__ import annotations

from torch import nn


class Encoder(nn.Module):
    """Base class: an ``nn.Module`` with ``out_dim`` whose forward returns (B, out_dim) features."""

    out_dim: int
