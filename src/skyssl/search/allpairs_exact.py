"""Exact similarities of the all-pairs candidates: a fixed-point dot product, and each row's top k − 1.

When a row's candidate buffer is complete (:mod:`skyssl.search.allpairs_kernel`), :func:`finish_rows`
re-scores the candidates that can still count exactly (:func:`exact_dot`) and keeps the best k − 1
(similarity first, then the lower position), so the result equals a full exact search while only
about k pairs per row are re-scored. A row whose buffer overflowed is searched by brute force here.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from skyssl.search.allpairs_kernel import admission_key, pair_allowed

EMPTY_POSITION = np.iinfo(np.int32).max
"""Position of an empty heap slot (similarity −inf): worse than any real neighbour at any tie."""


@nb.njit(cache=True, nogil=True)
def fixed_point_shift(d: int) -> int:
    """Bits of fraction for a d-term sum of products ≤ 1 in int64: d · 2^shift < 2^62."""
    shift = 62
    while d > 0:
        shift -= 1
        d >>= 1
    return shift


@nb.njit(cache=True, nogil=True)
def exact_dot(a: np.ndarray, b: np.ndarray) -> np.float32:
    """Inner product of two float32 unit vectors, summed exactly in fixed point, rounded to float32.

    Needs |aᵢbᵢ| ≤ 1 (unit vectors). Each product is exact in float64 and is truncated to a multiple
    of 2^−shift (shift = 50 at d = 2048, 53 at d = 256); integer addition is associative, so the sum
    — and the similarity — is the same bit pattern whatever the order, SIMD width, thread or
    machine, and lies within d·2^−shift (2^−39 at d = 2048) of the exact inner product. The loop
    vectorises without fast-math.
    """
    scale = np.float64(1 << fixed_point_shift(a.shape[0]))
    total = 0
    for t in range(a.shape[0]):
        total += np.int64(np.float64(a[t]) * np.float64(b[t]) * scale)
    return np.float32(np.float64(total) / scale)


@nb.njit(cache=True, nogil=True)
def exact_similarity_pairs(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """:func:`exact_dot` of rows[i] and cols[i] for every i."""
    out = np.empty(rows.shape[0], np.float32)
    for i in range(rows.shape[0]):
        out[i] = exact_dot(rows[i], cols[i])
    return out


@nb.njit(cache=True, nogil=True)
def push(heap_sims: np.ndarray, heap_pos: np.ndarray, sim: np.float32, pos: int) -> bool:
    """Replace the worst entry (root of a min-heap on (similarity, −position)) if (sim, pos) beats it."""
    if sim < heap_sims[0] or (sim == heap_sims[0] and pos >= heap_pos[0]):
        return False
    n = heap_sims.shape[0]
    at = 0
    while True:
        child = 2 * at + 1
        if child >= n:
            break
        other = child + 1
        if other < n and (heap_sims[other] < heap_sims[child]
                          or (heap_sims[other] == heap_sims[child] and heap_pos[other] > heap_pos[child])):
            child = other
        if heap_sims[child] < sim or (heap_sims[child] == sim and heap_pos[child] > pos):
            heap_sims[at] = heap_sims[child]
            heap_pos[at] = heap_pos[child]
            at = child
        else:
            break
    heap_sims[at] = sim
    heap_pos[at] = pos
    return True


@nb.njit(cache=True, nogil=True)
def counting_sort(labels: np.ndarray, n_labels: int) -> np.ndarray:
    """Indices that order `labels` (integers in [0, n_labels)) by label, in O(n + n_labels)."""
    starts = np.zeros(n_labels + 1, np.int64)
    for label in labels:
        starts[label + 1] += 1
    for g in range(n_labels):
        starts[g + 1] += starts[g]
    order = np.empty(labels.shape[0], np.int64)
    for t in range(labels.shape[0]):
        order[starts[labels[t]]] = t
        starts[labels[t]] += 1
    return order


@nb.njit(cache=True, nogil=True)
def finish_rows(unit: np.ndarray, positions: np.ndarray, keys: np.ndarray, ids: np.ndarray, counts: np.ndarray,
                keep: int, slack: float, rel: float, mag: np.ndarray, window: float, heap_sims: np.ndarray,
                heap_pos: np.ndarray) -> None:
    """Exact top-`keep` of each row into its heap: re-score its admissible candidates (or, if it
    overflowed, every allowed position) with :func:`exact_dot`.

    The admitted pairs of all rows are re-scored grouped by (candidate span, row span) of 8 MB of
    vectors each, so both vectors of a pair are usually in cache: each span is read from memory
    about once per group rather than once per pair (at d = 2048 a vector is 8 kB).
    """
    pair_rows = np.empty(np.maximum(counts, 0).sum(), np.int64)
    pair_cols = np.empty(pair_rows.shape[0], np.int64)
    n_pairs = 0
    for r in range(positions.shape[0]):
        p = positions[r]
        if counts[r] < 0:
            for c in range(unit.shape[0]):
                if pair_allowed(p, c, mag[p], mag[c], window):
                    push(heap_sims[r], heap_pos[r], exact_dot(unit[p], unit[c]), c)
            continue
        admit = admission_key(keys[r], counts[r], keep, slack, rel)
        for t in range(counts[r]):
            if keys[r, t] >= admit:
                pair_rows[n_pairs] = r
                pair_cols[n_pairs] = ids[r, t]
                n_pairs += 1
    span = max(16, (1 << 23) // (4 * unit.shape[1]))  # positions per 8 MB of float32 vectors
    row_spans = positions.shape[0] // span + 1
    group = (pair_cols[:n_pairs] // span) * row_spans + pair_rows[:n_pairs] // span
    for o in counting_sort(group, (unit.shape[0] // span + 1) * row_spans):
        r, c = pair_rows[o], pair_cols[o]
        push(heap_sims[r], heap_pos[r], exact_dot(unit[positions[r]], unit[c]), c)
