"""Group unit vectors so that near neighbours sit together: the order that seeds the all-pairs scan.

The all-pairs scan admits every pair at or above a row's admission key. A row whose key starts
from a random tile admits many pairs that later turn out too weak (about k·ln(N/tile) of them), and
each admission costs far more than a rejected compare. If a row first meets the tile of its own
cluster, its key starts close to its final k-th similarity and the scan admits little more than the
true neighbours. Spherical k-means gives that grouping cheaply: it is trained on a sample and
assigning all N rows costs N × clusters × d, about 4/tile of one all-pairs GEMM.

Nothing here affects the result, only the speed: any set of pairs bounds a row's k-th similarity
from below, whichever rows the grouping puts together.
"""

from __future__ import annotations

import faiss
import numpy as np

CLUSTERS_PER_GROUP = 4
"""k-means clusters per group of rows, so that a cluster split by a group boundary is the exception."""
SAMPLE_PER_CLUSTER = 64
"""Training rows per k-means cluster (Faiss wants at least 39)."""
ASSIGN_BATCH = 4096


def similarity_order(unit: np.ndarray, positions: np.ndarray, group_rows: int, seed: int = 0) -> np.ndarray:
    """Indices into `positions` that sort them by spherical k-means cluster (clusters of ~group_rows/4).

    Fewer than two groups' worth of rows gives the identity: one group holds them all anyway.
    """
    n = positions.size
    n_clusters = min(CLUSTERS_PER_GROUP * -(-n // group_rows), n // SAMPLE_PER_CLUSTER)
    if n < 2 * group_rows or n_clusters < 2:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(n, min(n, SAMPLE_PER_CLUSTER * n_clusters), replace=False))
    kmeans = faiss.Kmeans(unit.shape[1], n_clusters, niter=10, spherical=True, seed=seed,
                          max_points_per_centroid=SAMPLE_PER_CLUSTER, verbose=False)
    kmeans.train(np.ascontiguousarray(unit[positions[sample]], dtype=np.float32))
    labels = np.empty(n, np.int64)
    for start in range(0, n, ASSIGN_BATCH):
        rows = np.ascontiguousarray(unit[positions[start : start + ASSIGN_BATCH]], dtype=np.float32)
        labels[start : start + rows.shape[0]] = kmeans.index.search(rows, 1)[1][:, 0]
    return np.argsort(labels, kind="stable")


def group_starts(n: int, group_rows: int) -> list[int]:
    """Starts of runs of `group_rows` covering [0, n); the last run is moved back to end at n, so
    every run is full (its rows overlap the previous run's) unless n itself is smaller."""
    return sorted({min(start, max(n - group_rows, 0)) for start in range(0, n, group_rows)})
