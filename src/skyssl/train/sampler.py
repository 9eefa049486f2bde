"""Which rows each rank trains on at each step: a seeded permutation per epoch, cut into global batches.

Our own samplers rather than Lightning's DistributedSampler injection, for three reasons:

- the global batch at step t is a function of (seed, epoch, t) alone, so 1 process × batch 2B and
  2 processes × batch B see the same rows, and a resumed run sees what the uninterrupted one would;
- rank r takes blocks r, r + W, r + 2W, … of each global batch (W ranks): with one row per block this
  is the interleaving that :class:`skyssl.models.split_bn.SplitBatchNorm2d` uses for its sub-batches,
  so a single process with W BatchNorm splits normalises exactly the groups W DDP ranks would;
- `block_rows > 1` permutes blocks of consecutive rows instead of rows, so on a cold disk each block
  is one sequential read (BENCHMARKS.md: cold random reads are 3× slower than sequential ones) at the
  price of batches whose rows come in runs.

Resuming mid-epoch needs no replay: :meth:`RankBatchSampler.start_at` jumps to the batch after the
last completed step.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from torch.utils.data import Sampler

from skyssl.train.schedule import steps_per_epoch

_PERMUTATION_STREAM = 0x5EED  # keeps the data order's random stream apart from other uses of the run seed


def epoch_order(rows: np.ndarray, seed: int, epoch: int, block_rows: int = 1) -> np.ndarray:
    """`rows` in this epoch's order: a permutation of blocks of `block_rows` consecutive entries."""
    rng = np.random.default_rng([seed, epoch, _PERMUTATION_STREAM])
    rows = np.asarray(rows, dtype=np.int64)
    if block_rows == 1:
        return rows[rng.permutation(rows.size)]
    n_blocks = -(-rows.size // block_rows)
    positions = (rng.permutation(n_blocks)[:, None] * block_rows + np.arange(block_rows)).ravel()
    return rows[positions[positions < rows.size]]


def rank_rows(global_batch: np.ndarray, world_size: int, rank: int, block_rows: int = 1) -> np.ndarray:
    """This rank's share of one global batch: blocks rank, rank + W, … of `block_rows` rows each."""
    n_blocks = -(-global_batch.size // block_rows)
    blocks = np.arange(rank, n_blocks, world_size)
    positions = (blocks[:, None] * block_rows + np.arange(block_rows)).ravel()
    return global_batch[positions[positions < global_batch.size]]


class EpochPermutation(Sampler[int]):
    """The rows in a seeded order that changes with :meth:`set_epoch` (Lightning calls it every epoch)."""

    def __init__(self, rows: np.ndarray, seed: int, block_rows: int = 1) -> None:
        self.rows = np.asarray(rows, dtype=np.int64)
        self.seed = seed
        self.block_rows = block_rows
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def order(self) -> np.ndarray:
        return epoch_order(self.rows, self.seed, self.epoch, self.block_rows)

    def __iter__(self) -> Iterator[int]:
        return iter(self.order().tolist())

    def __len__(self) -> int:
        return self.rows.size


class RankBatchSampler(Sampler[list[int]]):
    """Yields this rank's `batch_size` rows of every full global batch of the epoch, in permutation order.

    The global batch is `batch_size × world_size`; the incomplete tail of an epoch is dropped so every
    rank takes the same number of equal steps (MoCo's key gather needs equal shapes).
    """

    def __init__(self, sampler: EpochPermutation, batch_size: int, world_size: int = 1, rank: int = 0) -> None:
        if batch_size % sampler.block_rows:
            raise ValueError(f"batch_size {batch_size} is not a multiple of block_rows {sampler.block_rows}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.world_size = world_size
        self.rank = rank
        self.global_batch = batch_size * world_size
        self._skip_epoch = -1
        self._skip = 0

    def __len__(self) -> int:
        return steps_per_epoch(len(self.sampler), self.global_batch)

    def start_at(self, global_step: int) -> None:
        """Resume: the next batch yielded is the one of step `global_step` (epoch and offset from it)."""
        epoch, self._skip = divmod(int(global_step), len(self))
        self._skip_epoch = epoch
        self.sampler.set_epoch(epoch)

    def __iter__(self) -> Iterator[list[int]]:
        n_steps = len(self)
        order = self.sampler.order()[: n_steps * self.global_batch].reshape(n_steps, self.global_batch)
        first = self._skip if self.sampler.epoch == self._skip_epoch else 0
        for step in range(first, n_steps):
            yield rank_rows(order[step], self.world_size, self.rank, self.sampler.block_rows).tolist()
