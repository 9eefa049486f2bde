"""Encoders by name: torchvision ResNets for any band count, with the small-stamp stem, and a fast CPU net.

Two stems, because two published model families use them (formats §3, §6.1):

- ``small_stamp=True`` (default) — Hayat et al.'s ``models/resnet.py``: the 7×7 conv1 keeps its kernel
  and padding 3 but runs at **stride 1**, and the max-pool is removed. A 64-px SDSS stamp then reaches
  layer1–4 at 64/32/16/8 px (layer4 8×8×2048 for ResNet50) instead of 16/8/4/2 px, which is what lets a
  ResNet see structure in a galaxy only tens of pixels across — at ~16× the spatial cost.
- ``small_stamp=False`` — the unmodified torchvision stem (7×7 stride 2 + 3×3/2 max-pool), the layout of
  Stein et al.'s Lightning checkpoints (3-channel g, r, z input), so those weights load as trained.

In both cases conv1 takes ``in_channels`` bands (5 for SDSS ugriz, 3 for DR9 grz, anything else), the
final ``fc`` is an Identity and ``forward`` returns the global-average-pooled (B, out_dim) features.
Parameter names are torchvision's (``conv1.weight``, ``layer4.2.bn3.running_var``…), so checkpoints of
either family map onto these modules key for key (:mod:`skyssl.models.checkpoints`).
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet

from skyssl.errors import SkysslError
from skyssl.models.base import Encoder
from skyssl.models.smallnet import SmallResNet

__all__ = ["ENCODER_NAMES", "Encoder", "ResNetEncoder", "SmallResNet", "build_encoder"]

_RESNET_SPECS: dict[str, tuple[type[BasicBlock] | type[Bottleneck], list[int]]] = {
    "resnet18": (BasicBlock, [2, 2, 2, 2]),
    "resnet34": (BasicBlock, [3, 4, 6, 3]),
    "resnet50": (Bottleneck, [3, 4, 6, 3]),
}


class ResNetEncoder(ResNet, Encoder):
    """A torchvision ResNet (weights=None) with ``in_channels`` input bands and no ``fc``.

    ``small_stamp`` selects Hayat's stride-1, max-pool-free stem; otherwise the stem is torchvision's.
    ``out_dim`` is 512 for BasicBlock ResNets (18, 34) and 2048 for Bottleneck ones (50).
    """

    def __init__(
        self,
        block: type[BasicBlock] | type[Bottleneck],
        layers: list[int],
        in_channels: int,
        small_stamp: bool = True,
    ) -> None:
        super().__init__(block, layers)
        self.out_dim = 512 * block.expansion
        self.small_stamp = small_stamp
        if small_stamp or in_channels != 3:
            stride = 1 if small_stamp else 2
            self.conv1 = nn.Conv2d(in_channels, 64, kernel_size=7, stride=stride, padding=3, bias=False)
            # torchvision initialises convolutions in ResNet.__init__; the replacement must match.
            nn.init.kaiming_normal_(self.conv1.weight, mode="fan_out", nonlinearity="relu")
        if small_stamp:
            self.maxpool = nn.Identity()
        self.fc = nn.Identity()


def _resnet_builder(name: str) -> Callable[[int, bool], Encoder]:
    block, layers = _RESNET_SPECS[name]

    def build(in_channels: int, small_stamp: bool) -> Encoder:
        return ResNetEncoder(block, layers, in_channels, small_stamp)

    return build


def _build_small(in_channels: int, small_stamp: bool) -> Encoder:
    if not small_stamp:
        raise SkysslError(
            "the 'small' encoder has only a small-stamp stem; small_stamp=False applies to the "
            "torchvision ResNets (resnet18, resnet34, resnet50)"
        )
    return SmallResNet(in_channels)


_BUILDERS: dict[str, Callable[[int, bool], Encoder]] = {
    "small": _build_small,
    **{name: _resnet_builder(name) for name in _RESNET_SPECS},
}

ENCODER_NAMES: tuple[str, ...] = tuple(_BUILDERS)
"""Every name :func:`build_encoder` accepts."""


def build_encoder(name: str, in_channels: int, small_stamp: bool = True) -> Encoder:
    """A randomly initialised encoder mapping (B, in_channels, H, W) to (B, encoder.out_dim).

    ``name`` is one of :data:`ENCODER_NAMES`: ``"resnet50"`` (2048-d, the papers' backbone),
    ``"resnet34"``/``"resnet18"`` (512-d) or ``"small"`` (256-d, for CPU runs). ``small_stamp`` picks
    the stride-1 stem without max-pool (Hayat et al.) or, when False, torchvision's own stem (Stein et
    al.'s checkpoints). Raises :class:`SkysslError` for an unknown name or a non-positive band count.
    """
    if name not in _BUILDERS:
        raise SkysslError(f"unknown encoder {name!r}; choose one of: {', '.join(ENCODER_NAMES)}")
    if isinstance(in_channels, bool) or not isinstance(in_channels, int) or in_channels < 1:
        raise SkysslError(f"in_channels must be a positive integer, got {in_channels!r}")
    return _BUILDERS[name](in_channels, small_stamp)
