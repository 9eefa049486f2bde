"""Read an Embeddings artefact: ids, store rows and vectors, by position, id or batch.

Positions (0 … n−1) address vectors inside the artefact, in shard order; `object_ids[p]` and
`rows[p]` say which object and which store row position `p` holds. When a whole store is embedded in
order, positions equal store rows, but nothing relies on that: lookups go through `object_id`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import cached_property
from pathlib import Path

import numpy as np

from skyssl.embed.provenance import check_store_matches
from skyssl.errors import ArtefactError, InputError
from skyssl.manifest import MANIFEST_NAME, read_manifest, sha256_file
from skyssl.store import Store
from skyssl.store.layout import open_h5

EMBEDDINGS_KIND = "skyssl.embeddings"
EMBEDDINGS_SCHEMA_VERSION = 1
VECTOR_KINDS = ("backbone", "projection")


class Embeddings:
    """A read-only view of an Embeddings artefact; open with :meth:`open`, close or use as a context."""

    def __init__(self, path: Path, manifest: dict):
        self.path = path
        self.manifest = manifest
        files = [path / shard["path"] for shard in manifest["shards"]]
        missing = [f.name for f in files if not f.is_file()]
        if missing:
            raise ArtefactError(f"{path}: manifest lists missing shard(s) {', '.join(missing[:3])}")
        self._handles = [open_h5(str(f)) for f in files]
        sizes = [int(h["object_id"].shape[0]) for h in self._handles]
        self._offsets = np.cumsum([0, *sizes])
        if int(self._offsets[-1]) != int(manifest["n_objects"]):
            self.close()
            raise ArtefactError(f"{path}: shards hold {int(self._offsets[-1])} rows, manifest says "
                                f"{manifest['n_objects']}")

    @classmethod
    def open(cls, path: str | Path) -> Embeddings:
        path = Path(path)
        if not path.exists():
            raise InputError(f"{path}: no such embeddings folder")
        return cls(path, read_manifest(path, EMBEDDINGS_KIND, EMBEDDINGS_SCHEMA_VERSION))

    def close(self) -> None:
        for handle in self._handles:
            handle.close()
        self._handles = []

    def __enter__(self) -> Embeddings:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- description ---------------------------------------------------------------------------
    @property
    def n_objects(self) -> int:
        return int(self.manifest["n_objects"])

    def __len__(self) -> int:
        return self.n_objects

    @property
    def kinds(self) -> list[str]:
        return list(self.manifest["kinds"])

    @property
    def dims(self) -> dict[str, int]:
        return {k: int(v) for k, v in self.manifest["dims"].items()}

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self.manifest["dtype"])

    @property
    def store_path(self) -> Path:
        return Path(self.manifest["store"]["path"])

    @cached_property
    def manifest_sha256(self) -> str:
        """Checksum of this artefact's manifest: what indexes and tables record as their input."""
        return sha256_file(self.path / MANIFEST_NAME)

    @cached_property
    def object_ids(self) -> np.ndarray:
        return np.concatenate([h["object_id"][:] for h in self._handles])

    @cached_property
    def rows(self) -> np.ndarray:
        """The store row each position was computed from."""
        return np.concatenate([h["row"][:] for h in self._handles])

    @cached_property
    def _id_sorter(self) -> np.ndarray:
        return np.argsort(self.object_ids, kind="stable")

    def positions_for_ids(self, object_ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """Positions of the given ids; :class:`InputError` naming the first id not embedded here."""
        wanted = np.asarray(object_ids, dtype=np.int64).ravel()
        sorted_ids = self.object_ids[self._id_sorter]
        pos = np.minimum(np.searchsorted(sorted_ids, wanted), sorted_ids.size - 1)
        found = sorted_ids[pos] == wanted
        if not found.all():
            missing = wanted[~found]
            raise InputError(f"unknown object_id {int(missing[0])} (not in {self.path}; "
                             f"{missing.size} of {wanted.size} ids unknown)")
        return self._id_sorter[pos]

    # --- vectors -------------------------------------------------------------------------------
    def _check_kind(self, kind: str) -> None:
        if kind not in self.kinds:
            raise InputError(f"{self.path} holds {self.kinds} vectors, not {kind!r}")

    def vectors(self, kind: str = "backbone", positions: Sequence[int] | np.ndarray | None = None,
                dtype: np.dtype | type = np.float32) -> np.ndarray:
        """(n, D) vectors of all positions (or the given ones, in the order given), cast to `dtype`."""
        self._check_kind(kind)
        if positions is None:
            return self.read_range(kind, 0, self.n_objects, dtype)
        positions = np.asarray(positions, dtype=np.int64).ravel()
        if positions.size and (positions.min() < 0 or positions.max() >= self.n_objects):
            raise InputError(f"position out of range [0, {self.n_objects})")
        out = np.empty((positions.size, self.dims[kind]), dtype=dtype)
        shard = np.searchsorted(self._offsets, positions, side="right") - 1
        for k in np.unique(shard):
            sel = np.flatnonzero(shard == k)
            local = positions[sel] - self._offsets[k]
            out[sel] = self._read_local(int(k), kind, local)
        return out

    def _read_local(self, shard: int, kind: str, local: np.ndarray) -> np.ndarray:
        """Rows of one shard: one span read when they are dense, else one read per distinct row."""
        dataset = self._handles[shard][kind]
        lo, hi = int(local.min()), int(local.max()) + 1
        if hi - lo <= 4 * local.size:
            return dataset[lo:hi][local - lo]
        unique, inverse = np.unique(local, return_inverse=True)
        return dataset[unique][inverse]

    def read_range(self, kind: str, start: int, stop: int, dtype: np.dtype | type = np.float32) -> np.ndarray:
        """Vectors of positions [start, stop) as one contiguous read per shard touched."""
        self._check_kind(kind)
        start, stop = max(0, int(start)), min(self.n_objects, int(stop))
        out = np.empty((max(0, stop - start), self.dims[kind]), dtype=dtype)
        position = start
        while position < stop:
            shard = int(np.searchsorted(self._offsets, position, side="right") - 1)
            end = min(stop, int(self._offsets[shard + 1]))
            local = position - int(self._offsets[shard])
            out[position - start : end - start] = self._handles[shard][kind][local : local + end - position]
            position = end
        return out

    def iter_batches(self, kind: str = "backbone", batch: int = 65536,
                     dtype: np.dtype | type = np.float32) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Sequential (positions, vectors) batches in artefact order, never crossing a shard within a read."""
        if batch < 1:
            raise InputError(f"batch must be at least 1, got {batch}")
        position = 0
        while position < self.n_objects:
            shard = int(np.searchsorted(self._offsets, position, side="right") - 1)
            end = min(self.n_objects, position + batch, int(self._offsets[shard + 1]))
            yield np.arange(position, end), self.read_range(kind, position, end, dtype)
            position = end

    # --- the store ----------------------------------------------------------------------------
    def open_store(self, path: str | Path | None = None) -> Store:
        """Open the store these vectors came from (or `path`), checking it still holds the same objects."""
        store_path = Path(path) if path is not None else self.store_path
        if not store_path.exists():
            raise ArtefactError(f"{self.path}: its store {store_path} no longer exists")
        store = Store.open(store_path)
        try:
            check_store_matches(store, int(self.manifest["store"]["n_objects"]), self.rows, self.object_ids,
                                f"the embeddings in {self.path}")
        except BaseException:
            store.close()
            raise
        return store
