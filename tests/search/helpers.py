"""Builders shared by the embed, search and CLI tests: stores with positions and magnitudes, and
random or clustered vectors written as Embeddings.

Two kinds of store: the simulated survey (64 objects, ~1 s, cached per test session under pytest's
base temp folder) where the catalogue is realistic, and a synthetic store written directly with
:class:`StoreWriter` (4-pixel stamps) where a test needs thousands of objects or chosen positions
(poles, RA wrap) and magnitudes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from skyssl.embed import write_embeddings
from skyssl.manifest import has_manifest
from skyssl.sim.config import SimConfig
from skyssl.sim.driver import simulate_store
from skyssl.store import Store, StoreWriter
from skyssl.surveys import get

SIM_CONFIG = SimConfig(survey="legacy", n_objects=64, seed=0, lens_rate=0.05)


def sim_store(tmp_path_factory) -> Path:
    """The 64-object simulated legacy store, built once per session (per xdist worker)."""
    path = tmp_path_factory.getbasetemp() / "skyssl-sim-legacy-64"
    if not has_manifest(path):
        simulate_store(SIM_CONFIG, path, workers=1, overwrite=path.exists())
    return path


def synthetic_store(path: Path, ra_deg: np.ndarray, dec_deg: np.ndarray, mag: np.ndarray | None = None,
                    columns: dict[str, np.ndarray] | None = None, seed: int = 0, overwrite: bool = False) -> Path:
    """A skyssl store of tiny stamps whose catalogue is exactly what the test says."""
    n = ra_deg.size
    rng = np.random.default_rng(seed)
    mag = rng.uniform(17.0, 21.0, (n, 3)) if mag is None else mag
    writer = StoreWriter(path, get("legacy"), n, rows_per_shard=max(n // 2, 1), stamp_size_px=4, overwrite=overwrite)
    base = {"object_id": 1_000_000 + np.arange(n, dtype=np.int64) * 7, "ra": ra_deg, "dec": dec_deg, "mag": mag,
            "z_phot_mean": rng.uniform(0.0, 1.0, n), "type": np.array(["REX", "EXP", "DEV", "SER"])[np.arange(n) % 4],
            **(columns or {})}
    for k in range(writer.n_shards):
        a, b = writer.shard_rows(k)
        images = rng.normal(0.0, 1.0, (b - a, 3, 4, 4)).astype(np.float32)
        writer.write_shard(k, images, {name: np.asarray(v)[a:b] for name, v in base.items()})
    return writer.finish(checksums=False)


def uniform_sky(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions uniform on the sphere (so poles and RA = 0/360 are covered)."""
    rng = np.random.default_rng(seed)
    return rng.uniform(0.0, 360.0, n), np.degrees(np.arcsin(rng.uniform(-1.0, 1.0, n)))


def clustered_vectors(n: int, dim: int, n_clusters: int, spread: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(vectors, cluster label): Gaussian clusters around random centres (spread relative to unit centres)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((n_clusters, dim)) / np.sqrt(dim)
    labels = rng.integers(0, n_clusters, n)
    vectors = centres[labels] + spread * rng.standard_normal((n, dim)) / np.sqrt(dim)
    return vectors.astype(np.float32), labels


def embeddings_for(store_path: Path, out: Path, vectors: np.ndarray | None = None, dim: int = 16, seed: int = 0,
                   dtype: str = "float32", projection: np.ndarray | None = None, rows_per_shard: int = 40) -> Path:
    """Write vectors (random when not given) for every row of a store, in row order."""
    with Store.open(store_path) as store:
        ids, n = store.object_ids, store.n_objects
    if vectors is None:
        vectors = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    by_kind = {"backbone": vectors}
    if projection is not None:
        by_kind["projection"] = projection
    return write_embeddings(out, ids, np.arange(n), by_kind, store_path, checkpoint_info={"path": None, "sha256": None},
                            spec={"test": "random vectors"}, dtype=dtype, rows_per_shard=rows_per_shard)


def brute_force(vectors: np.ndarray, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact cosine top-k by numpy: (positions, similarities), ties by position."""
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    q = query / np.linalg.norm(query)
    sims = unit.astype(np.float64) @ q.astype(np.float64)
    order = np.lexsort((np.arange(sims.size), -sims))[:k]
    return order, sims[order]
