"""Batch samplers: seeded epochs, ranks that partition the global batch, exact mid-epoch resume."""

from __future__ import annotations

import numpy as np

from skyssl.train.sampler import EpochPermutation, RankBatchSampler, epoch_order, rank_rows

ROWS = np.arange(3, 103, dtype=np.int64)  # 100 rows, not starting at 0


def batches(world: int, rank: int, batch: int, epoch: int = 0, block_rows: int = 1) -> list[list[int]]:
    sampler = RankBatchSampler(EpochPermutation(ROWS, seed=5, block_rows=block_rows), batch, world, rank)
    sampler.sampler.set_epoch(epoch)
    return list(sampler)


def test_an_epoch_is_a_seeded_permutation():
    order = epoch_order(ROWS, seed=5, epoch=0)
    assert sorted(order.tolist()) == ROWS.tolist()
    assert np.array_equal(order, epoch_order(ROWS, seed=5, epoch=0))
    assert not np.array_equal(order, epoch_order(ROWS, seed=5, epoch=1))
    assert not np.array_equal(order, epoch_order(ROWS, seed=6, epoch=0))


def test_ranks_partition_the_global_batch_of_one_process():
    single = batches(1, 0, 8)
    r0, r1 = batches(2, 0, 4), batches(2, 1, 4)
    assert len(single) == len(r0) == len(r1) == 12  # 100 // 8, the tail dropped
    for whole, a, b in zip(single, r0, r1, strict=True):
        assert a == whole[0::2] and b == whole[1::2]  # the split-BatchNorm groups of one process


def test_blocks_of_consecutive_rows_stay_together():
    order = epoch_order(ROWS, seed=5, epoch=0, block_rows=4)
    assert sorted(order.tolist()) == ROWS.tolist()
    runs = order.reshape(-1, 4)
    assert np.all(np.diff(runs, axis=1) == 1)
    share = rank_rows(np.arange(16), world_size=2, rank=1, block_rows=4)
    assert share.tolist() == [4, 5, 6, 7, 12, 13, 14, 15]


def test_start_at_resumes_mid_epoch_with_the_remaining_batches():
    sampler = RankBatchSampler(EpochPermutation(ROWS, seed=5), 8)
    sampler.start_at(12 * 2 + 5)  # epoch 2, after 5 of its 12 steps
    resumed = list(sampler)
    assert resumed == batches(1, 0, 8, epoch=2)[5:]
    sampler.sampler.set_epoch(3)  # the next epoch starts from its first batch
    assert list(sampler) == batches(1, 0, 8, epoch=3)
