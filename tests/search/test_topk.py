"""Blocked exact top-k with the streaming merge equals a full numpy sort, whatever the signs and ranges."""

import numpy as np
import torch

from skyssl.search.topk import exact_topk, normalise_rows, order_rows


def _numpy_topk(queries: np.ndarray, database: np.ndarray, k: int, allowed: np.ndarray | None = None):
    sims = queries.astype(np.float64) @ database.T.astype(np.float64)
    if allowed is not None:
        sims = np.where(allowed, sims, -np.inf)
    order = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(sims, order, axis=1)


def test_blocked_merge_equals_a_full_sort():
    rng = np.random.default_rng(0)
    database = normalise_rows(rng.standard_normal((1000, 12)))
    queries = normalise_rows(rng.standard_normal((37, 12)))
    sims, ids = exact_topk(torch.from_numpy(queries), torch.from_numpy(database), 25, block_rows=64)
    sims, ids = order_rows(sims, ids)
    expected_ids, expected_sims = _numpy_topk(queries, database, 25)
    np.testing.assert_array_equal(ids, expected_ids)
    np.testing.assert_allclose(sims, expected_sims, atol=1e-5)


def test_all_negative_similarities_still_give_the_true_neighbours():
    """The authors' running top-k began at zeros with index 0 (bug 15): negative scores lost to it."""
    rng = np.random.default_rng(1)
    base = normalise_rows(rng.standard_normal((1, 8)))
    database = normalise_rows(-base + 0.3 * rng.standard_normal((300, 8)))  # everything points away
    sims, ids = order_rows(*exact_topk(torch.from_numpy(base), torch.from_numpy(database), 10, block_rows=50))
    assert (sims < 0).all()
    np.testing.assert_array_equal(ids, _numpy_topk(base, database, 10)[0])


def test_masks_self_match_and_short_rows():
    rng = np.random.default_rng(2)
    database = normalise_rows(rng.standard_normal((200, 6)))
    database[17] = database[5]  # an exact duplicate of query 5 must not displace it from rank 0
    queries = database[[5, 9]]
    ranges = (torch.tensor([0, 40]), torch.tensor([3, 43]))  # query 0 may see rows 0–2, query 1 rows 40–42

    sims, ids = exact_topk(torch.from_numpy(queries), torch.from_numpy(database), 6,
                           self_columns=torch.tensor([5, 9]), column_ranges=ranges, block_rows=32)
    sims, ids = order_rows(sims, ids, self_sims=np.ones(2, np.float32))
    assert ids[0, 0] == 5 and ids[1, 0] == 9 and sims[0, 0] == 1.0  # the self-match even outside its range
    assert set(ids[0, 1:4]) == {0, 1, 2} and set(ids[1, 1:4]) == {40, 41, 42}
    assert (ids[:, 4:] == -1).all() and np.isneginf(sims[:, 4:]).all()
