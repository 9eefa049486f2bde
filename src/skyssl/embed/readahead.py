"""Image rows for bulk extraction: read into reused buffers, the disk told ahead of time which rows come next.

Why this and not only a reader thread: when torch's intra-op threads occupy every core (2 threads on a
2-core machine), a thread copying 277 kB stamps out of the page cache takes a core from one OpenMP
thread and stalls the other at the next barrier, which cost cpu-small 13 % of its throughput
(BENCHMARKS.md, embedding throughput). What the thread bought was overlap with the *disk*, and the
kernel gives that without a thread: `posix_fadvise(WILLNEED)` on the next batch's bytes queues their
readahead and returns, so when the caller reads that batch (one `preadv`) it copies from the page cache.
Reading into the same buffers batch after batch also spares the allocator a fresh mapping of ~70 MB per
batch of 256 Legacy stamps, whose page faults and zeroing are CPU time taken from the model as well.

Rows in files that are not plain contiguous arrays (chunked, compressed; see
:mod:`skyssl.store.direct`) go through :meth:`Store.read_images` without hints.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np
import torch

from skyssl.store import Store
from skyssl.store.direct import DirectImages, open_direct
from skyssl.store.layout import open_h5

ADVICE_BYTES = 8 << 20
"""Bytes per `WILLNEED` call: the kernel reads ahead at most about its readahead window per call."""


def _open_direct(path: str) -> DirectImages | None:
    """A descriptor and byte layout of one store file's images (it outlives the HDF5 handle), or None."""
    with open_h5(path) as handle:
        return open_direct(handle)


class RowReader:
    """Store rows [a, b) as tensors in the stored dtype, filled into `n_buffers` buffers used in turn.

    A returned tensor is overwritten `n_buffers` reads later, so a caller holding k batches at once
    needs k + 1 buffers. Buffers are pinned when `pin` (host-to-GPU copies then run asynchronously).
    """

    def __init__(self, store: Store, batch_rows: int, n_buffers: int = 1, pin: bool = False):
        self._store = store
        self._first_rows = np.cumsum([0] + [layout.n_rows for layout in store.layouts]).tolist()
        self._direct: list[DirectImages | None] = []
        try:
            self._direct = [_open_direct(path) for path in store.files]
        except BaseException:
            self.close()
            raise
        buffer = torch.from_numpy(np.empty((batch_rows, *store.image_shape), dtype=store.dtype))
        self._buffers = [buffer.pin_memory() if pin else buffer.clone() for _ in range(n_buffers)]
        self._turn = 0

    def _pieces(self, a: int, b: int) -> Iterator[tuple[int, int, int, DirectImages | None]]:
        """(file index, first local row, stop local row, direct reader) of each file's part of [a, b)."""
        for k, (first, stop) in enumerate(zip(self._first_rows[:-1], self._first_rows[1:], strict=True)):
            lo, hi = max(a, first), min(b, stop)
            if lo < hi:
                yield lo - a, lo - first, hi - first, self._direct[k]

    def advise(self, a: int, b: int) -> None:
        """Ask the kernel to start reading rows [a, b) into the page cache; returns without waiting."""
        for _, lo, hi, direct in self._pieces(a, b):
            if direct is None:
                continue
            position, end = direct.offset + lo * direct.row_bytes, direct.offset + hi * direct.row_bytes
            for start in range(position, end, ADVICE_BYTES):
                os.posix_fadvise(direct.fd, start, min(ADVICE_BYTES, end - start), os.POSIX_FADV_WILLNEED)

    def read(self, a: int, b: int) -> torch.Tensor:
        """Rows [a, b) (at most `batch_rows`) in the next buffer, one `preadv` per file they lie in."""
        buffer = self._buffers[self._turn]
        if b - a > buffer.shape[0]:
            raise ValueError(f"rows {a}–{b} exceed the reader's {buffer.shape[0]}-row buffers")
        self._turn = (self._turn + 1) % len(self._buffers)
        out = buffer[: b - a]
        array = out.numpy()
        for at, lo, hi, direct in self._pieces(a, b):
            rows = array[at : at + hi - lo]
            if direct is not None:
                direct.read(lo, hi, rows)
            else:
                rows[...] = self._store.read_images(np.arange(a + at, a + at + hi - lo), dtype=None)
        return out

    def close(self) -> None:
        for direct in self._direct:
            if direct is not None:
                direct.close()
        self._direct = []

    def __enter__(self) -> RowReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
