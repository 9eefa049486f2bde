"""Inputs of `skyssl convert`, behind one interface: the authors' HDF5 files and FITS-cutout folders.

A source knows its survey, image shape, ids and problems before any pixel is read, and hands out
rows [start, stop) of images (survey band order, native dtype) and catalogue columns (with
`object_id`), plus what the manifest and the resume check record about its inputs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from skyssl import surveys
from skyssl.errors import InputError
from skyssl.manifest import sha256_file
from skyssl.store.fits_folder import FitsFolder, is_fits_name
from skyssl.store.layout import SDSS_LAYOUT
from skyssl.store.reader import H5_SUFFIXES, Store
from skyssl.store.validate import validate
from skyssl.surveys.sdss import DR12_EXTINCTION_R

INPUT_CHECKSUM_MAX_BYTES = 4 * 1024**3


def ebv_from_dr12_extinction(extinction_ugriz_mag: np.ndarray) -> np.ndarray:
    """Scalar E(B−V) (mag) from the DR12 A_ugriz of the authors' SDSS `e_bv` key: mean_b(A_b / R_b).

    Each band gives the same E(B−V) up to rounding of the published A_b; the mean uses all five.
    """
    extinction = np.asarray(extinction_ugriz_mag, dtype=np.float64)
    return (extinction / np.asarray(DR12_EXTINCTION_R)).mean(axis=1)


def file_stamp(path: Path) -> dict:
    """What identifies an input cheaply for a resume check: resolved path, size and mtime."""
    stat = path.stat()
    return {"path": str(path.resolve()), "bytes": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def file_record(path: Path) -> dict:
    """An input as the manifest records it; files over 4 GiB skip the checksum (a second full read)."""
    size = path.stat().st_size
    digest = sha256_file(path) if size <= INPUT_CHECKSUM_MAX_BYTES else None
    return {"path": str(path.resolve()), "bytes": size, "sha256": digest}


class H5Source:
    """The authors' DR9/SDSS files, a folder of them, or a skyssl store, read through :class:`Store`."""

    kind = "hdf5"

    def __init__(self, path: Path, survey_name: str | None):
        self.path = path
        self.store = Store.open(path)
        try:
            self._describe(survey_name)
        except Exception:
            self.store.close()
            raise

    def _describe(self, survey_name: str | None) -> None:
        report = validate(self.store, pixels=False)
        prefix = f"{self.path}: " if len(self.store.files) == 1 else ""  # several files: each names its own
        self.problems = [prefix + p for p in report.problems]
        self.warnings = list(report.warnings)
        self.layout = self.store.layout
        self.column_names = [c for c in self.store.columns if c != "object_id"]
        union = set().union(*(lay.columns for lay in self.store.layouts))
        dropped = sorted(union - set(self.store.columns))
        if dropped:
            self.warnings.append(f"column(s) not in every file are not converted: {', '.join(dropped[:10])}")
        self.derive_ebv = (
            self.layout == SDSS_LAYOUT and "e_bv" in self.column_names and "ebv" not in self.column_names
        )
        self.survey = None if self.problems else self._survey(survey_name)
        self.image_shape = self.store.image_shape
        self.n_objects = self.store.n_objects
        self.id_source = self.store.id_source
        self._offsets = np.cumsum([0] + [lay.n_rows for lay in self.store.layouts])

    def _survey(self, survey_name: str | None) -> surveys.Survey:
        if not survey_name:
            return self.store.survey
        survey = surveys.get(survey_name)
        if tuple(self.store.bands or ()) != survey.bands:
            raise InputError(
                f"{self.path}: bands {','.join(self.store.bands or ())} do not match survey "
                f"{survey.name} ({','.join(survey.bands)})"
            )
        return survey

    @property
    def object_ids(self) -> np.ndarray:
        return self.store.object_ids

    @property
    def n_duplicate_ids(self) -> int:
        return self.store.n_duplicate_ids

    def row_label(self, row: int) -> str:
        k = int(np.searchsorted(self._offsets, row, side="right") - 1)
        return f"{self.store.files[k]}: row {row - int(self._offsets[k])}"

    def read_images(self, start: int, stop: int) -> np.ndarray:
        try:
            return self.store.read_images(np.arange(start, stop), dtype=None)
        except OSError as exc:
            raise InputError(
                f"{self.row_label(start)}: unreadable image data ({str(exc).splitlines()[0][:80]})"
            ) from None

    def read_columns(self, start: int, stop: int) -> dict[str, np.ndarray]:
        rows = np.arange(start, stop)
        try:
            batch = {name: self.store.read_column(name, rows) for name in self.column_names}
        except OSError as exc:
            raise InputError(
                f"{self.row_label(start)}: unreadable catalogue data ({str(exc).splitlines()[0][:80]})"
            ) from None
        if self.derive_ebv:
            batch["ebv"] = ebv_from_dr12_extinction(batch["e_bv"])
        batch["object_id"] = self.object_ids[start:stop]
        return batch

    def job(self) -> dict:
        return {
            "command": "convert",
            "source": self.kind,
            "inputs": [file_stamp(Path(f)) for f in self.store.files],
        }

    def manifest_record(self) -> dict:
        derived = {}
        if self.derive_ebv:
            derived["ebv"] = (
                "E(B−V) in mag = mean_b(e_bv_b / R_b) over u,g,r,i,z with the DR12 "
                f"(SFD98) R_b = {list(DR12_EXTINCTION_R)}; e_bv holds A_b in mag"
            )
        return {
            "source": {
                "kind": self.kind,
                "layout": self.layout,
                "inputs": [file_record(Path(f)) for f in self.store.files],
                "id_source": self.id_source,
                "n_duplicate_ids": self.n_duplicate_ids,
            },
            "derived_columns": derived,
        }

    def close(self) -> None:
        self.store.close()


