"""MoCo's dictionary: a fixed-size FIFO queue of L2-normalised keys.

He et al. 2020 (MoCo §3.2): "the current mini-batch is enqueued to the dictionary, and the oldest
mini-batch in the queue is removed", decoupling the number of negatives K from the batch size. MoCo v2
uses K = 65,536; the DR9 run also used 65,536 (two global batches, formats §6.2).

The original enqueue asserts ``K % batch_size == 0`` so a batch never straddles the end of the buffer.
:meth:`KeyQueue.enqueue` wraps instead: the batch is written at slots ``(ptr + i) mod K``, so any K
works with any batch size, including a smaller last batch or a batch larger than K (then only its
newest K keys are kept). ``ptr`` always points at the oldest key, the next slot to be overwritten.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["KeyQueue"]


class KeyQueue(nn.Module):
    """Buffers ``keys`` (size, dim) — one key per row — and ``ptr`` (0-d long), saved in the state dict.

    The initial keys are L2-normalised Gaussian draws, as in MoCo: random unit vectors are valid,
    uninformative negatives until the first K real keys have replaced them.
    """

    keys: torch.Tensor
    ptr: torch.Tensor

    def __init__(self, dim: int, size: int) -> None:
        super().__init__()
        if dim < 1 or size < 1:
            raise ValueError(f"queue dim and size must be positive, got dim={dim}, size={size}")
        self.dim = dim
        self.size = size
        self.register_buffer("keys", F.normalize(torch.randn(size, dim), dim=1))
        self.register_buffer("ptr", torch.zeros((), dtype=torch.long))

    @torch.no_grad()
    def enqueue(self, keys: torch.Tensor) -> None:
        """Overwrite the oldest ``len(keys)`` entries with ``keys`` (B, dim), wrapping past the end.

        Keys are stored as given (callers pass normalised keys) in the queue's dtype. The pointer moves
        by B modulo the queue size, so after any sequence of batches the queue holds the newest ``size``
        keys, oldest first from ``ptr``.
        """
        if keys.ndim != 2 or keys.shape[1] != self.dim:
            raise ValueError(f"expected keys of shape (B, {self.dim}), got {tuple(keys.shape)}")
        batch = keys.shape[0]
        if batch == 0:
            return
        kept = keys[-self.size :].detach().to(self.keys.dtype)
        # Index arithmetic stays on the queue's device: no host synchronisation per step on a GPU.
        first = self.ptr + (batch - kept.shape[0])
        slots = (first + torch.arange(kept.shape[0], device=self.keys.device)) % self.size
        self.keys[slots] = kept
        self.ptr.copy_((self.ptr + batch) % self.size)

    def snapshot(self) -> torch.Tensor:
        """A detached copy of ``keys`` (size, dim), in storage order, to use as this step's negatives.

        A copy, not the buffer itself, because the step enqueues new keys in place after computing the
        logits and before ``backward``; autograd needs the negatives unchanged to form ∂loss/∂q.
        """
        return self.keys.detach().clone()

    def extra_repr(self) -> str:
        return f"dim={self.dim}, size={self.size}"
