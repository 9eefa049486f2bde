"""Write the Embeddings artefact: HDF5 shards of (object_id, store row, vectors) + a manifest, resumably.

Layout of `EMB/`:

- `part-NNNNN.h5`, each with `object_id` (n,) int64, `row` (n,) int64 (the store row the vector was
  computed from), `backbone` (n, D) and optionally `projection` (n, 128), float16 or float32; datasets
  are contiguous so a range of rows is one read.
- `manifest.json` (kind ``skyssl.embeddings``, schema 1): `n_objects`, `dims` per kind, `dtype`,
  `kinds`, `store` (path + manifest sha256, or the authors' file list + sizes), `checkpoint` (path +
  sha256, as given by the caller), `preprocessing` (the spec, free-form), `rows_per_shard` and `shards`
  (path, first position, rows, bytes, sha256).

Writing follows the store's pattern (:mod:`skyssl.embed.partial`): shards appear whole in
`EMB.partial/` and a rerun of the same job resumes from the first missing shard; the manifest is
written last, after checking every row's id against the store, and the folder renamed into place.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from skyssl import __version__
from skyssl.embed.partial import PartialFolder
from skyssl.embed.provenance import check_store_matches, store_record
from skyssl.embed.reader import EMBEDDINGS_KIND, EMBEDDINGS_SCHEMA_VERSION, VECTOR_KINDS, Embeddings
from skyssl.errors import ArtefactError
from skyssl.manifest import sha256_file
from skyssl.store import Store
from skyssl.store.writer import shard_name

__all__ = ["EMBEDDINGS_KIND", "EMBEDDINGS_SCHEMA_VERSION", "EmbeddingShardWriter", "EmbeddingWriter",
           "Embeddings", "write_embeddings"]

VECTOR_DTYPES = ("float16", "float32")
DEFAULT_ROWS_PER_SHARD = 65536


def _check_dims(dims: Mapping[str, int]) -> dict[str, int]:
    if "backbone" not in dims:
        raise ArtefactError("embeddings need a 'backbone' vector kind")
    unknown = sorted(set(dims) - set(VECTOR_KINDS))
    if unknown:
        raise ArtefactError(f"unknown vector kind(s) {unknown}; known: {list(VECTOR_KINDS)}")
    if any(int(d) < 1 for d in dims.values()):
        raise ArtefactError(f"vector dimensions must be positive, got {dict(dims)}")
    return {kind: int(dims[kind]) for kind in VECTOR_KINDS if kind in dims}


class EmbeddingWriter:
    """Writes the shards of an Embeddings artefact whose size is known up front.

    `store` is the store the vectors were computed from (path or open :class:`Store`);
    `checkpoint_info` is a dict such as ``{"path": …, "sha256": …}``; `spec` is the preprocessing
    spec (crop, stretch, bands…). `job` adds whatever else defines the job for resume checks.
    """

    def __init__(self, out: str | Path, store: str | Path | Store, n_objects: int, dims: Mapping[str, int],
                 dtype: str = "float16", rows_per_shard: int = DEFAULT_ROWS_PER_SHARD,
                 checkpoint_info: Mapping[str, Any] | None = None, spec: Mapping[str, Any] | None = None,
                 job: Mapping[str, Any] | None = None, overwrite: bool = False):
        if dtype not in VECTOR_DTYPES:
            raise ArtefactError(f"embedding dtype must be one of {VECTOR_DTYPES}, not {dtype!r}")
        if n_objects < 1 or rows_per_shard < 1:
            raise ArtefactError("embeddings need at least one object and one row per shard")
        self.dims = _check_dims(dims)
        self.n_objects, self.rows_per_shard, self.dtype = int(n_objects), int(rows_per_shard), dtype
        self.checkpoint_info = dict(checkpoint_info or {})
        self.spec = dict(spec or {})
        if isinstance(store, Store):
            self.store_record = store_record(store)
        else:
            with Store.open(store) as opened:
                self.store_record = store_record(opened)
        record = {"job": dict(job or {}), "n_objects": self.n_objects, "dims": self.dims, "dtype": dtype,
                  "rows_per_shard": self.rows_per_shard, "store": self.store_record,
                  "checkpoint": self.checkpoint_info, "preprocessing": self.spec}
        self.folder = PartialFolder(out, record, overwrite=overwrite)
        self.out = self.folder.out

    @property
    def n_shards(self) -> int:
        return -(-self.n_objects // self.rows_per_shard)

    def shard_rows(self, index: int) -> tuple[int, int]:
        """Positions [start, stop) of shard `index` within the artefact."""
        start = index * self.rows_per_shard
        return start, min(self.n_objects, start + self.rows_per_shard)

    def done_shards(self) -> list[int]:
        """Shards already complete (from an interrupted run of the same job)."""
        return [k for k in range(self.n_shards) if self.folder.has_piece(shard_name(k))]

    def open_shard(self, index: int) -> EmbeddingShardWriter:
        """Start shard `index`, to be filled batch by batch so that it never sits in memory whole."""
        if not 0 <= index < self.n_shards:
            raise ArtefactError(f"shard {index} out of range [0, {self.n_shards})")
        start, stop = self.shard_rows(index)
        attrs = {"skyssl_version": __version__, "first_position": start, "dtype": self.dtype}
        return EmbeddingShardWriter(self.folder, shard_name(index), stop - start, self.dims, self.dtype, attrs)

    def write_shard(self, index: int, object_ids: np.ndarray, rows: np.ndarray,
                    vectors_by_kind: Mapping[str, np.ndarray]) -> Path:
        """Write a whole shard at once."""
        shard = self.open_shard(index)
        try:
            shard.write(0, object_ids, rows, vectors_by_kind)
            return shard.close()
        except BaseException:
            shard.discard()
            raise

    def finish(self, store: Store | None = None) -> Path:
        """Check every shard is present and every id matches the store, write the manifest, publish."""
        missing = [k for k in range(self.n_shards) if not self.folder.has_piece(shard_name(k))]
        if missing:
            raise ArtefactError(f"cannot finish {self.out}: shard(s) {missing[:5]} missing")
        shards, ids, rows = [], [], []
        for k in range(self.n_shards):
            path = self.folder.piece(shard_name(k))
            start, stop = self.shard_rows(k)
            with h5py.File(path, "r") as handle:
                ids.append(handle["object_id"][:])
                rows.append(handle["row"][:])
            shards.append({"path": path.name, "first_position": start, "n_objects": stop - start,
                           "bytes": path.stat().st_size, "sha256": sha256_file(path)})
        self._check_against_store(store, np.concatenate(ids), np.concatenate(rows))
        body = {"n_objects": self.n_objects, "dims": self.dims, "dtype": self.dtype, "kinds": list(self.dims),
                "store": self.store_record, "checkpoint": self.checkpoint_info, "preprocessing": self.spec,
                "rows_per_shard": self.rows_per_shard, "shards": shards}
        return self.folder.publish(EMBEDDINGS_KIND, EMBEDDINGS_SCHEMA_VERSION, body)

    def _check_against_store(self, store: Store | None, ids: np.ndarray, rows: np.ndarray) -> None:
        if np.unique(ids).size != ids.size:
            raise ArtefactError(f"{self.out}: object ids repeat; embeddings are keyed by object_id")
        if store is None:
            with Store.open(self.store_record["path"]) as opened:
                check_store_matches(opened, self.store_record["n_objects"], rows, ids, "the embeddings")
        else:
            check_store_matches(store, self.store_record["n_objects"], rows, ids, "the embeddings")


class EmbeddingShardWriter:
    """One shard being written under a `.tmp` name; published by :meth:`close` once every row is set."""

    def __init__(self, folder: PartialFolder, name: str, n_rows: int, dims: Mapping[str, int], dtype: str,
                 attrs: Mapping[str, object]):
        self.final = folder.piece(name)
        self.tmp = self.final.with_name(self.final.name + ".tmp")
        self.n_rows = n_rows
        self._written = np.zeros(n_rows, bool)
        self._handle = h5py.File(self.tmp, "w")
        self._handle.attrs.update(dict(attrs))
        self._ids = self._handle.create_dataset("object_id", shape=(n_rows,), dtype=np.int64)
        self._rows = self._handle.create_dataset("row", shape=(n_rows,), dtype=np.int64)
        self._vectors = {kind: self._handle.create_dataset(kind, shape=(n_rows, dim), dtype=dtype)
                         for kind, dim in dims.items()}

    def write(self, offset: int, object_ids: np.ndarray, rows: np.ndarray,
              vectors_by_kind: Mapping[str, np.ndarray]) -> None:
        """Positions [offset, offset + n) of this shard."""
        object_ids, rows = np.asarray(object_ids, np.int64).ravel(), np.asarray(rows, np.int64).ravel()
        n = object_ids.size
        if rows.size != n or offset < 0 or offset + n > self.n_rows:
            raise ArtefactError(f"{self.final.name}: {n} ids / {rows.size} rows at {offset} do not fit "
                                f"{self.n_rows} rows")
        if set(vectors_by_kind) != set(self._vectors):
            raise ArtefactError(f"{self.final.name}: vector kinds {sorted(vectors_by_kind)}, expected "
                                f"{sorted(self._vectors)}")
        for kind, values in vectors_by_kind.items():
            values = np.asarray(values)
            expected = (n, self._vectors[kind].shape[1])
            if values.shape != expected:
                raise ArtefactError(f"{self.final.name}: {kind} vectors {values.shape}, expected {expected}")
            if not np.isfinite(values).all():
                raise ArtefactError(f"{self.final.name}: {kind} vectors hold non-finite values")
            self._vectors[kind][offset : offset + n] = values.astype(self._vectors[kind].dtype, copy=False)
        self._ids[offset : offset + n] = object_ids
        self._rows[offset : offset + n] = rows
        self._written[offset : offset + n] = True

    def close(self) -> Path:
        if not self._written.all():
            raise ArtefactError(f"{self.final.name}: rows {np.flatnonzero(~self._written)[:3].tolist()} never written")
        self._handle.close()
        self.tmp.replace(self.final)
        return self.final

    def discard(self) -> None:
        try:
            self._handle.close()
        finally:
            self.tmp.unlink(missing_ok=True)


def write_embeddings(out: str | Path, object_ids: np.ndarray, rows: np.ndarray,
                     vectors_by_kind: Mapping[str, np.ndarray], store_path: str | Path,
                     checkpoint_info: Mapping[str, Any] | None = None, spec: Mapping[str, Any] | None = None,
                     dtype: str = "float32", rows_per_shard: int = DEFAULT_ROWS_PER_SHARD,
                     overwrite: bool = False) -> Path:
    """Write in-memory vectors as an Embeddings artefact (tests, small runs, the `embed` command's tail)."""
    object_ids = np.asarray(object_ids, np.int64).ravel()
    rows = np.asarray(rows, np.int64).ravel()
    dims = {kind: int(np.asarray(v).shape[1]) for kind, v in vectors_by_kind.items()}
    with Store.open(store_path) as store:
        writer = EmbeddingWriter(out, store, object_ids.size, dims, dtype=dtype, rows_per_shard=rows_per_shard,
                                 checkpoint_info=checkpoint_info, spec=spec, overwrite=overwrite)
        done = set(writer.done_shards())
        for k in range(writer.n_shards):
            if k in done:
                continue
            a, b = writer.shard_rows(k)
            writer.write_shard(k, object_ids[a:b], rows[a:b],
                               {kind: np.asarray(v)[a:b] for kind, v in vectors_by_kind.items()})
        return writer.finish(store)
