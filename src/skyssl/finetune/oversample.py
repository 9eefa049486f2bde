"""Training batches of supervised fine-tuning: endless shuffled passes, optionally with positives oversampled.

At a lens prevalence of 1 % (or 1:4000, Stein et al. 2022) a batch of 64 drawn uniformly holds no lens
most of the time, and the gradient of the rare class is a rounding error. Stein et al.'s fine-tuner has
no remedy (formats §6.3: no oversampling, ``pos_weight`` or weighted sampler); lens mining needs one: every
batch holds a *target fraction* f of positives. The number of positives per batch is f·B rounded
stochastically (⌊f·B⌋ plus one with probability f·B − ⌊f·B⌋), so it is always ⌊f·B⌋ or ⌈f·B⌉ and its
mean is exactly f·B. Positives and negatives are each drawn from their own stream of shuffled passes,
so every training object is seen once per pass of its class before any is repeated.

Everything is a pure function of a numpy Generator, so a run with the same seed takes the same batches.
"""

from __future__ import annotations

import math

import numpy as np


class RowStream:
    """An endless sequence of `rows` in successive random permutations (a new one at every pass)."""

    def __init__(self, rows: np.ndarray, rng: np.random.Generator) -> None:
        self.rows = np.asarray(rows, dtype=np.int64)
        if self.rows.size == 0:
            raise ValueError("a row stream needs at least one row")
        self.rng = rng
        self._order = self.rng.permutation(self.rows)
        self._next = 0

    def take(self, n: int) -> np.ndarray:
        """The next `n` rows of the stream, crossing into a fresh permutation when a pass ends."""
        out = np.empty(n, dtype=np.int64)
        filled = 0
        while filled < n:
            if self._next == self._order.size:
                self._order, self._next = self.rng.permutation(self.rows), 0
            chunk = min(n - filled, self._order.size - self._next)
            out[filled : filled + chunk] = self._order[self._next : self._next + chunk]
            filled += chunk
            self._next += chunk
        return out


def positives_in_batch(batch_size: int, positive_fraction: float, rng: np.random.Generator) -> int:
    """⌊f·B⌋ or ⌈f·B⌉ positives, the latter with probability f·B − ⌊f·B⌋: mean exactly f·B."""
    expected = positive_fraction * batch_size
    low = math.floor(expected)
    return int(low + (rng.random() < expected - low))


class BatchRows:
    """Rows of successive training batches: uniform passes, or positives at a target fraction per batch.

    `positive` (bool per row) and `positive_fraction` go together; without them batches are consecutive
    slices of shuffled passes over `rows`. Batches of the oversampled kind are shuffled internally, so
    BatchNorm and the augmentation draws see positives at random positions.
    """

    def __init__(self, rows: np.ndarray, batch_size: int, seed: int, positive: np.ndarray | None = None,
                 positive_fraction: float | None = None) -> None:
        self.batch_size = int(batch_size)
        self.rng = np.random.default_rng([seed, 0x0B5A])
        self.positive_fraction = positive_fraction
        rows = np.asarray(rows, dtype=np.int64)
        if positive_fraction is None:
            self._all = RowStream(rows, self.rng)
        else:
            mask = np.asarray(positive, dtype=bool)
            self._positives = RowStream(rows[mask], self.rng)
            self._negatives = RowStream(rows[~mask], self.rng)

    def next(self) -> np.ndarray:
        """The rows of the next batch (int64, `batch_size` of them)."""
        if self.positive_fraction is None:
            return self._all.take(self.batch_size)
        n_pos = positives_in_batch(self.batch_size, self.positive_fraction, self.rng)
        batch = np.concatenate([self._positives.take(n_pos), self._negatives.take(self.batch_size - n_pos)])
        return self.rng.permutation(batch)
