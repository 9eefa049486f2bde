"""Split BatchNorm: shuffle-BN's protection on a single device.

On one GPU (or a CPU) MoCo's shuffle-BN does nothing (formats §6.2: "a single GPU has no shuffle-BN, a
known MoCo pitfall"; moco issues #47, #133): queries and keys are normalised with statistics of the same
whole batch, and the model can lower the loss by exploiting them rather than the images. Split-BN
emulates a multi-GPU run: in training each BatchNorm normalises ``num_splits`` disjoint sub-batches
separately, as ``num_splits`` GPUs without SyncBN would. Combined with a random permutation of the key
batch before the key encoder (MoCo's ``shuffle="split_bn"``), a query and its positive key sit in
different sub-batches — the situation shuffle-BN creates across GPUs.

Split ``s`` holds samples ``s, s + S, s + 2S, …`` (S = num_splits): the batch is viewed, without a copy,
as (B/S, S·C, H, W) and normalised as S·C channels. Running statistics are updated per split and then
averaged over the splits; in eval mode the layer is an ordinary BatchNorm2d on those statistics. The
parameter and buffer names are BatchNorm2d's, so state dicts move freely between the two.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from skyssl.errors import SkysslError

__all__ = ["SplitBatchNorm2d", "convert_to_split_bn"]


class SplitBatchNorm2d(nn.BatchNorm2d):
    """BatchNorm2d whose training-mode statistics are computed over ``num_splits`` interleaved sub-batches.

    The batch size must be a multiple of ``num_splits`` in training (drop the last incomplete batch).
    With ``num_splits = 1`` it is exactly ``nn.BatchNorm2d``.
    """

    def __init__(self, num_features: int, num_splits: int, **bn_kwargs) -> None:
        super().__init__(num_features, **bn_kwargs)
        if num_splits < 1:
            raise SkysslError(f"num_splits must be a positive integer, got {num_splits}")
        self.num_splits = num_splits

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.num_splits == 1:
            return super().forward(x)
        self._check_input_dim(x)
        n, c, h, w = x.shape
        splits = self.num_splits
        if n % splits:
            raise SkysslError(
                f"split BatchNorm needs a batch size divisible by num_splits={splits}, got {n}; "
                "use a batch size that is a multiple of it and drop the last incomplete batch"
            )
        factor = self._average_factor()
        running_mean = running_var = None
        if self.track_running_stats:
            running_mean = self.running_mean.repeat(splits)
            running_var = self.running_var.repeat(splits)
        weight = self.weight.repeat(splits) if self.affine else None
        bias = self.bias.repeat(splits) if self.affine else None
        out = F.batch_norm(
            x.reshape(n // splits, c * splits, h, w),
            running_mean,
            running_var,
            weight,
            bias,
            True,
            factor,
            self.eps,
        )
        if running_mean is not None and running_var is not None:
            with torch.no_grad():
                self.running_mean.copy_(running_mean.view(splits, c).mean(dim=0))
                self.running_var.copy_(running_var.view(splits, c).mean(dim=0))
        return out.view(n, c, h, w)

    def _average_factor(self) -> float:
        """The running-statistics momentum for this step, counting the step as BatchNorm does."""
        if not self.track_running_stats or self.num_batches_tracked is None:
            return 0.0 if self.momentum is None else self.momentum
        self.num_batches_tracked.add_(1)
        if self.momentum is None:  # cumulative moving average
            return 1.0 / float(self.num_batches_tracked)
        return self.momentum

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, num_splits={self.num_splits}"


def convert_to_split_bn(module: nn.Module, num_splits: int) -> nn.Module:
    """Replace every ``nn.BatchNorm2d`` in ``module`` by a :class:`SplitBatchNorm2d` with the same state.

    Works in place on children and returns the module (a new one if ``module`` is itself a BatchNorm2d),
    like ``nn.SyncBatchNorm.convert_sync_batchnorm``; layers already split take the new ``num_splits``. Weights, biases, running statistics and settings
    are carried over, so the converted model computes the same function in eval mode.
    """
    if isinstance(module, SplitBatchNorm2d):
        module.num_splits = num_splits
        return module
    if isinstance(module, nn.BatchNorm2d):
        split = SplitBatchNorm2d(
            module.num_features,
            num_splits,
            eps=module.eps,
            momentum=module.momentum,
            affine=module.affine,
            track_running_stats=module.track_running_stats,
        )
        like = module.weight if module.affine else module.running_mean
        if like is not None:
            split.to(device=like.device, dtype=like.dtype)
        split.load_state_dict(module.state_dict())
        split.train(module.training)
        if module.affine:
            split.weight.requires_grad_(module.weight.requires_grad)
            split.bias.requires_grad_(module.bias.requires_grad)
        return split
    for name, child in module.named_children():
        converted = convert_to_split_bn(child, num_splits)
        if converted is not child:
            setattr(module, name, converted)
    return module
