"""The InfoNCE loss of MoCo: one positive key against a queue of negatives.

He et al. 2020 (MoCo, eq. 1): L_q = −log[exp(q·k₊/τ) / Σ_{i=0..K} exp(q·k_i/τ)], "a (K+1)-way
softmax-based classifier that tries to classify q as k₊". Written as logits [l_pos, l_neg]/τ with
label 0 for every row it is an ordinary cross-entropy, which is how MoCo and its DR9 copy compute it
(formats §6.2). MoCo v2 uses τ = 0.2 (v1: 0.07).

Queue layout: **(K, D), one key per row**, the layout of :class:`skyssl.models.queue.KeyQueue`. The
original code keeps the transpose (D, K) so its enqueue writes columns; rows make the enqueue a
contiguous slice and the negatives a plain ``q @ queue.T``. Convert a (D, K) queue with ``.T``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["info_nce_logits", "info_nce_loss"]


def info_nce_logits(
    q: torch.Tensor, k: torch.Tensor, queue: torch.Tensor, temperature: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """(logits (B, 1+K), labels (B,) zeros): column 0 is q·k, columns 1.. are q·queue[j], all over τ.

    ``q`` and ``k`` are (B, D) and ``queue`` is (K, D) — rows are keys. All are expected L2-normalised,
    so the dot products are cosine similarities. Nothing is detached here: MoCo computes ``k`` under
    ``no_grad`` and passes a snapshot of the queue, so gradients reach only ``q``.
    """
    if q.ndim != 2 or k.shape != q.shape or queue.ndim != 2 or queue.shape[1] != q.shape[1]:
        raise ValueError(
            f"expected q and k (B, D) and queue (K, D); got {tuple(q.shape)}, {tuple(k.shape)}, "
            f"{tuple(queue.shape)}"
        )
    l_pos = (q * k).sum(dim=1, keepdim=True)
    l_neg = q @ queue.T
    logits = torch.cat([l_pos, l_neg], dim=1) / temperature
    labels = torch.zeros(q.shape[0], dtype=torch.long, device=q.device)
    return logits, labels


def info_nce_loss(q: torch.Tensor, k: torch.Tensor, queue: torch.Tensor, temperature: float) -> torch.Tensor:
    """The mean InfoNCE loss over the batch: cross-entropy of :func:`info_nce_logits` against label 0."""
    logits, labels = info_nce_logits(q, k, queue, temperature)
    return F.cross_entropy(logits, labels)
