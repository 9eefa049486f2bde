"""Faiss indexes for cosine search, their default parameters, recall measurement and query-time tuning.

All indexes hold L2-normalised float32 vectors under the inner-product metric, so scores are cosine
similarities:

- ``flat``: `IndexFlatIP`, exact; one full scan per query (memory-bound, performance-anchors §4.3).
- ``ivfpq``: `IndexIVFPQ`, nlist ≈ 4√N coarse cells (capped so that k-means sees ≥ 39 points per cell),
  m sub-quantisers with m the largest divisor of d giving ≥ 8 dimensions each (32 B per vector at
  d = 256), 8 bits each (fewer below 39·256 vectors, for the same reason), wrapped in an
  `IndexRefine` that re-ranks the PQ shortlist of k·`k_factor` (default 4) with 8-bit scalar-quantised
  vectors (d bytes each). PQ alone tops out near recall@100 ≈ 0.78 on dense clustered data however
  many cells are probed (measured, benchmarks/search.py), which misses the 0.95 target; the SQ8 re-rank
  lifts it to ≈ 0.98 for 1 + 8/m times the PQ memory (288 B instead of 32 B per vector at d = 256).
  k-means trains on 40 points per cell for 10 iterations (Faiss's floor; training cost grows as
  points × cells). `nprobe` is tuned at build time.
- ``hnsw``: `IndexHNSWFlat` (M = 32, efConstruction = 40, Faiss's defaults), exact scores over a
  graph; `efSearch` is tuned at build time.

Tuning walks the query-time knob upwards (doubling) until recall@k against exact search on a sample
reaches the target, and keeps the smallest value that does — the cheapest setting meeting the target.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import faiss
import numpy as np

from skyssl.errors import InputError

INDEX_KINDS = ("flat", "ivfpq", "hnsw")
MIN_POINTS_PER_CELL = 39  # below this Faiss's k-means warns that centroids are poorly trained
TRAIN_POINTS_PER_CELL = 40
MAX_PQ_BITS, MIN_PQ_BITS = 8, 4
MIN_IVFPQ_VECTORS = MIN_POINTS_PER_CELL * 2**MIN_PQ_BITS
KMEANS_ITERATIONS = 10
HNSW_M, HNSW_EF_CONSTRUCTION = 32, 40
REFINE_K_FACTOR = 4


@dataclass(frozen=True)
class Recall:
    """recall@k of an index against exact search on `n_queries` sample queries, with its standard error."""

    k: int
    value: float
    stderr: float
    n_queries: int

    def as_dict(self) -> dict:
        return {"k": self.k, "value": self.value, "stderr": self.stderr, "n_queries": self.n_queries}


def default_nlist(n_vectors: int) -> int:
    """≈ 4√N cells, but never so many that k-means sees fewer than 39 points per cell."""
    return int(max(1, min(round(4 * np.sqrt(n_vectors)), n_vectors // MIN_POINTS_PER_CELL)))


def default_subquantisers(dim: int, min_dims_per_subquantiser: int = 8) -> int:
    """The largest m dividing `dim` with at least `min_dims_per_subquantiser` dimensions per sub-vector."""
    best = 1
    for m in range(1, dim + 1):
        if dim % m == 0 and dim // m >= min_dims_per_subquantiser:
            best = m
    return best


def default_pq_bits(n_vectors: int) -> int:
    """8-bit codes when there are ≥ 39 training points per PQ centroid, fewer bits otherwise."""
    return int(np.clip(np.floor(np.log2(max(n_vectors, 1) / MIN_POINTS_PER_CELL)), MIN_PQ_BITS, MAX_PQ_BITS))


def default_params(kind: str, n_vectors: int, dim: int) -> dict:
    """Build parameters recorded in the index manifest."""
    if kind == "flat":
        return {}
    if kind == "ivfpq":
        if n_vectors < MIN_IVFPQ_VECTORS:
            raise InputError(f"IVF-PQ needs at least {MIN_IVFPQ_VECTORS} vectors to train its quantisers, got "
                             f"{n_vectors}; use the flat index (exact, and fast at this size)")
        return {"nlist": default_nlist(n_vectors), "m": default_subquantisers(dim), "nbits": default_pq_bits(n_vectors),
                "refine": "SQ8", "k_factor": REFINE_K_FACTOR}
    if kind == "hnsw":
        return {"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION}
    raise ValueError(f"unknown index kind {kind!r}")


def build_faiss_index(kind: str, vectors: np.ndarray, params: dict, seed: int = 0) -> faiss.Index:
    """Train (if needed) and fill an index with unit-norm float32 `vectors`; positions are the labels."""
    n, dim = vectors.shape
    if kind == "flat":
        index = faiss.IndexFlatIP(dim)
    elif kind == "ivfpq":
        ivf = faiss.IndexIVFPQ(faiss.IndexFlatIP(dim), dim, int(params["nlist"]), int(params["m"]),
                               int(params["nbits"]), faiss.METRIC_INNER_PRODUCT)
        ivf.cp.seed, ivf.cp.niter = seed, KMEANS_ITERATIONS
        ivf.pq.cp.seed, ivf.pq.cp.niter = seed, KMEANS_ITERATIONS
        refine = faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
        index = faiss.IndexRefine(ivf, refine)
        index.k_factor = float(params["k_factor"])
        n_train = min(n, TRAIN_POINTS_PER_CELL * max(int(params["nlist"]), 2 ** int(params["nbits"])))
        sample = np.random.default_rng(seed).choice(n, size=n_train, replace=False)
        index.train(vectors[np.sort(sample)])
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, int(params["M"]), faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = int(params["efConstruction"])
    else:
        raise ValueError(f"unknown index kind {kind!r}")
    index.add(vectors)
    return index


def search_parameters(kind: str, params: dict, selector: faiss.IDSelector | None = None) -> faiss.SearchParameters:
    """Per-call search parameters (the tuned knob, and an optional id selector for filters)."""
    if kind == "ivfpq":
        ivf = faiss.SearchParametersIVF()
        ivf.nprobe = int(params["nprobe"])
        if selector is not None:
            ivf.sel = selector  # filtering happens in the IVF scan; the re-rank only sees what passed
        out = faiss.IndexRefineSearchParameters()
        out.k_factor = float(params["k_factor"])
        out.base_index_params = ivf
        out.keep_alive = ivf  # Faiss holds a bare pointer to the IVF parameters
        return out
    if kind == "hnsw":
        out = faiss.SearchParametersHNSW()
        out.efSearch = int(params["efSearch"])
    else:
        out = faiss.SearchParameters()
    if selector is not None:
        out.sel = selector
    return out


def apply_search_params(index: faiss.Index, kind: str, params: dict) -> None:
    """Set the tuned knob on the index itself (for callers that search without parameters)."""
    if kind == "ivfpq":
        faiss.extract_index_ivf(index).nprobe = int(params["nprobe"])
        faiss.downcast_index(index).k_factor = float(params["k_factor"])
    elif kind == "hnsw":
        index.hnsw.efSearch = int(params["efSearch"])


def recall_at_k(found: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Per query: |found ∩ truth| / k for (q, k) label arrays (−1 = no result)."""
    k = truth.shape[1]
    return np.array([np.intersect1d(f[f >= 0], t).size / k for f, t in zip(found, truth, strict=True)])