class FitsSource(FitsFolder):
    """A folder of FITS cutouts + catalogue, with the bookkeeping a conversion needs."""

    kind = "fits-folder"
    layout = "fits-folder"

    def __init__(self, folder: Path, catalog: Path, file_column: str, survey_name: str | None):
        super().__init__(folder, catalog, file_column, survey_name)
        self.warnings: list[str] = []
        if not self.problems and self.n_duplicate_ids:
            self.warnings.append(
                f"{self.n_duplicate_ids} row(s) repeat an earlier row's id; re-keyed from their positions"
            )

    def row_label(self, row: int) -> str:
        return str(self.paths[row])

    def job(self) -> dict:
        return {
            "command": "convert",
            "source": self.kind,
            "folder": str(self.folder.resolve()),
            "file_column": self.file_column,
            "inputs": [file_stamp(self.catalog_path)],
        }

    def manifest_record(self) -> dict:
        cutout_bytes = sum(p.stat().st_size for p in self.paths)
        return {
            "source": {
                "kind": self.kind,
                "layout": self.layout,
                "inputs": [
                    file_record(self.catalog_path),
                    {
                        "path": str(self.folder.resolve()),
                        "n_files": len(self.paths),
                        "bytes": cutout_bytes,
                        "file_column": self.file_column,
                    },
                ],
                "id_source": self.id_source,
                "n_duplicate_ids": self.n_duplicate_ids,
            },
            "derived_columns": {},
        }

    def close(self) -> None:
        """Nothing stays open: each cutout file is opened and closed as it is read."""


Source = H5Source | FitsSource


def open_source(path: Path, survey_name: str | None, catalog: Path | None, file_column: str) -> Source:
    """The right reader for the input: a catalogue means FITS cutouts, anything else HDF5."""
    if catalog is not None:
        return FitsSource(path, catalog, file_column, survey_name)
    if path.is_dir() and not any(p.suffix.lower() in H5_SUFFIXES for p in path.iterdir()):
        if any(is_fits_name(p) for p in path.iterdir()):
            raise InputError(f"{path}: a folder of FITS cutouts needs --catalog TABLE --file-column COL")
    return H5Source(path, survey_name)
