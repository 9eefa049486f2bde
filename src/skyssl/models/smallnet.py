"""A small residual CNN that trains on a laptop CPU.

The torchvision ResNet50 with the small-stamp stem costs 23.6 GFLOP per 96-px cutout (formats §6.1),
right for a GPU cluster and hopeless on two CPU cores. `SmallResNet` keeps what matters for contrastive
learning on galaxy stamps — residual blocks, BatchNorm (so shuffle-BN and split-BN apply unchanged),
global average pooling — at 1.2 M parameters and 0.076 GFLOP per 96-px cutout (~300× less):

    stem   3×3 conv, stride 2, in→32          96 px → 48 px
    stage1 BasicBlock 32→32,   stride 2       24 px
    stage2 BasicBlock 32→64,   stride 2       12 px
    stage3 BasicBlock 64→128,  stride 2        6 px
    stage4 BasicBlock 128→256, stride 2        3 px
    global average pool → 256-d

Every stage costs about the same (~8 M multiply-adds at 96 px); with a stride-1 first stage (every stage
at twice the resolution) the same widths would cost ~4× more. CPU throughput follows the FLOPs: at ~20 GFLOP/s on two cores a MoCo step of 64 cutouts
(query forward and backward plus key forward, ≈ 4 forward passes) takes ~1 s. Stamps of 32–152 px work;
a 64-px stamp ends at 2×2.
"""

from __future__ import annotations

import torch
from torch import nn

from skyssl.models.base import Encoder

SMALL_WIDTHS = (32, 64, 128, 256)
"""Channel widths of the four stages; the last one is the representation size."""


class BasicBlock(nn.Module):
    """Two 3×3 conv–BN layers with an identity (or 1×1 conv–BN projection) shortcut (He et al. 2016)."""

    def __init__(self, in_width: int, out_width: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_width, out_width, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_width)
        self.conv2 = nn.Conv2d(out_width, out_width, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_width)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_width != out_width:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_width, out_width, 1, stride=stride, bias=False), nn.BatchNorm2d(out_width)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


class SmallResNet(Encoder):
    """(B, in_channels, H, W) → (B, 256): the fast CPU encoder registered as ``"small"``.

    Five stride-2 steps (÷32): a 96-px stamp reaches layer4 at 3×3; 64–96 px is the intended range.
    """

    def __init__(self, in_channels: int, widths: tuple[int, int, int, int] = SMALL_WIDTHS) -> None:
        super().__init__()
        self.out_dim = widths[-1]
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, widths[0], 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(inplace=True),
        )
        self.layer1 = BasicBlock(widths[0], widths[0], stride=2)
        self.layer2 = BasicBlock(widths[0], widths[1], stride=2)
        self.layer3 = BasicBlock(widths[1], widths[2], stride=2)
        self.layer4 = BasicBlock(widths[2], widths[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        _init_like_torchvision(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return torch.flatten(self.avgpool(x), 1)


def _init_like_torchvision(module: nn.Module) -> None:
    """Kaiming-normal (fan_out, ReLU) convolutions and unit/zero BatchNorm, as torchvision's ResNet does."""
    for layer in module.modules():
        if isinstance(layer, nn.Conv2d):
            nn.init.kaiming_normal_(layer.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(layer, nn.BatchNorm2d):
            nn.init.ones_(layer.weight)
            nn.init.zeros_(layer.bias)
