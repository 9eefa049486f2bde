"""The bf16 error bound holds on measured errors, the bf16 keys order like the values, and the exact
similarity is the same bits as its numpy twin."""

import numpy as np
import pytest
import torch

from skyssl.search.allpairs import tile_scores
from skyssl.search.allpairs_bounds import bf16_bound, to_bf16
from skyssl.search.allpairs_exact import exact_dot, exact_similarity_pairs
from skyssl.search.allpairs_kernel import bf16_key, bf16_value, floor_bf16_key
from skyssl.search.topk import normalise_rows
from tests.search.test_allpairs import fixed_point_similarities


def _bf16_as_float(bits: np.ndarray) -> np.ndarray:
    return (bits.astype(np.uint16).astype(np.uint32) << 16).view(np.float32)


@pytest.mark.parametrize("dim", [16, 256, 2048])
def test_bound_covers_the_measured_bf16_error(dim):
    torch.set_num_threads(1)
    rng = np.random.default_rng(dim)
    vectors = rng.standard_normal((300, dim))
    vectors[:100] = np.abs(vectors[:100])  # all-positive rows: rounding errors of one sign add up
    vectors[100:150, : dim // 2] = 0.0
    unit = normalise_rows(vectors)
    unit[150:200] = unit[:50]  # exact duplicates: similarity ≈ 1, the largest output rounding
    bf16 = to_bf16(unit)
    bound = bf16_bound(unit, bf16)
    approx = _bf16_as_float(tile_scores(bf16, bf16)).astype(np.float64)
    exact = unit.astype(np.float64) @ unit.T.astype(np.float64)
    error = np.abs(exact - approx)
    allowed = bound.slack + bound.rel * np.abs(approx)
    assert (error <= allowed).all()
    assert error.max() > 0.2 * allowed.max()  # the bound is not vacuously loose
    assert bound.slack < 0.01


def test_bf16_keys_order_like_values():
    bits = np.arange(-32768, 32768, dtype=np.int64)
    values = _bf16_as_float(bits.astype(np.int16))
    finite = np.isfinite(values)
    keys = np.array([bf16_key(int(b)) for b in bits.astype(np.int16)])[finite]
    values = values[finite]
    order = np.argsort(keys, kind="stable")
    assert (np.diff(values[order]) >= 0).all()
    assert all(bf16_value(int(key)) == float(value) for key, value in zip(keys[::97], values[::97], strict=True))
    for x in [*np.random.default_rng(0).uniform(-2, 2, 500).tolist(), 0.0, 1.0, -1.0, 1e-40, -1e-40]:
        key = floor_bf16_key(x)
        assert bf16_value(key) <= x
        if abs(x) >= 2.0**-126:
            assert x < bf16_value(key + 1)


def test_exact_dot_is_the_fixed_point_sum():
    rng = np.random.default_rng(2)
    for dim in (7, 256, 2048):
        unit = normalise_rows(rng.standard_normal((40, dim)))
        expected = fixed_point_similarities(unit)
        got = exact_similarity_pairs(np.repeat(unit, 40, axis=0), np.tile(unit, (40, 1))).reshape(40, 40)
        np.testing.assert_array_equal(got, expected)
        np.testing.assert_allclose(got, unit.astype(np.float64) @ unit.T.astype(np.float64), rtol=0, atol=1.2e-7)
        assert exact_dot(unit[3], unit[5]) == exact_dot(unit[5], unit[3])
