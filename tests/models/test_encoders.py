"""Encoders by name: output widths, the small-stamp stem's spatial sizes, any band count, errors."""

from __future__ import annotations

import pytest
import torch
import torchvision
from torch import nn

from skyssl.errors import SkysslError
from skyssl.models.encoders import ENCODER_NAMES, Encoder, build_encoder


def stage_sizes(encoder: nn.Module, x: torch.Tensor) -> dict[str, tuple[int, ...]]:
    """Output shape of layer1..layer4, recorded with forward hooks."""
    shapes: dict[str, tuple[int, ...]] = {}
    handles = [
        getattr(encoder, name).register_forward_hook(
            lambda _m, _i, out, name=name: shapes.__setitem__(name, tuple(out.shape))
        )
        for name in ("layer1", "layer2", "layer3", "layer4")
    ]
    with torch.no_grad():
        encoder.eval()(x)
    for handle in handles:
        handle.remove()
    return shapes


@pytest.mark.parametrize(
    ("name", "in_channels", "size_px", "out_dim"),
    [("small", 1, 32, 256), ("small", 5, 40, 256), ("resnet18", 5, 32, 512), ("resnet34", 1, 16, 512)],
)
def test_output_is_pooled_features_of_out_dim(
    name: str, in_channels: int, size_px: int, out_dim: int
) -> None:
    encoder = build_encoder(name, in_channels)
    assert isinstance(encoder, Encoder)
    assert encoder.out_dim == out_dim
    with torch.no_grad():
        features = encoder.eval()(torch.randn(2, in_channels, size_px, size_px))
    assert features.shape == (2, out_dim)


def test_resnet50_small_stamp_runs_stages_at_64_32_16_8_px() -> None:
    """Hayat et al.: with a 64-px stamp layer4 outputs 8×8×2048 (stride-1 conv1, no max-pool)."""
    encoder = build_encoder("resnet50", 5, small_stamp=True)
    assert encoder.conv1.stride == (1, 1) and encoder.conv1.kernel_size == (7, 7)
    assert encoder.conv1.padding == (3, 3) and encoder.conv1.in_channels == 5
    assert isinstance(encoder.maxpool, nn.Identity) and isinstance(encoder.fc, nn.Identity)
    assert encoder.out_dim == 2048
    shapes = stage_sizes(encoder, torch.randn(1, 5, 64, 64))
    assert shapes == {
        "layer1": (1, 256, 64, 64),
        "layer2": (1, 512, 32, 32),
        "layer3": (1, 1024, 16, 16),
        "layer4": (1, 2048, 8, 8),
    }


def test_torchvision_stem_downsamples_by_4_before_layer1() -> None:
    encoder = build_encoder("resnet18", 3, small_stamp=False)
    assert encoder.conv1.stride == (2, 2) and isinstance(encoder.maxpool, nn.MaxPool2d)
    shapes = stage_sizes(encoder, torch.randn(1, 3, 64, 64))
    assert shapes["layer1"][2:] == (16, 16) and shapes["layer4"] == (1, 512, 2, 2)


def test_torchvision_stem_with_other_band_count_keeps_stride_2() -> None:
    encoder = build_encoder("resnet18", 4, small_stamp=False)
    assert encoder.conv1.in_channels == 4 and encoder.conv1.stride == (2, 2)


def test_resnet_parameter_names_are_torchvision_names_without_fc() -> None:
    """So that published checkpoints map key for key."""
    ours = build_encoder("resnet18", 3, small_stamp=False).state_dict()
    reference = torchvision.models.resnet18(weights=None).state_dict()
    assert set(ours) == {k for k in reference if not k.startswith("fc.")}
    assert all(ours[k].shape == reference[k].shape for k in ours)


def test_small_encoder_is_small_and_fast_shaped() -> None:
    encoder = build_encoder("small", 3)
    n_params = sum(p.numel() for p in encoder.parameters())
    assert 1_000_000 <= n_params <= 2_000_000
    assert any(isinstance(m, nn.BatchNorm2d) for m in encoder.modules())
    shapes = stage_sizes(encoder, torch.randn(1, 3, 96, 96))
    assert shapes["layer1"][2:] == (24, 24) and shapes["layer4"] == (1, 256, 3, 3)


def test_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(SkysslError) as error:
        build_encoder("vit_b_16", 3)
    assert all(name in str(error.value) for name in ENCODER_NAMES)


def test_bad_band_count_and_small_without_small_stamp_are_errors() -> None:
    with pytest.raises(SkysslError, match="in_channels"):
        build_encoder("resnet18", 0)
    with pytest.raises(SkysslError, match="small-stamp"):
        build_encoder("small", 3, small_stamp=False)


def test_heads_named_like_moco_mlp_fc() -> None:
    from skyssl.models.heads import ProjectionHead

    head = ProjectionHead(512)
    assert [k for k in head.state_dict()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert head(torch.randn(4, 512)).shape == (4, 128)
    assert head[0].out_features == 512 and isinstance(head[1], nn.ReLU)
    narrow = ProjectionHead(256, hidden_dim=64, out_dim=32)
    assert (narrow.in_dim, narrow.hidden_dim, narrow.out_dim) == (256, 64, 32)
    assert narrow[2].weight.shape == (32, 64)
