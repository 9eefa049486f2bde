"""Which store an artefact was made from, and whether that store is still the same one.

A skyssl store is fingerprinted by the SHA-256 of its manifest (which itself holds every shard's
checksum); the authors' DR9/SDSS files have no manifest, so they are fingerprinted by file names and
sizes (hashing 277 GB per file is not an option). Whatever the fingerprint says, the decisive check at
read time is the ids: embeddings are keyed by `object_id`, so they match a store when the store has
the recorded number of objects and holds the recorded id at every recorded row.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from skyssl.errors import ArtefactError
from skyssl.manifest import MANIFEST_NAME, has_manifest, sha256_file
from skyssl.store import Store


def store_record(store: Store) -> dict:
    """The `store` entry of a manifest: absolute path, size, and a manifest checksum or a file list."""
    path = Path(store.path).resolve()
    record: dict = {"path": str(path), "n_objects": int(store.n_objects), "layout": store.layout}
    if path.is_dir() and has_manifest(path):
        record["manifest_sha256"] = sha256_file(path / MANIFEST_NAME)
    else:
        record["files"] = [{"path": str(Path(f).resolve()), "bytes": Path(f).stat().st_size} for f in store.files]
    return record


def check_store_matches(store: Store, n_objects_recorded: int, rows: np.ndarray, object_ids: np.ndarray,
                        what: str) -> None:
    """Raise :class:`ArtefactError` unless `store` has the recorded size and the recorded id at each row."""
    if store.n_objects != n_objects_recorded:
        raise ArtefactError(f"{what} were made from a store of {n_objects_recorded} objects, but {store.path} "
                            f"holds {store.n_objects}; the store changed since")
    if rows.size and (rows.min() < 0 or rows.max() >= store.n_objects):
        raise ArtefactError(f"{what} refer to rows outside {store.path} (0–{store.n_objects - 1})")
    stored = store.object_ids[rows]
    mismatch = np.flatnonzero(stored != object_ids)
    if mismatch.size:
        first = int(mismatch[0])
        raise ArtefactError(f"{what} do not match {store.path}: row {int(rows[first])} holds object_id "
                            f"{int(stored[first])}, expected {int(object_ids[first])} ({mismatch.size} rows differ)")
