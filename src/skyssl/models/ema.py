"""The momentum (exponential moving average) update of MoCo's key encoder.

He et al. 2020 (MoCo, eq. 2): θ_k ← m θ_k + (1 − m) θ_q, "m = 0.999 works much better than 0.9",
because a slowly evolving key encoder keeps the keys in the queue consistent with each other. MoCo v2
keeps m = 0.999; the DR9 run used 0.996 (formats §6.2).
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["momentum_update_"]


@torch.no_grad()
def momentum_update_(online: nn.Module, target: nn.Module, m: float) -> None:
    """In place: every parameter of ``target`` ← m·target + (1 − m)·online; every buffer copied.

    ``m = 1`` leaves the target unchanged and ``m = 0`` copies the online weights exactly (``lerp`` is
    exact at both ends). Buffers (BatchNorm running statistics and counters) are copied rather than
    averaged: during training the key encoder normalises with batch statistics, so its running
    statistics matter only when it is evaluated, and then they should describe the weights it was
    averaged towards. The two modules must have the same parameter and buffer names and shapes.
    """
    if not 0.0 <= m <= 1.0:
        raise ValueError(f"momentum m must be in [0, 1], got {m}")
    online_params = dict(online.named_parameters())
    target_params = dict(target.named_parameters())
    online_buffers = dict(online.named_buffers())
    target_buffers = dict(target.named_buffers())
    if online_params.keys() != target_params.keys() or online_buffers.keys() != target_buffers.keys():
        raise ValueError("online and target modules differ in structure: parameter or buffer names")
    names = list(target_params)
    if names:
        torch._foreach_lerp_(
            [target_params[n].data for n in names], [online_params[n].data for n in names], 1.0 - m
        )
    for name, buffer in target_buffers.items():
        buffer.copy_(online_buffers[name])
