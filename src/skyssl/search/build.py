"""`build_index`: an Index artefact from Embeddings, with its recall measured at build time.

Layout of `INDEX/`: `index.faiss` (positions 0…n−1 of the embeddings are the Faiss labels), `ids.npy`
(int64 object id of each label, so results can be served without the embeddings) and `manifest.json`
(kind ``skyssl.index``): index kind, metric, build and query parameters, recall@k measured against
exact search on a sample of the indexed vectors (each used as a query), the embeddings' path and the
SHA-256 of their manifest, the vector kind and the store path. Built in `INDEX.partial/` and renamed.
"""

from __future__ import annotations

import time
from pathlib import Path

import faiss
import numpy as np

from skyssl.embed.partial import PartialFolder
from skyssl.embed.reader import Embeddings
from skyssl.errors import InputError
from skyssl.search.faiss_index import INDEX_KINDS, build_faiss_index, default_params, tune
from skyssl.search.topk import normalise_rows

INDEX_KIND = "skyssl.index"
INDEX_SCHEMA_VERSION = 1
INDEX_FILE, IDS_FILE = "index.faiss", "ids.npy"
METRIC = "cosine (inner product of L2-normalised float32 vectors)"
DEFAULT_RECALL_TARGET = 0.95


def load_unit_vectors(embeddings: Embeddings, vector_kind: str) -> np.ndarray:
    """All vectors of one kind as a contiguous, L2-normalised float32 matrix (what Faiss indexes)."""
    return np.ascontiguousarray(normalise_rows(embeddings.vectors(vector_kind)))


def sample_truth(vectors: np.ndarray, n_queries: int, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded sample of the indexed vectors used as queries, and their exact top-k labels."""
    n = vectors.shape[0]
    picks = np.sort(np.random.default_rng(seed).choice(n, size=min(n_queries, n), replace=False))
    queries = vectors[picks]
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    _, truth = exact.search(queries, k)
    return queries, truth


def build_index(embeddings: str | Path | Embeddings, out: str | Path, kind: str = "flat",
                params: dict | None = None, vector_kind: str = "backbone", sample_queries: int = 1000,
                k: int = 100, recall_target: float = DEFAULT_RECALL_TARGET, seed: int = 0,
                overwrite: bool = False) -> Path:
    """Build, tune and measure an index over `embeddings`, written to `out`; returns `out`.

    `params` override the kind's defaults (see :mod:`skyssl.search.faiss_index`); a query-time knob
    given here (`nprobe`, `efSearch`) is kept as is and only measured, not tuned.
    """
    if kind not in INDEX_KINDS:
        raise InputError(f"unknown index kind {kind!r}; choose one of {', '.join(INDEX_KINDS)}")
    if k < 1 or sample_queries < 1:
        raise InputError(f"k and sample_queries must be at least 1, got k={k}, sample_queries={sample_queries}")
    opened = embeddings if isinstance(embeddings, Embeddings) else Embeddings.open(embeddings)
    try:
        opened.open_store().close()  # an index over embeddings that no longer match their store is useless
        return _build(opened, Path(out), kind, params, vector_kind, sample_queries, k, recall_target, seed,
                      overwrite)
    finally:
        if opened is not embeddings:
            opened.close()


def _build(embeddings: Embeddings, out: Path, kind: str, params: dict | None, vector_kind: str,
           sample_queries: int, k: int, recall_target: float, seed: int, overwrite: bool) -> Path:
    vectors = load_unit_vectors(embeddings, vector_kind)
    n, dim = vectors.shape
    k_eff = min(k, n)
    build_params = {**default_params(kind, n, dim), **(params or {})}
    job = {"embeddings": str(embeddings.path.resolve()), "embeddings_manifest_sha256": embeddings.manifest_sha256,
           "kind": kind, "params": build_params, "vector_kind": vector_kind, "seed": seed}
    folder = PartialFolder(out, job, overwrite=overwrite, resumable=False)
    started = time.perf_counter()
    index = build_faiss_index(kind, vectors, build_params, seed=seed)
    build_seconds = time.perf_counter() - started
    queries, truth = sample_truth(vectors, sample_queries, k_eff, seed + 1)
    knob = {"ivfpq": "nprobe", "hnsw": "efSearch"}.get(kind)
    fixed = knob is not None and knob in (params or {})
    tuned, recall, met = tune(index, kind, build_params, queries, truth, 0.0 if fixed else recall_target)
    folder.write_piece(INDEX_FILE, lambda tmp: faiss.write_index(index, str(tmp)))
    folder.write_piece(IDS_FILE, lambda tmp: save_int64_npy(tmp, embeddings.object_ids))
    body = {
        "index_kind": kind, "metric": METRIC, "params": tuned, "n_objects": n, "dim": dim,
        "vector_kind": vector_kind, "recall_at_k": recall.as_dict(), "recall_target": recall_target,
        "recall_target_met": bool(met), "build_seconds": round(build_seconds, 3), "seed": seed,
        "embeddings": {"path": str(embeddings.path.resolve()), "manifest_sha256": embeddings.manifest_sha256},
        "store": {"path": str(embeddings.store_path)},
        "files": {"index": INDEX_FILE, "ids": IDS_FILE},
    }
    return folder.publish(INDEX_KIND, INDEX_SCHEMA_VERSION, body)


def save_int64_npy(path: Path, values: np.ndarray) -> None:
    with open(path, "wb") as handle:
        np.save(handle, np.asarray(values, dtype=np.int64))
