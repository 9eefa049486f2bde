"""The label-free monitor: can the representation find an object again after augmenting it?

MoCo's own loss and positive-pair accuracy are measured against a moving queue and a moving key
encoder, so they are poor progress bars. This monitor is fixed: every N steps, each held-out object's
centre view and one augmented view (drawn from a fixed seed, so every measurement sees the same views)
go through the backbone, and `monitor/retrieval_top1` is the fraction of augmented views whose nearest
centre view (cosine) is their own object. A random network scores near 1/N; a representation that is
invariant to the survey-physics augmentations and still tells objects apart scores near 1. It needs no
labels, so it works on any store — the same quantity the similarity search relies on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
import torch.nn.functional as F

from skyssl.train.data import RawBatch

MONITOR_STREAM = 0x3017  # a fixed random stream for the monitor's augmented views


def retrieval_top1(queries: torch.Tensor, keys: torch.Tensor) -> float:
    """Fraction of rows i whose most cosine-similar key is keys[i] (ties go to the lowest index).

    `queries` and `keys` are (N, D), row i of each describing the same object.
    """
    if queries.ndim != 2 or queries.shape != keys.shape:
        raise ValueError(f"expected two (N, D) arrays of one shape, got {tuple(queries.shape)} and "
                         f"{tuple(keys.shape)}")
    if queries.shape[0] == 0:
        return float("nan")
    sims = F.normalize(queries.float(), dim=1) @ F.normalize(keys.float(), dim=1).T
    best = sims.argmax(dim=1)
    return (best == torch.arange(queries.shape[0], device=best.device)).float().mean().item()


@torch.no_grad()
def embed_held_out(
    batches: Iterable[RawBatch],
    to_device: Callable[[RawBatch], RawBatch],
    centre_view: Callable[[torch.Tensor], torch.Tensor],
    augmented_view: Callable[[RawBatch, torch.Generator], torch.Tensor],
    represent: Callable[[torch.Tensor], torch.Tensor],
    generator: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(augmented embeddings, centre embeddings), each (N, D), for every held-out batch in order.

    The callables keep this independent of Lightning: the module passes its device transfer, its
    augmentation pipeline and its backbone in eval mode.
    """
    queries, keys = [], []
    for raw in batches:
        batch = to_device(raw)
        keys.append(represent(centre_view(batch.images)).float())
        queries.append(represent(augmented_view(batch, generator)).float())
    return torch.cat(queries), torch.cat(keys)
