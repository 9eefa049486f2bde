"""SplitBatchNorm2d: per-split statistics by hand, plain BN with one split, eval on running stats."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from skyssl.errors import SkysslError
from skyssl.models.encoders import build_encoder
from skyssl.models.split_bn import SplitBatchNorm2d, convert_to_split_bn


def affine_bn(num_splits: int, channels: int = 3) -> SplitBatchNorm2d:
    layer = SplitBatchNorm2d(channels, num_splits, momentum=0.1)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([1.5, 0.5, 2.0])[:channels])
        layer.bias.copy_(torch.tensor([0.1, -0.2, 0.3])[:channels])
        layer.running_mean.fill_(0.2)
        layer.running_var.fill_(2.0)
    return layer


def test_training_output_and_running_stats_equal_bn_over_each_split_by_hand() -> None:
    torch.manual_seed(1)
    x = torch.randn(8, 3, 5, 4, dtype=torch.float64) * 3 + 1
    layer = affine_bn(num_splits=4).double()
    out = layer(x)
    means, variances = [], []
    for s in range(4):
        part = x[s::4]  # split s holds samples s, s + 4
        mean = part.mean(dim=(0, 2, 3))
        var = part.var(dim=(0, 2, 3), unbiased=False)
        normed = (part - mean[None, :, None, None]) / torch.sqrt(var[None, :, None, None] + layer.eps)
        expected = normed * layer.weight[None, :, None, None] + layer.bias[None, :, None, None]
        torch.testing.assert_close(out[s::4], expected)
        means.append(mean)
        n = part.numel() / part.shape[1]
        variances.append(var * n / (n - 1))
    torch.testing.assert_close(layer.running_mean, 0.9 * 0.2 + 0.1 * torch.stack(means).mean(0))
    torch.testing.assert_close(layer.running_var, 0.9 * 2.0 + 0.1 * torch.stack(variances).mean(0))
    assert int(layer.num_batches_tracked) == 1


def test_one_split_equals_plain_batchnorm_in_values_gradients_and_state() -> None:
    torch.manual_seed(2)
    x = torch.randn(6, 3, 4, 4)
    plain = nn.BatchNorm2d(3)
    split = convert_to_split_bn(nn.Sequential(plain), 1)[0]
    reference = nn.BatchNorm2d(3)
    x1, x2 = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    (split(x1) ** 2).sum().backward()
    (reference(x2) ** 2).sum().backward()
    torch.testing.assert_close(x1.grad, x2.grad)
    for a, b in zip(split.state_dict().values(), reference.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b)


def test_gradients_flow_to_affine_parameters_per_split() -> None:
    x = torch.randn(4, 3, 2, 2)
    layer = affine_bn(num_splits=2)
    layer(x).sum().backward()
    assert layer.weight.grad is not None and layer.bias.grad is not None
    torch.testing.assert_close(layer.bias.grad, torch.full((3,), 16.0))


def test_eval_mode_uses_running_statistics() -> None:
    x = torch.randn(6, 3, 2, 2)
    layer = affine_bn(num_splits=3).eval()
    expected = (x - 0.2) / torch.sqrt(torch.tensor(2.0) + layer.eps)
    expected = expected * layer.weight[None, :, None, None] + layer.bias[None, :, None, None]
    torch.testing.assert_close(layer(x), expected.detach())
    torch.testing.assert_close(layer(x[:1]), expected[:1].detach())  # any batch size in eval


def test_batch_not_divisible_by_splits_is_a_clear_error() -> None:
    with pytest.raises(SkysslError, match="divisible by num_splits=4"):
        affine_bn(num_splits=4)(torch.randn(6, 3, 2, 2))


def test_convert_keeps_state_names_and_eval_function() -> None:
    torch.manual_seed(3)
    encoder = build_encoder("small", 2)
    encoder.train()(torch.randn(8, 2, 32, 32))  # non-trivial running statistics
    encoder.eval()
    x = torch.randn(2, 2, 32, 32)
    with torch.no_grad():
        before = encoder(x)
    state = {k: v.clone() for k, v in encoder.state_dict().items()}
    converted = convert_to_split_bn(encoder, 4)
    n_bn = sum(isinstance(m, nn.BatchNorm2d) for m in converted.modules())
    assert n_bn == sum(isinstance(m, SplitBatchNorm2d) for m in converted.modules()) > 0
    assert all(m.num_splits == 4 for m in converted.modules() if isinstance(m, SplitBatchNorm2d))
    assert not converted.training
    after = converted.state_dict()
    assert list(after) == list(state) and all(torch.equal(after[k], state[k]) for k in state)
    with torch.no_grad():
        torch.testing.assert_close(converted(x), before)
