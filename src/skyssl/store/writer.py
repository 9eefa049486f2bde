"""Write a skyssl store: HDF5 shards written one at a time, then a manifest, then one rename.

The output grows in `OUT.partial/`; each shard is written as `part-NNNNN.h5.tmp` and renamed when
complete, so a killed job leaves only whole shards behind and a rerun with the same job description
resumes from the first missing shard. The final manifest (with shard checksums) is written last and
the folder renamed to `OUT`: a folder named `OUT` is always a complete store.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path

import h5py
import numpy as np

from skyssl import __version__
from skyssl.errors import ArtefactError
from skyssl.manifest import has_manifest, sha256_file, write_json_atomic, write_manifest
from skyssl.store.reader import STORE_KIND, STORE_SCHEMA_VERSION
from skyssl.surveys import Survey

JOB_FILE = "job.json"
IMAGE_DTYPES = ("float32", "float16")


def shard_name(index: int) -> str:
    return f"part-{index:05d}.h5"


def _string_column(values: np.ndarray) -> np.ndarray:
    return np.asarray(values).astype(str).astype(object)


class StoreWriter:
    """Writes shards of a store whose total size and shard boundaries are known up front.

    `job` describes what is being made (command arguments, inputs); a resume is refused when the
    partial output was made by a different job. `stamp_size_px` overrides the survey's usual stamp
    size for cutouts cut at another size (e.g. FITS cutouts from the Legacy Survey viewer).
    """

    def __init__(
        self,
        out: str | Path,
        survey: Survey,
        n_objects: int,
        rows_per_shard: int,
        image_dtype: str = "float32",
        job: Mapping[str, object] | None = None,
        overwrite: bool = False,
        stamp_size_px: int | None = None,
    ):
        if image_dtype not in IMAGE_DTYPES:
            raise ArtefactError(f"image dtype must be one of {IMAGE_DTYPES}, not {image_dtype!r}")
        if rows_per_shard < 1 or n_objects < 1:
            raise ArtefactError("a store needs at least one object and one row per shard")
        self.out = Path(out)
        self.partial = self.out.with_name(self.out.name + ".partial")
        self.survey = survey
        self.n_objects = n_objects
        self.rows_per_shard = rows_per_shard
        self.image_dtype = image_dtype
        self.job = dict(job or {})
        stamp = stamp_size_px or survey.stamp_size_px
        self.image_shape = (survey.n_bands, stamp, stamp)
        if self.out.exists():
            if not overwrite:
                raise ArtefactError(f"{self.out} already exists; choose another --out or pass --overwrite")
            if not has_manifest(self.out) and any(self.out.iterdir()):
                raise ArtefactError(f"{self.out} exists and is not a skyssl artefact; refusing to overwrite it")
        self._prepare_partial()

    @property
    def n_shards(self) -> int:
        return -(-self.n_objects // self.rows_per_shard)

    def shard_rows(self, index: int) -> tuple[int, int]:
        start = index * self.rows_per_shard
        return start, min(self.n_objects, start + self.rows_per_shard)

    def _job_record(self) -> dict:
        return {
            "job": self.job, "survey": self.survey.name, "n_objects": self.n_objects,
            "rows_per_shard": self.rows_per_shard, "image_dtype": self.image_dtype,
            "image_shape": list(self.image_shape),
        }

    def _prepare_partial(self) -> None:
        record = self._job_record()
        job_path = self.partial / JOB_FILE
        if self.partial.exists():
            try:
                previous = json.loads(job_path.read_text())
            except (OSError, json.JSONDecodeError):
                previous = None
            if previous != json.loads(json.dumps(record)):
                raise ArtefactError(
                    f"{self.partial} holds partial output of a different job; remove it or rerun the same command"
                )
            for stale in self.partial.glob("*.tmp"):
                stale.unlink()
            return
        self.partial.mkdir(parents=True)
        write_json_atomic(job_path, record)

    def done_shards(self) -> list[int]:
        """Shards already complete in the partial folder (from an interrupted run)."""
        return [k for k in range(self.n_shards) if (self.partial / shard_name(k)).is_file()]

    def write_shard(self, index: int, images: np.ndarray, columns: Mapping[str, np.ndarray]) -> Path:
        """Write shard `index` from its images (n, C, H, W) in nmgy and catalogue columns."""
        start, stop = self.shard_rows(index)
        if images.shape != (stop - start, *self.image_shape):
            raise ArtefactError(f"shard {index}: images {images.shape}, expected {(stop - start, *self.image_shape)}")
        shard = self.open_shard(index)
        try:
            shard.write_images(0, images)
            return shard.close(columns)
        except BaseException:
            shard.discard()
            raise

    def open_shard(self, index: int) -> ShardWriter:
        """Start shard `index`, to be filled chunk by chunk so that a shard never sits in memory whole."""
        start, stop = self.shard_rows(index)
        attrs = {
            "skyssl_version": __version__, "survey": self.survey.name, "bands": ",".join(self.survey.bands),
            "pixel_scale_arcsec": self.survey.pixel_scale_arcsec, "units": "nanomaggy per pixel",
            "first_row": start,
        }
        return ShardWriter(self.partial / shard_name(index), stop - start, self.image_shape, self.image_dtype, attrs)

    def finish(self, extra: Mapping[str, object] | None = None, checksums: bool = True) -> Path:
        """Check every shard is present, write the manifest, and move the store into place."""
        missing = [k for k in range(self.n_shards) if not (self.partial / shard_name(k)).is_file()]
        if missing:
            raise ArtefactError(f"cannot finish {self.out}: shard(s) {missing[:5]} missing")
        shards, columns = [], None
        for k in range(self.n_shards):
            path = self.partial / shard_name(k)
            start, stop = self.shard_rows(k)
            entry = {"path": path.name, "first_row": start, "n_objects": stop - start,
                     "bytes": path.stat().st_size}
            if checksums:
                entry["sha256"] = sha256_file(path)
            shards.append(entry)
            if columns is None:
                with h5py.File(path, "r") as handle:
                    columns = sorted(n for n in handle if n != "images")
        body = {
            "survey": self.survey.name,
            "bands": list(self.survey.bands),
            "pixel_scale_arcsec": self.survey.pixel_scale_arcsec,
            "units": "nanomaggy per pixel",
            "image_shape": list(self.image_shape),
            "dtype": self.image_dtype,
            "n_objects": self.n_objects,
            "rows_per_shard": self.rows_per_shard,
            "columns": columns,
            "shards": shards,
            "job": self.job,
            **dict(extra or {}),
        }
        (self.partial / JOB_FILE).unlink(missing_ok=True)
        write_manifest(self.partial, STORE_KIND, STORE_SCHEMA_VERSION, body)
        if self.out.exists():
            shutil.rmtree(self.out)
        os.replace(self.partial, self.out)
        return self.out

    def abort(self) -> None:
        """Remove the partial output (used when the input turns out to be malformed)."""
        shutil.rmtree(self.partial, ignore_errors=True)


class ShardWriter:
    """One shard being written: images arrive in chunks at given row offsets, columns at the end.

    The file lives under a `.tmp` name until :meth:`close` renames it, so an interrupted shard is
    never mistaken for a complete one.
    """

    def __init__(self, final: Path, n_rows: int, image_shape: tuple[int, int, int], image_dtype: str,
                 attrs: Mapping[str, object]):
        self.final = final
        self.tmp = final.with_name(final.name + ".tmp")
        self.n_rows = n_rows
        self.image_shape = image_shape
        self._written = np.zeros(n_rows, bool)
        self._handle = h5py.File(self.tmp, "w")
        self._handle.attrs.update(dict(attrs))
        # Contiguous, like the authors' files: every image is one byte range, so a random image or a run
        # of rows is one direct read (skyssl.store.direct); chunks would only pay with compression, and
        # HDF5's chunk cache makes single-image reads several times slower.
        self._images = self._handle.create_dataset("images", shape=(n_rows, *image_shape), dtype=image_dtype)

    def write_images(self, offset: int, images: np.ndarray) -> None:
        """Rows [offset, offset + len(images)) of this shard, (n, C, H, W) in nmgy."""
        n = images.shape[0]
        if images.shape[1:] != self.image_shape or offset < 0 or offset + n > self.n_rows:
            raise ArtefactError(f"{self.final.name}: images {images.shape} at row {offset} do not fit "
                                f"({self.n_rows}, {', '.join(map(str, self.image_shape))})")
        self._images[offset : offset + n] = images.astype(self._images.dtype, copy=False)
        self._written[offset : offset + n] = True

    def close(self, columns: Mapping[str, np.ndarray]) -> Path:
        """Write the catalogue columns, check every image row was written, and publish the shard."""
        if not self._written.all():
            raise ArtefactError(f"{self.final.name}: image rows {np.flatnonzero(~self._written)[:3].tolist()} "
                                "were never written")
        if "object_id" not in columns:
            raise ArtefactError("a store needs an object_id column")
        for name, values in columns.items():
            values = np.asarray(values)
            if values.shape[:1] != (self.n_rows,):
                raise ArtefactError(f"{self.final.name}: column '{name}' has {values.shape[:1]} rows, "
                                    f"expected {self.n_rows}")
            if values.dtype.kind in "USO":
                self._handle.create_dataset(name, data=_string_column(values), dtype=h5py.string_dtype())
            else:
                self._handle.create_dataset(name, data=values)
        self._handle.close()
        os.replace(self.tmp, self.final)
        return self.final

    def discard(self) -> None:
        """Drop a shard that cannot be completed (the partial store stays resumable)."""
        try:
            self._handle.close()
        finally:
            self.tmp.unlink(missing_ok=True)
