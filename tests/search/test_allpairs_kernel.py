"""The compiled pieces of the all-pairs scan against slow numpy twins: the radix-select seed, the
pass flags, the column-group maxima and the admission keys they feed."""

import numpy as np
import pytest

from skyssl.search.allpairs import window_spans
from skyssl.search.allpairs_kernel import (
    ADMIT_ALL,
    admission_key,
    group_max,
    line_admission,
    mark_passing,
    seed_tile_rows,
)
from skyssl.search.allpairs_order import group_starts, similarity_order
from skyssl.search.topk import normalise_rows

SLACK, REL = 0.004, 1 / 255


def bf16_keys(bits: np.ndarray) -> np.ndarray:
    """numpy twin of `bf16_key`: int16 bit patterns → integers ordered like the bf16 values."""
    wide = bits.astype(np.int64)
    return np.where(wide >= 0, wide, -(wide & 0x7FFF))


def random_bits(rng: np.random.Generator, n: int) -> np.ndarray:
    """bf16 patterns of similarities in [−1, 1], with repeated values (ties) and both signed zeros."""
    values = np.round(rng.uniform(-1.0, 1.0, n), 2).astype(np.float32)
    values[:3] = [0.0, -0.0, 1.0]
    return (values.view(np.int32) >> 16).astype(np.int16)


@pytest.mark.parametrize("seed", range(6))
def test_line_admission_equals_a_selection_over_the_allowed_pairs(seed):
    rng = np.random.default_rng(seed)
    n, keep = 300, int(rng.integers(1, 60))
    line = random_bits(rng, n)
    col_pos = rng.permutation(1000)[:n]
    pos = int(col_pos[17])
    mag, col_mag = 18.0, rng.uniform(17.0, 19.0, n)
    col_mag[:5] = np.nan
    for window in (-1.0, 0.3):
        allowed = col_pos != pos
        if window >= 0:
            allowed &= np.abs(col_mag - mag) <= window
        keys = bf16_keys(line)[allowed]
        expected = admission_key(keys, keys.size, keep, SLACK, REL)
        got = line_admission(line, pos, col_pos, mag, col_mag, window, np.empty(n, np.int64), keep, SLACK, REL)
        assert got == expected
        assert got == ADMIT_ALL or got <= np.sort(keys)[-keep]


def test_line_admission_admits_all_while_too_few_pairs_are_allowed():
    line = random_bits(np.random.default_rng(1), 10)
    got = line_admission(line, 3, np.arange(10), 0.0, np.zeros(10), -1.0, np.empty(10, np.int64), 10, SLACK, REL)
    assert got == ADMIT_ALL  # nine pairs besides the object itself


def test_seed_tile_rows_only_raise_keys():
    rng = np.random.default_rng(2)
    scores = np.stack([random_bits(rng, 64) for _ in range(8)])
    pos = np.arange(64)
    admits = np.full(8, ADMIT_ALL, np.int64)
    admits[0] = 1 << 14  # already above what this tile proves
    seed_tile_rows(scores, 0, 8, pos[:8], pos, np.zeros(8), np.zeros(64), -1.0, admits, 5, SLACK, REL)
    assert admits[0] == 1 << 14
    for i in range(1, 8):
        keys = bf16_keys(np.delete(scores[i], i))
        assert admits[i] == admission_key(keys, keys.size, 5, SLACK, REL)


def test_pass_flags_and_column_maxima_equal_numpy():
    rng = np.random.default_rng(4)
    scores = rng.integers(-32768, 32767, (70, 133)).astype(np.int16)
    flags = np.ones(136, np.uint8)
    assert mark_passing(scores[5], 0, 133, np.int16(1000), flags) == 17
    np.testing.assert_array_equal(flags[:133], scores[5] >= 1000)
    assert not flags[133:].any()
    flags[:] = 1
    assert mark_passing(scores[5], 30, 51, np.int16(1000), flags) == 3
    np.testing.assert_array_equal(flags[:21], scores[5, 30:51] >= 1000)
    assert not flags[21:24].any()
    top = np.empty(133, np.int16)
    group_max(scores, 3, 40, 7, 120, top)
    np.testing.assert_array_equal(top[7:120], scores[3:40, 7:120].max(axis=0))


def test_similarity_order_is_a_permutation_that_gathers_clusters():
    rng = np.random.default_rng(5)
    centres = normalise_rows(rng.standard_normal((8, 32)))
    labels = rng.integers(0, 8, 4000)
    unit = normalise_rows(centres[labels] + 0.05 * rng.standard_normal((4000, 32)))
    positions = np.arange(100, 4000)
    order = similarity_order(unit, positions, 512)
    np.testing.assert_array_equal(np.sort(order), np.arange(positions.size))
    runs = np.count_nonzero(np.diff(labels[positions[order]]))
    assert runs < 40  # 8 clusters, each split across a few k-means cells at most
    np.testing.assert_array_equal(similarity_order(unit, positions[:900], 512), np.arange(900))


def test_window_spans_hold_exactly_the_columns_a_query_may_meet():
    rng = np.random.default_rng(6)
    tile_mag = np.sort(np.concatenate([rng.uniform(15, 20, 300), [17.5, 17.5]]))
    tile_mag = np.concatenate([tile_mag, [np.nan, np.nan]])
    query_mag = np.array([15.0, 17.0, 17.5 - 0.3, 20.5, np.nan, 30.0])
    lo, hi = window_spans(tile_mag, query_mag, 0.3)
    for q, a, b in zip(query_mag, lo, hi, strict=True):
        inside = np.isnan(tile_mag) if np.isnan(q) else np.abs(tile_mag - q) <= 0.3
        assert not inside[:a].any() and not inside[b:].any()  # every allowed column is in the span
        near = np.isnan(tile_mag) if np.isnan(q) else np.abs(tile_mag - q) <= 0.3 + 1e-6
        assert near[a:b].all()  # and the span is tight up to rounding at its edges
    assert lo[2] < hi[2] and tile_mag[hi[2] - 1] == 17.5  # |17.5 − 17.2| rounds above 0.3: padded in


def test_group_starts_cover_every_row_with_full_runs():
    assert group_starts(10, 4) == [0, 4, 6]
    assert group_starts(8, 4) == [0, 4]
    assert group_starts(3, 4) == [0]
    assert group_starts(0, 4) == []
