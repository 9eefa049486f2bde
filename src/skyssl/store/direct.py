"""Direct reads of a contiguous `images` dataset: one `preadv` per run of rows, bypassing HDF5's read path.

A contiguous, unfiltered HDF5 dataset is a plain C-order array at a fixed byte offset in its file —
the authors' DR9/SDSS files are written that way, and so are skyssl shards. Reading a run of rows is
then a single system call into the output buffer, which costs a fraction of h5py's per-call selection
machinery (and far less than a chunk cache, which copies every chunk twice). Anything else (chunked,
compressed, virtual or external datasets, or a file shorter than its header claims) is left to h5py.

`preadv` is used rather than a memory map so that a file truncated after opening fails with a clear
error instead of a SIGBUS.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import h5py
import numpy as np

from skyssl.errors import InputError

MAX_READ_BYTES = 1 << 30  # Linux returns at most ~2 GiB per read; stay well below


@dataclass
class DirectImages:
    """Where a file's images lie: byte offset of row 0, bytes per row, stored dtype, open descriptor."""

    path: str
    fd: int
    offset: int
    row_bytes: int
    n_rows: int
    dtype: np.dtype

    def read(self, start: int, stop: int, out: np.ndarray) -> None:
        """Fill `out` (shape (stop − start, …), any dtype) with rows [start, stop) of the file."""
        if out.dtype == self.dtype and out.flags.c_contiguous:
            buffer = out
        else:
            buffer = np.empty(out.shape, dtype=self.dtype)
        raw = buffer.reshape(-1).view(np.uint8)
        position, done = self.offset + start * self.row_bytes, 0
        while done < raw.size:
            n = os.preadv(self.fd, [raw[done : done + MAX_READ_BYTES]], position + done)
            if n <= 0:
                raise InputError(
                    f"{self.path}: file ends inside image rows {start}–{stop - 1}; truncated file"
                )
            done += n
        if buffer is not out:
            out[...] = buffer

    def close(self) -> None:
        os.close(self.fd)


def open_direct(handle: h5py.File) -> DirectImages | None:
    """A direct reader for `handle['images']`, or None when its storage is not a plain contiguous array."""
    if not hasattr(os, "preadv"):
        return None
    images = handle["images"]
    if images.chunks is not None or images.is_virtual or images.external or images.dtype.kind not in "fiu":
        return None
    offset = images.id.get_offset()
    if offset is None:  # never written: h5py returns the fill value
        return None
    n_rows = int(images.shape[0])
    row_bytes = int(np.prod(images.shape[1:])) * images.dtype.itemsize
    path = handle.filename
    if os.path.getsize(path) < offset + n_rows * row_bytes:
        return None
    return DirectImages(path, os.open(path, os.O_RDONLY), offset, row_bytes, n_rows, images.dtype)
