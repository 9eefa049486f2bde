"""The bf16-candidate all-pairs search equals brute force bit for bit: symmetric tiles, resumption,
magnitude windows, ties, duplicates, negative similarities, and rows whose candidate buffer overflows."""

import numpy as np
import pytest

from skyssl.search.allpairs import AllPairs
from skyssl.search.allpairs_bounds import to_bf16
from skyssl.search.topk import normalise_rows


def fixed_point_similarities(unit: np.ndarray) -> np.ndarray:
    """numpy twin of `exact_dot` for every pair: truncated fixed-point products, integer sum, float32."""
    d = unit.shape[1]
    shift = 62 - d.bit_length()
    u = unit.astype(np.float64)
    products = np.trunc(u[:, None, :] * u[None, :, :] * 2.0**shift).astype(np.int64)
    return (products.sum(axis=2).astype(np.float64) / 2.0**shift).astype(np.float32)


def brute_force(unit: np.ndarray, k: int, mag: np.ndarray | None = None, window: float | None = None):
    """Rows of (positions, similarities): self first, then similarity descending, ties by position."""
    n = unit.shape[0]
    sims = fixed_point_similarities(unit)
    ranked = np.where(np.eye(n, dtype=bool), np.inf, sims)
    if window is not None:
        allowed = (np.abs(mag[:, None] - mag[None, :]) <= window) | (np.isnan(mag[:, None]) & np.isnan(mag[None, :]))
        ranked = np.where(allowed | np.eye(n, dtype=bool), ranked, -np.inf)
    order = np.lexsort((np.broadcast_to(np.arange(n), (n, n)), -ranked), axis=1)[:, :k]
    out_sims = np.take_along_axis(ranked, order, axis=1)
    out_sims[:, 0] = np.diag(sims)
    return np.where(np.isneginf(out_sims), -1, order), out_sims


def symmetric(unit: np.ndarray, k: int, block_rows: int, tile: int, first_block: int = 0):
    with AllPairs(unit, k, threads=2) as search:
        blocks = list(search.symmetric_blocks(block_rows, first_block, tile=tile))
        overflowed = search.overflowed
    assert [b[0] for b in blocks] == list(range(first_block, -(-unit.shape[0] // block_rows)))
    return np.concatenate([b[1] for b in blocks]), np.concatenate([b[2] for b in blocks]), overflowed


@pytest.fixture(scope="module")
def unit():
    rng = np.random.default_rng(3)
    vectors = normalise_rows(rng.standard_normal((700, 16)))
    vectors[40] = vectors[41]  # an exact duplicate: self stays at rank 0, the twin at rank 1
    vectors[300] = vectors[7]
    vectors[[500, 501]] = vectors[9]  # two twins of 9: equal similarities for every row, ties by position
    return vectors


def test_symmetric_tiles_equal_brute_force_bit_for_bit(unit):
    ids, sims, overflowed = symmetric(unit, 12, block_rows=256, tile=96)
    expected_ids, expected_sims = brute_force(unit, 12)
    np.testing.assert_array_equal(ids, expected_ids)
    np.testing.assert_array_equal(sims, expected_sims)
    assert overflowed == 0 and ids[40, :2].tolist() == [40, 41] and ids[9, :3].tolist() == [9, 500, 501]
    float64 = unit.astype(np.float64) @ unit.T.astype(np.float64)
    np.testing.assert_allclose(sims, np.take_along_axis(float64, ids, axis=1), atol=2e-7)


def test_a_resumed_run_gives_the_same_rows(unit):
    full_ids, full_sims, _ = symmetric(unit, 12, block_rows=256, tile=96)
    ids, sims, _ = symmetric(unit, 12, block_rows=256, tile=96, first_block=2)
    np.testing.assert_array_equal(ids, full_ids[512:])
    np.testing.assert_array_equal(sims.view(np.int32), full_sims[512:].view(np.int32))


def test_negative_similarities_and_edge_k():
    rng = np.random.default_rng(5)
    base = normalise_rows(rng.standard_normal((1, 8)))
    unit = normalise_rows(np.concatenate([base, -base + 0.3 * rng.standard_normal((150, 8))]))
    ids, sims, _ = symmetric(unit, 10, block_rows=64, tile=40)
    assert (sims[0, 1:] < 0).all()  # row 0 has only negative neighbours (the authors' bug 15)
    for k in (1, 10, 151):
        ids, sims, _ = symmetric(unit, k, block_rows=64, tile=40)
        expected_ids, expected_sims = brute_force(unit, k)
        np.testing.assert_array_equal(ids, expected_ids)
        np.testing.assert_array_equal(sims, expected_sims)


def test_rows_whose_candidates_overflow_are_searched_exhaustively():
    """Near-identical vectors put every pair inside the bf16 error margin: the buffers overflow."""
    rng = np.random.default_rng(6)
    unit = normalise_rows(np.ones((400, 32)) + 1e-3 * rng.standard_normal((400, 32)))
    ids, sims, overflowed = symmetric(unit, 5, block_rows=128, tile=64)
    assert overflowed > 0
    expected_ids, expected_sims = brute_force(unit, 5)
    np.testing.assert_array_equal(ids, expected_ids)
    np.testing.assert_array_equal(sims, expected_sims)


def test_magnitude_window_equals_brute_force(unit):
    mag = np.random.default_rng(8).uniform(15.0, 20.0, unit.shape[0])
    mag[[3, 4, 600]] = np.nan  # undefined magnitudes only meet each other
    order = np.argsort(mag, kind="stable")
    expected_ids, expected_sims = brute_force(unit, 9, mag, 0.2)
    with AllPairs(unit, 9, threads=2) as search:
        sorted_bf16 = to_bf16(unit[order])
        seeds = search.seed_admissions(np.arange(unit.shape[0]), mag, 0.2, tile=128)
        for start, seeded in ((0, False), (350, True)):
            positions = np.arange(start, start + 350)
            ids, sims = search.windowed_block(positions, mag, 0.2, order, sorted_bf16,
                                              seeds[positions] if seeded else None, query_batch=100, tile=128)
            np.testing.assert_array_equal(ids, expected_ids[positions])
            np.testing.assert_array_equal(sims, expected_sims[positions])
    assert ids[600 - 350, :3].tolist() == [600, 3, 4] and (ids[600 - 350, 3:] == -1).all()


def test_rejects_vectors_that_are_not_unit():
    with pytest.raises(ValueError, match="unit vectors"):
        AllPairs(np.full((4, 3), 2.0, np.float32), 2)
