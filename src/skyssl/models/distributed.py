"""Collectives for MoCo under ``torch.distributed``: gather keys, and shuffle-BN across ranks.

Shuffle-BN (He et al. 2020, MoCo §3.3): with BatchNorm, "the intra-batch communication among samples
leaks information" — a query and its positive key computed in the same sub-batch share batch
statistics, and the model finds "a low-loss solution" through them instead of learning. MoCo therefore
shuffles the key batch across GPUs before the key encoder and unshuffles after, so a query's and its
key's BN statistics come from different samples. The recipe here follows the paper's description:
gather the global batch, draw one permutation on rank 0, broadcast it, and let each rank take its
slice; the inverse permutation restores the order.

Every rank must hold the same number of samples (``all_gather`` needs equal shapes); use
``drop_last=True`` in the loader. Outside an initialised process group of more than one rank these
functions are identities — which means *no* shuffle-BN on a single device; use
:class:`skyssl.models.split_bn.SplitBatchNorm2d` there.
"""

from __future__ import annotations

import torch
import torch.distributed as dist

__all__ = ["batch_shuffle_ddp", "batch_unshuffle_ddp", "concat_all_gather", "is_distributed"]


def is_distributed() -> bool:
    """True inside an initialised process group with more than one rank."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


@torch.no_grad()
def concat_all_gather(tensor: torch.Tensor) -> torch.Tensor:
    """Rank-ordered concatenation along dim 0 of ``tensor`` from every rank; no gradient flows back.

    Used to enqueue the keys of the global batch, so every rank's queue stays identical. Returns
    ``tensor`` unchanged when not distributed.
    """
    if not is_distributed():
        return tensor
    gathered = [torch.empty_like(tensor) for _ in range(dist.get_world_size())]
    dist.all_gather(gathered, tensor.contiguous())
    return torch.cat(gathered, dim=0)


@torch.no_grad()
def batch_shuffle_ddp(
    x: torch.Tensor, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """(this rank's slice of the globally shuffled batch, idx_unshuffle of the global batch).

    The permutation is drawn on rank 0 (with ``generator`` if given) and broadcast, so all ranks agree.
    Pass the returned ``idx_unshuffle`` to :func:`batch_unshuffle_ddp` with the encoder's output.
    When not distributed, returns ``x`` and ``arange(len(x))``.
    """
    if not is_distributed():
        return x, torch.arange(x.shape[0], device=x.device)
    x_all = concat_all_gather(x)
    world, rank = dist.get_world_size(), dist.get_rank()
    total = x_all.shape[0]
    if rank == 0:
        idx_shuffle = torch.randperm(total, generator=generator).to(x.device)
    else:
        idx_shuffle = torch.empty(total, dtype=torch.long, device=x.device)
    dist.broadcast(idx_shuffle, src=0)
    idx_unshuffle = torch.argsort(idx_shuffle)
    idx_this = idx_shuffle.view(world, -1)[rank]
    return x_all[idx_this], idx_unshuffle


@torch.no_grad()
def batch_unshuffle_ddp(x: torch.Tensor, idx_unshuffle: torch.Tensor) -> torch.Tensor:
    """Undo :func:`batch_shuffle_ddp`: this rank's rows of the global batch in their original order."""
    if not is_distributed():
        return x[idx_unshuffle]
    x_all = concat_all_gather(x)
    idx_this = idx_unshuffle.view(dist.get_world_size(), -1)[dist.get_rank()]
    return x_all[idx_this]
