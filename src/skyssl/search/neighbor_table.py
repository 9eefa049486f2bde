"""Read a Neighbour table: one object's k neighbours are one small read per file.

Layout of `TABLE/` (kind ``skyssl.neighbors``): blocks of `block_rows` consecutive embedding positions,
each as two raw little-endian files — `indices-NNNNN.bin` (int32, rows of k neighbour positions) and
`similarities-NNNNN.bin` (float16 or float32, rows of k cosines) — plus `object_ids.npy` (int64 id of
every position) and the manifest. Row r lies in block r // block_rows at byte offset
(r mod block_rows)·k·4 (indices) and (r mod block_rows)·k·itemsize (similarities), the authors'
app-serving format generalised, so an HTTP range request serves it as well as `pread` does.
Position −1 with similarity −inf marks an empty slot (fewer than k candidates in a magnitude window).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from skyssl.errors import ArtefactError, InputError
from skyssl.manifest import read_manifest

NEIGHBORS_KIND = "skyssl.neighbors"
NEIGHBORS_SCHEMA_VERSION = 1
INDEX_DTYPE = np.dtype("<i4")
SIMILARITY_DTYPES = {"float16": np.dtype("<f2"), "float32": np.dtype("<f4")}
IDS_FILE = "object_ids.npy"


def block_file_names(block: int) -> tuple[str, str]:
    return f"indices-{block:05d}.bin", f"similarities-{block:05d}.bin"


@dataclass(frozen=True)
class NeighborRow:
    """One object's neighbours, best first (the object itself at rank 0): positions, ids, cosines."""

    object_id: int
    positions: np.ndarray
    object_ids: np.ndarray
    similarities: np.ndarray


class NeighborTable:
    """An opened table; file descriptors stay open so each row costs two `pread` calls."""

    def __init__(self, path: Path, manifest: dict):
        self.path, self.manifest = path, manifest
        self.k = int(manifest["k"])
        self.block_rows = int(manifest["block_rows"])
        self.similarity_dtype = SIMILARITY_DTYPES[manifest["similarity_dtype"]]
        self.object_ids = np.load(path / IDS_FILE)
        if self.object_ids.size != int(manifest["n_objects"]):
            raise ArtefactError(f"{path}: {IDS_FILE} holds {self.object_ids.size} ids, manifest says "
                                f"{manifest['n_objects']}")
        self._sorter = np.argsort(self.object_ids, kind="stable")
        self._fds: list[tuple[int, int]] = []
        try:
            for block in manifest["blocks"]:
                self._fds.append((os.open(path / block["indices"], os.O_RDONLY),
                                  os.open(path / block["similarities"], os.O_RDONLY)))
        except FileNotFoundError as exc:
            self.close()
            raise ArtefactError(f"{path}: block file {Path(exc.filename).name} is missing") from None

    @classmethod
    def open(cls, path: str | Path) -> NeighborTable:
        path = Path(path)
        if not path.exists():
            raise InputError(f"{path}: no such neighbour table")
        return cls(path, read_manifest(path, NEIGHBORS_KIND, NEIGHBORS_SCHEMA_VERSION))

    def close(self) -> None:
        for fd_indices, fd_sims in self._fds:
            os.close(fd_indices)
            os.close(fd_sims)
        self._fds = []

    def __enter__(self) -> NeighborTable:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def n_objects(self) -> int:
        return int(self.object_ids.size)

    def position_of(self, object_id: int) -> int:
        sorted_ids = self.object_ids[self._sorter]
        pos = int(np.searchsorted(sorted_ids, object_id))
        if pos >= sorted_ids.size or sorted_ids[pos] != object_id:
            raise InputError(f"unknown object_id {object_id} (not in {self.path})")
        return int(self._sorter[pos])

    def row(self, object_id: int | None = None, *, position: int | None = None) -> NeighborRow:
        """The neighbours of an object, named by id or by its position (row) in the table."""
        if (object_id is None) == (position is None):
            raise InputError("name exactly one of object_id or position")
        if position is None:
            position = self.position_of(int(object_id))
        if not 0 <= position < self.n_objects:
            raise InputError(f"position {position} out of range [0, {self.n_objects})")
        block, local = divmod(int(position), self.block_rows)
        fd_indices, fd_sims = self._fds[block]
        positions = _pread_array(fd_indices, INDEX_DTYPE, self.k, local)
        similarities = _pread_array(fd_sims, self.similarity_dtype, self.k, local)
        ids = np.where(positions >= 0, self.object_ids[np.maximum(positions, 0)], -1)
        return NeighborRow(int(self.object_ids[position]), positions.astype(np.int64), ids,
                           similarities.astype(np.float32))


def _pread_array(fd: int, dtype: np.dtype, k: int, local_row: int) -> np.ndarray:
    n_bytes = k * dtype.itemsize
    raw = os.pread(fd, n_bytes, local_row * n_bytes)
    if len(raw) != n_bytes:
        raise ArtefactError(f"neighbour table block is truncated at row {local_row}")
    return np.frombuffer(raw, dtype=dtype)
