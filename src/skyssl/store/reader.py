"""Read a cutout store: a skyssl store folder, one of the authors' HDF5 files, or a folder of them.

One class serves all three because the authors' layouts and our shards share their structure; the
differences (bands, ids) are resolved per file by :mod:`skyssl.store.layout`. Rows are global across
shards; `object_id` is the stable key.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from functools import cached_property
from pathlib import Path

import h5py
import numpy as np
from astropy.table import Table

from skyssl import surveys
from skyssl.errors import InputError
from skyssl.manifest import has_manifest, read_manifest
from skyssl.store import ids as idlib
from skyssl.store.direct import DirectImages, open_direct
from skyssl.store.layout import FileLayout, describe_file, open_h5, read_object_ids

STORE_KIND = "skyssl.store"
STORE_SCHEMA_VERSION = 1
H5_SUFFIXES = (".h5", ".hdf5", ".hdf")


def _list_files(path: Path) -> tuple[list[Path], dict | None]:
    if path.is_file():
        return [path], None
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    if has_manifest(path):
        manifest = read_manifest(path, STORE_KIND, STORE_SCHEMA_VERSION)
        files = [path / shard["path"] for shard in manifest["shards"]]
        missing = [str(f.name) for f in files if not f.is_file()]
        if missing:
            raise InputError(f"{path}: manifest lists missing shard(s) {', '.join(missing[:3])}")
        return files, manifest
    files = sorted(p for p in path.iterdir() if p.suffix.lower() in H5_SUFFIXES and p.is_file())
    if not files:
        raise InputError(f"{path}: folder holds no manifest.json and no .h5 files")
    return files, None


class Store:
    """A read-only view of cutouts + catalogue + ids, over one or many HDF5 files.

    Open with :meth:`Store.open`; close with :meth:`close` or use as a context manager.
    """

    def __init__(self, path: Path, files: list[Path], manifest: dict | None):
        self.path = path
        self.manifest = manifest
        self._handles: list[h5py.File] = [open_h5(str(f)) for f in files]
        self._direct: list[DirectImages | None] = []
        try:
            self.layouts: list[FileLayout] = [describe_file(h) for h in self._handles]
            self._direct = [open_direct(h) for h in self._handles]
        except Exception:
            self.close()
            raise
        first = self.layouts[0]
        for other in self.layouts[1:]:
            if other.image_shape != first.image_shape or other.bands != first.bands:
                self.close()
                raise InputError(
                    f"{other.path}: images {other.image_shape} in bands {other.bands} differ from "
                    f"{first.path} ({first.image_shape}, {first.bands}); a store holds one kind of cutout"
                )
        self._offsets = np.cumsum([0] + [lay.n_rows for lay in self.layouts])
        self._offset_list = [int(v) for v in self._offsets]

    @classmethod
    def open(cls, path: str | Path) -> Store:
        path = Path(path)
        files, manifest = _list_files(path)
        return cls(path, files, manifest)

    def close(self) -> None:
        for direct in self._direct:
            if direct is not None:
                direct.close()
        self._direct = []
        for handle in self._handles:
            try:
                handle.close()
            except Exception:  # closing a half-broken file must not hide the original error
                pass
        self._handles = []

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- description -------------------------------------------------------------------------
    @property
    def layout(self) -> str:
        return self.layouts[0].layout

    @property
    def n_objects(self) -> int:
        return int(self._offsets[-1])

    def __len__(self) -> int:
        return self.n_objects

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return self.layouts[0].image_shape

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self.layouts[0].dtype)

    @property
    def bands(self) -> tuple[str, ...] | None:
        return self.layouts[0].bands

    @property
    def survey(self) -> surveys.Survey | None:
        name = self.layouts[0].survey_name
        return surveys.get(name) if name else None

    @property
    def pixel_scale_arcsec(self) -> float | None:
        attr = self.layouts[0].attrs.get("pixel_scale_arcsec")
        if isinstance(attr, int | float):
            return float(attr)
        return self.survey.pixel_scale_arcsec if self.survey else None

    @property
    def columns(self) -> list[str]:
        """Catalogue columns present in every file (per-band fields appear once, unsplit)."""
        common = set(self.layouts[0].columns)
        for lay in self.layouts[1:]:
            common &= set(lay.columns)
        return sorted(common)

    @property
    def id_source(self) -> str:
        sources = sorted({lay.id_source for lay in self.layouts})
        return sources[0] if len(sources) == 1 else "mixed: " + "; ".join(sources)

    @property
    def files(self) -> list[str]:
        return [lay.path for lay in self.layouts]

    @cached_property
    def _ids_and_duplicates(self) -> tuple[np.ndarray, int]:
        parts = [read_object_ids(h, lay) for h, lay in zip(self._handles, self.layouts, strict=True)]
        ids = np.concatenate(parts) if parts else np.zeros(0, np.int64)
        if self.layout != "skyssl" and "ra" in self.columns and "dec" in self.columns:
            ids, n_dup = idlib.disambiguate_duplicates(ids, self.read_column("ra"), self.read_column("dec"))
            return ids, n_dup
        return ids, int((idlib.occurrence_index(ids) > 0).sum())

    @property
    def object_ids(self) -> np.ndarray:
        """int64 id of every row, in row order."""
        return self._ids_and_duplicates[0]

    @property
    def n_duplicate_ids(self) -> int:
        """Rows whose source id repeats an earlier row's (re-keyed from positions in authors' files)."""
        return self._ids_and_duplicates[1]

    @cached_property
    def _sorted_ids(self) -> np.ndarray:
        """Ids in ascending order, gathered once: a per-lookup gather would cost O(N) for every id."""
        return self.object_ids[self._id_sorter]

    @cached_property
    def _id_sorter(self) -> np.ndarray:
        return np.argsort(self.object_ids, kind="stable")

    # --- addressing -------------------------------------------------------------------------
    def rows_for_ids(self, object_ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """Global rows of the given ids; raise :class:`InputError` naming the first unknown id."""
        wanted = np.asarray(object_ids, dtype=np.int64).ravel()
        sorted_ids = self._sorted_ids
        if wanted.size == 1:  # one id per call is the data loader's and the app's pattern: keep it scalar
            pos = int(sorted_ids.searchsorted(wanted[0]))
            if pos < sorted_ids.size and sorted_ids[pos] == wanted[0]:
                return self._id_sorter[pos : pos + 1]
        pos = np.searchsorted(sorted_ids, wanted)
        pos_clipped = np.minimum(pos, max(sorted_ids.size - 1, 0))
        found = (pos < sorted_ids.size) & (sorted_ids[pos_clipped] == wanted) if sorted_ids.size else pos < 0
        if not found.all():
            missing = wanted[~found]
            raise InputError(f"unknown object_id {missing[0]} ({missing.size} of {wanted.size} ids not in store)")
        return self._id_sorter[pos_clipped]

    def _locate(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rows = np.asarray(rows, dtype=np.int64)
        if rows.size and (rows.min() < 0 or rows.max() >= self.n_objects):
            raise InputError(f"row out of range [0, {self.n_objects})")
        shard = np.searchsorted(self._offsets, rows, side="right") - 1
        return shard, rows - self._offsets[shard]

    # --- images -----------------------------------------------------------------------------
    def read_images(self, rows: Sequence[int] | np.ndarray, dtype: np.dtype | None = np.float32) -> np.ndarray:
        """Images of arbitrary rows, in the order asked, as (n, C, H, W).

        Consecutive rows are read as one slab per run, so sorted batches cost one read each and random
        rows one read each; a run asked for in ascending order lands directly in the output array.
        """
        rows = np.asarray(rows, dtype=np.int64).ravel()
        out = np.empty((rows.size, *self.image_shape), dtype=dtype or self.dtype)
        if rows.size == 0:
            return out
        if rows.size == 1:  # the random-access case: skip the run bookkeeping, which costs more than the read
            row = int(rows[0])
            if not 0 <= row < self.n_objects:
                raise InputError(f"row out of range [0, {self.n_objects})")
            shard = bisect.bisect_right(self._offset_list, row) - 1
            local = row - self._offset_list[shard]
            self._read_run(shard, local, local + 1, out)
            return out
        order = np.argsort(rows, kind="stable")
        sorted_rows = rows[order]
        shard, local = self._locate(sorted_rows)
        breaks = (np.flatnonzero((np.diff(sorted_rows) != 1) | (np.diff(shard) != 0)) + 1).tolist()
        for start, stop in zip([0, *breaks], [*breaks, rows.size], strict=True):
            first_out = int(order[start])
            in_place = bool(np.all(order[start:stop] == np.arange(first_out, first_out + stop - start)))
            target = out[first_out : first_out + stop - start] if in_place else np.empty_like(out[: stop - start])
            self._read_run(int(shard[start]), int(local[start]), int(local[stop - 1]) + 1, target)
            if not in_place:
                out[order[start:stop]] = target
        return out

    def _read_run(self, shard: int, local_start: int, local_stop: int, out: np.ndarray) -> None:
        """Rows [local_start, local_stop) of one file into `out`: one direct read, else one HDF5 read."""
        direct = self._direct[shard] if self._direct else None
        if direct is not None:
            direct.read(local_start, local_stop, out)
        else:
            out[...] = self._handles[shard]["images"][local_start:local_stop]

    def read_images_by_id(self, object_ids: Sequence[int] | np.ndarray, dtype: np.dtype | None = np.float32):
        return self.read_images(self.rows_for_ids(object_ids), dtype=dtype)

    def iter_image_batches(
        self, batch_size: int = 256, start: int = 0, stop: int | None = None, dtype: np.dtype | None = np.float32
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Sequential (rows, images) batches, never crossing a shard boundary within one read."""
        stop = self.n_objects if stop is None else min(stop, self.n_objects)
        row = start
        while row < stop:
            shard = int(np.searchsorted(self._offsets, row, side="right") - 1)
            end = min(stop, row + batch_size, int(self._offsets[shard + 1]))
            local = row - int(self._offsets[shard])
            images = np.empty((end - row, *self.image_shape), dtype=dtype or self.dtype)
            self._read_run(shard, local, local + (end - row), images)
            yield np.arange(row, end), images
            row = end

    # --- catalogue --------------------------------------------------------------------------
    def read_column(self, name: str, rows: Sequence[int] | np.ndarray | None = None) -> np.ndarray:
        """One catalogue column over all rows (or the given rows), as stored: (N,) or (N, C).

        Given rows, each file reads only the span between its lowest and highest row, so a batch of
        consecutive rows (as `skyssl convert` asks for) costs one small read, not the whole column.
        """
        if name == "object_id" and "object_id" not in self.columns:
            values = self.object_ids
            return values if rows is None else values[np.asarray(rows, dtype=np.int64)]
        if name not in self.columns:
            raise InputError(f"no column '{name}' in {self.path}; columns: {', '.join(self.columns[:20])}")
        if rows is None:
            parts = [_as_text(h[name][:]) for h in self._handles]
            return np.concatenate(parts) if len(parts) > 1 else parts[0]
        rows = np.asarray(rows, dtype=np.int64).ravel()
        shard, local = self._locate(rows)
        out = None
        for k in np.unique(shard):
            sel = shard == k
            lo, hi = int(local[sel].min()), int(local[sel].max()) + 1
            values = _as_text(self._handles[k][name][lo:hi])[local[sel] - lo]
            if out is None:
                out = np.empty((rows.size, *values.shape[1:]), dtype=values.dtype)
            out[sel] = values
        return out if out is not None else np.zeros(0)

    def catalog(self, columns: Sequence[str] | None = None, rows: Sequence[int] | np.ndarray | None = None) -> Table:
        """An astropy Table with `object_id` first and per-band fields split to `{name}_{band}`."""
        names = list(columns) if columns is not None else self.columns
        table = Table()
        table["object_id"] = self.read_column("object_id", rows)
        n_channels = self.image_shape[0]
        for name in names:
            if name == "object_id":
                continue
            values = self.read_column(name, rows)
            if values.ndim == 2 and values.shape[1] == n_channels and self.bands:
                for j, band in enumerate(self.bands):
                    table[f"{name}_{band}"] = values[:, j]
            else:
                table[name] = values
        return table


def _as_text(values: np.ndarray) -> np.ndarray:
    """Decode byte-string columns (e.g. Tractor `source_type`) to str; leave numbers alone."""
    if values.dtype.kind == "S" or (values.dtype.kind == "O" and values.size and isinstance(values.flat[0], bytes)):
        return np.char.decode(values.astype("S"), "utf-8").astype(str)
    return values
