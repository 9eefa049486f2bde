"""Anomaly scores on representations: higher means more unusual.

- `knn`: the mean cosine distance (1 − cosine similarity) from an object to its k nearest other
  objects, by exact inner-product search over L2-normalised vectors (Faiss `IndexFlatIP`). An object
  in a sparse region of the representation space — a rare class, an artefact — is far from even its
  nearest neighbours. Exact search costs N² · D multiply-adds: seconds at 10⁵ × 2048 on a GPU or a
  few cores, hours at 10⁶ on a laptop (where an approximate index would be the next step).
- `iforest`: scikit-learn's isolation forest, fitted on a seeded sample of the unit vectors projected
  on their leading principal components, scoring every object by how few random axis splits isolate
  it (score = −`score_samples`). The projection makes the forest's cost independent of the vector
  width; on the 2,000-object demo survey (256-d vectors) it ranked rare morphologies and lenses a
  little higher than the raw unit vectors (ROC AUC 0.60 vs 0.55 and 0.61 vs 0.58) and artefacts a
  little lower (0.78 vs 0.80).

Both are deterministic for a given seed.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from skyssl.errors import InputError
from skyssl.search.topk import normalise_rows

METHODS = ("knn", "iforest")
DEFAULT_K = 10
QUERY_BATCH = 4096
IFOREST_TREES = 200
IFOREST_PCA_DIMS = 50
IFOREST_FIT_SAMPLE = 100_000
SCORE_BATCH = 65536


def check_k(k: int, n_objects: int) -> None:
    if not 1 <= k <= n_objects - 1:
        raise InputError(f"--k must be between 1 and the number of objects − 1 ({n_objects - 1}), got {k}")


def knn_distance_scores(vectors: np.ndarray, k: int = DEFAULT_K, batch: int = QUERY_BATCH,
                        on_batch: Callable[[int], None] | None = None) -> np.ndarray:
    """Mean cosine distance of each row to its k nearest other rows (float32, exact, itself excluded).

    Each object is searched for k + 1 neighbours and its own position dropped; when identical vectors
    push it out of its own top k + 1, the farthest of the k + 1 is dropped instead, so the k kept are
    always other objects.
    """
    import faiss

    unit = np.ascontiguousarray(normalise_rows(np.asarray(vectors, dtype=np.float32)))
    n = unit.shape[0]
    check_k(k, n)
    index = faiss.IndexFlatIP(unit.shape[1])
    index.add(unit)
    scores = np.empty(n, dtype=np.float32)
    for start in range(0, n, batch):
        stop = min(n, start + batch)
        sims, ids = index.search(unit[start:stop], k + 1)
        own = ids == np.arange(start, stop)[:, None]
        own[~own.any(axis=1), -1] = True
        kept = sims[~own].reshape(stop - start, k)
        scores[start:stop] = 1.0 - kept.mean(axis=1, dtype=np.float64)
        if on_batch is not None:
            on_batch(stop - start)
    return scores


def iforest_scores(vectors: np.ndarray, seed: int = 0, n_trees: int = IFOREST_TREES,
                   pca_dims: int = IFOREST_PCA_DIMS, fit_sample: int = IFOREST_FIT_SAMPLE) -> np.ndarray:
    """Isolation-forest anomaly score of each row (higher: isolated sooner), float32."""
    from sklearn.decomposition import PCA
    from sklearn.ensemble import IsolationForest

    unit = normalise_rows(np.asarray(vectors, dtype=np.float32))
    n = unit.shape[0]
    if n < 2:
        raise InputError(f"an isolation forest needs at least 2 objects, got {n}")
    rng = np.random.default_rng(seed)
    sample = unit if n <= fit_sample else unit[np.sort(rng.choice(n, size=fit_sample, replace=False))]
    components = min(pca_dims, sample.shape[0], sample.shape[1])
    pca = PCA(n_components=components, random_state=seed).fit(sample) if 0 < components < unit.shape[1] else None

    def features(rows: np.ndarray) -> np.ndarray:
        return rows if pca is None else pca.transform(rows)

    forest = IsolationForest(n_estimators=n_trees, random_state=seed).fit(features(sample))
    scores = np.empty(n, dtype=np.float32)
    for start in range(0, n, SCORE_BATCH):
        scores[start : start + SCORE_BATCH] = -forest.score_samples(features(unit[start : start + SCORE_BATCH]))
    return scores


def anomaly_scores(vectors: np.ndarray, method: str = "knn", k: int = DEFAULT_K, seed: int = 0,
                   on_batch: Callable[[int], None] | None = None) -> np.ndarray:
    """Scores by the named method (see the module notes); one-line errors for unknown methods or empty input."""
    if method not in METHODS:
        raise InputError(f"unknown anomaly method {method!r}; choose one of {', '.join(METHODS)}")
    if vectors.shape[0] == 0:
        raise InputError("no vectors to score")
    if method == "knn":
        return knn_distance_scores(vectors, k, on_batch=on_batch)
    return iforest_scores(vectors, seed)
