"""The key encoder's momentum update: θ_k ← m θ_k + (1 − m) θ_q on parameters, buffers copied."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from skyssl.models.ema import momentum_update_


def pair() -> tuple[nn.Module, nn.Module]:
    torch.manual_seed(0)
    online = nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.Flatten(), nn.Linear(3, 2))
    target = copy.deepcopy(online)
    for p in target.parameters():
        p.data.normal_()
    online[1].running_mean.fill_(0.5)
    online[1].num_batches_tracked.fill_(7)
    return online, target


def test_m_zero_copies_online_exactly() -> None:
    online, target = pair()
    momentum_update_(online, target, 0.0)
    for a, b in zip(online.state_dict().values(), target.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_m_one_keeps_target_parameters_and_copies_buffers() -> None:
    online, target = pair()
    before = {k: v.clone() for k, v in target.named_parameters()}
    momentum_update_(online, target, 1.0)
    for name, param in target.named_parameters():
        assert torch.equal(param, before[name])
    assert torch.equal(target[1].running_mean, torch.full((3,), 0.5))
    assert int(target[1].num_batches_tracked) == 7


def test_intermediate_m_is_the_weighted_average() -> None:
    online, target = pair()
    expected = {
        k: 0.9 * t + 0.1 * o for (k, t), o in zip(target.named_parameters(), online.parameters(), strict=True)
    }
    momentum_update_(online, target, 0.9)
    for name, param in target.named_parameters():
        torch.testing.assert_close(param, expected[name].detach())


def test_structure_and_range_are_checked() -> None:
    online, target = pair()
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        momentum_update_(online, target, 1.5)
    with pytest.raises(ValueError, match="structure"):
        momentum_update_(online, nn.Linear(3, 2), 0.5)
