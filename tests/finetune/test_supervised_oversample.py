"""Training batches: shuffled passes that cover every row, and positives at the target fraction per batch."""

from __future__ import annotations

import numpy as np
import pytest

from skyssl.finetune.oversample import BatchRows, RowStream, positives_in_batch


def test_a_row_stream_covers_every_row_once_per_pass():
    stream = RowStream(np.arange(10, 17), np.random.default_rng(0))
    taken = stream.take(21)
    for start in range(0, 21, 7):
        assert sorted(taken[start : start + 7]) == list(range(10, 17))
    assert not np.array_equal(taken[:7], taken[7:14])  # a new permutation each pass


def test_positives_per_batch_are_the_two_nearest_counts_with_the_right_mean():
    rng = np.random.default_rng(1)
    counts = np.array([positives_in_batch(16, 0.3, rng) for _ in range(4000)])
    assert set(counts.tolist()) == {4, 5}
    assert counts.mean() == pytest.approx(4.8, abs=0.05)


@pytest.mark.parametrize(("fraction", "batch"), [(0.25, 8), (0.1, 32), (0.5, 6)])
def test_oversampled_batches_reach_the_target_fraction(fraction, batch):
    positive = np.zeros(400, dtype=bool)
    positive[::100] = True  # 1 % positives
    sampler = BatchRows(np.arange(400), batch, seed=3, positive=positive, positive_fraction=fraction)
    batches = np.array([sampler.next() for _ in range(2000)])
    per_batch = positive[batches].mean(axis=1)
    assert per_batch.mean() == pytest.approx(fraction, abs=0.01)
    assert per_batch.min() >= np.floor(fraction * batch) / batch
    assert per_batch.max() <= np.ceil(fraction * batch) / batch
    negatives = batches[~positive[batches]]
    assert np.unique(negatives).size == 396  # every negative seen, none starved by the oversampling


def test_plain_batches_are_uniform_passes_and_repeat_under_a_seed():
    first = BatchRows(np.arange(12), 4, seed=5)
    second = BatchRows(np.arange(12), 4, seed=5)
    rows = np.concatenate([first.next() for _ in range(3)])
    assert sorted(rows.tolist()) == list(range(12))
    assert np.array_equal(np.concatenate([second.next() for _ in range(3)]), rows)
