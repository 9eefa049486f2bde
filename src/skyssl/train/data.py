"""Raw cutouts and their observing conditions, read from a store in whole batches.

The dataset hands out pixels in nanomaggies and the catalogue values the augmentations need (E(B−V),
PSF FWHM, PSF depth), nothing else: augmentation runs batched on the training device, never per image
on the CPU (DESIGN, performance principles). Three choices make the CPU side cheap:

- `__getitems__` reads a whole batch with one :meth:`Store.read_images` call, which coalesces
  consecutive rows into single reads whatever order they are asked in;
- images stay in the stored dtype (float16 stores cross to the device at half the bytes and are widened
  there — numpy's float16 cast on the CPU costs more than the read, see BENCHMARKS.md);
- the small catalogue columns are read once into memory in the main process and shared with forked
  workers, because a per-batch `read_column` over random rows would span most of the column.

HDF5 handles do not survive `fork` and cannot be pickled, so the store is opened lazily, once per
process, on the first read.
"""

from __future__ import annotations

import os
from typing import NamedTuple

import numpy as np
import torch
from torch.utils.data import Dataset

from skyssl.store import Store

CONDITION_COLUMNS = ("ebv", "psfsize", "psfdepth")


class RawBatch(NamedTuple):
    """A batch as the loader delivers it; `images` (B, C, H, W) nmgy in the stored float dtype."""

    images: torch.Tensor
    ebv: torch.Tensor  # (B,) mag; NaN where the store has no `ebv`
    psfsize: torch.Tensor  # (B, C) FWHM arcsec; NaN where missing
    psfdepth: torch.Tensor  # (B, C) nmgy⁻²; NaN where missing
    rows: torch.Tensor  # (B,) int64 store rows


def read_conditions(store: Store) -> tuple[dict[str, np.ndarray], list[str]]:
    """float32 `ebv` (N,), `psfsize` and `psfdepth` (N, C) of every row, and the names that were missing.

    A missing or misshapen column becomes NaN, which the augmentation pipeline reads as "draw from the
    survey's prior" (the authors' SDSS file has none of the three).
    """
    n, n_bands = store.n_objects, store.image_shape[0]
    shapes = {"ebv": (n,), "psfsize": (n, n_bands), "psfdepth": (n, n_bands)}
    values, missing = {}, []
    for name, shape in shapes.items():
        column = store.read_column(name) if name in store.columns else None
        if column is None or column.shape != shape or column.dtype.kind not in "fiu":
            values[name] = np.full(shape, np.nan, np.float32)
            missing.append(name)
        else:
            values[name] = np.asarray(column, dtype=np.float32)
    return values, missing


class StoreDataset(Dataset):
    """Every row of a store as `(image, ebv, psfsize, psfdepth, row)`; index = store row.

    `__getitem__` returns one sample with the image as float32 (C, H, W), for ad-hoc use;
    `__getitems__` (which torch's DataLoader calls with a batch of indices) returns a :class:`RawBatch`
    read at once, in the stored dtype unless `stored_dtype=False`. Pair it with :func:`collate_raw`.
    """

    def __init__(self, path: str, stored_dtype: bool = True) -> None:
        self.path = str(path)
        self.stored_dtype = stored_dtype
        with Store.open(self.path) as store:
            self.n_objects = store.n_objects
            self.image_shape = store.image_shape
            self.conditions, self.missing_columns = read_conditions(store)
        self._store: Store | None = None
        self._pid: int | None = None

    def __len__(self) -> int:
        return self.n_objects

    def store(self) -> Store:
        """This process's open store (opened on first use; a forked worker opens its own)."""
        if self._store is None or self._pid != os.getpid():
            self._store = Store.open(self.path)
            self._pid = os.getpid()
        return self._store

    def close(self) -> None:
        if self._store is not None and self._pid == os.getpid():
            self._store.close()
        self._store = None

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_store"] = None  # spawned workers reopen the file
        state["_pid"] = None
        return state

    def __getitems__(self, indices: list[int]) -> RawBatch:
        rows = np.asarray(indices, dtype=np.int64)
        images = self.store().read_images(rows, dtype=None if self.stored_dtype else np.float32)
        return RawBatch(
            images=torch.from_numpy(images),
            ebv=torch.from_numpy(self.conditions["ebv"][rows]),
            psfsize=torch.from_numpy(self.conditions["psfsize"][rows]),
            psfdepth=torch.from_numpy(self.conditions["psfdepth"][rows]),
            rows=torch.from_numpy(rows),
        )

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, int]:
        row = int(index)
        image = self.store().read_images([row], dtype=np.float32)[0]
        return (
            torch.from_numpy(image),
            torch.tensor(self.conditions["ebv"][row]),
            torch.from_numpy(self.conditions["psfsize"][row]),
            torch.from_numpy(self.conditions["psfdepth"][row]),
            row,
        )


def collate_raw(batch: RawBatch | list[tuple]) -> RawBatch:
    """The DataLoader's collate: a :class:`RawBatch` from `__getitems__` passes through; samples are stacked."""
    if isinstance(batch, RawBatch):
        return batch
    images, ebv, psfsize, psfdepth, rows = zip(*batch, strict=True)
    return RawBatch(torch.stack(images), torch.stack(ebv), torch.stack(psfsize), torch.stack(psfdepth),
                    torch.as_tensor(rows, dtype=torch.int64))