def measure_recall(index: faiss.Index, kind: str, params: dict, queries: np.ndarray, truth: np.ndarray) -> Recall:
    _, found = index.search(queries, truth.shape[1], params=search_parameters(kind, params))
    per_query = recall_at_k(found, truth)
    stderr = float(per_query.std(ddof=1) / np.sqrt(per_query.size)) if per_query.size > 1 else 0.0
    return Recall(truth.shape[1], float(per_query.mean()), stderr, int(per_query.size))


def knob_values(kind: str, params: dict, k: int) -> Iterable[int]:
    """Candidate values of the query-time knob, cheapest first."""
    if kind == "ivfpq":
        nlist = int(params["nlist"])
        values, value = [], 1
        while value < nlist:
            values.append(value)
            value *= 2
        return [*values, nlist]
    if kind == "hnsw":
        value, values = 16, []
        while value < 4 * max(k, 16):
            values.append(value)
            value *= 2
        return [*values, value, 2 * value]
    return []


def tune(index: faiss.Index, kind: str, params: dict, queries: np.ndarray, truth: np.ndarray,
         recall_target: float) -> tuple[dict, Recall, bool]:
    """The cheapest knob value meeting `recall_target`, its recall, and whether the target was met."""
    knob = {"ivfpq": "nprobe", "hnsw": "efSearch"}.get(kind)
    if knob is None:
        return dict(params), measure_recall(index, kind, params, queries, truth), True
    best: tuple[dict, Recall] | None = None
    for value in knob_values(kind, params, truth.shape[1]):
        trial = {**params, knob: value}
        recall = measure_recall(index, kind, trial, queries, truth)
        if best is None or recall.value > best[1].value:
            best = (trial, recall)
        if recall.value >= recall_target:
            return trial, recall, True
    assert best is not None
    return best[0], best[1], False
