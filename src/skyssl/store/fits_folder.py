"""A folder of FITS cutouts, one file per object, described by a catalogue table.

This is how most users hold cutouts they fetched themselves (e.g. from the Legacy Survey viewer's
`fits-cutout` service). Two file layouts are read:

- a primary HDU holding a (C, H, W) cube in nanomaggies, its bands named by `BAND0…BANDn` or
  `BANDS` (``'grz'``) keywords, as the viewer writes them, or left unnamed (then `--survey` or the
  channel count decides, as for the authors' HDF5 files);
- one 2-D image HDU per band, each naming its band in a `BAND` or `FILTER` keyword.

Pixels are taken in FITS array order (row 0 is the first stored row), the same order as the authors'
HDF5 images, and reordered into the survey's band order. The catalogue (any table astropy reads:
FITS, ECSV, CSV) needs `ra`, `dec` and a column naming each row's file, relative to the folder.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.table import Column, MaskedColumn, Table

from skyssl import surveys
from skyssl.errors import InputError, SkysslError
from skyssl.store import ids as idlib
from skyssl.surveys import Survey

BAND_KEYWORDS = ("BAND", "FILTER")
WAVELENGTH_ORDER = "ugrizY"
FITS_SUFFIXES = (".fits", ".fit", ".fts", ".fits.gz", ".fits.fz")
RESERVED_COLUMNS = ("images",)


def is_fits_name(path: Path) -> bool:
    return path.name.lower().endswith(FITS_SUFFIXES)


def read_catalog_table(path: Path) -> Table:
    """Read the catalogue with astropy's format guessing (CSV by suffix, since guessing CSV is slow)."""
    if not path.is_file():
        raise InputError(f"{path}: no such catalogue file")
    fmt = "ascii.csv" if path.suffix.lower() == ".csv" else None
    try:
        return Table.read(path, format=fmt)
    except Exception as exc:  # astropy raises many types for unreadable tables
        raise InputError(
            f"{path}: not a readable table ({exc.__class__.__name__}: "
            f"{str(exc).splitlines()[0][:80] if str(exc) else ''})"
        ) from None


def plain_array(name: str, column: Column) -> np.ndarray:
    """A table column as a plain array; masked entries become NaN (numbers) or '' (strings).

    Masked integers are widened to float64 so that a missing value stays visibly missing instead of
    turning into astropy's fill value (999999).
    """
    if not isinstance(column, Column):
        raise InputError(f"catalogue column '{name}' is a {type(column).__name__}; store plain columns")
    if isinstance(column, MaskedColumn) and np.any(column.mask):
        kind = column.dtype.kind
        if kind in "US":
            return np.asarray(column.filled(""))
        return np.asarray(column.astype(np.float64).filled(np.nan))
    return np.asarray(column)


def table_columns(table: Table) -> dict[str, np.ndarray]:
    """Every catalogue column as a plain array; per-band (N, C) columns keep their shape."""
    clash = [name for name in table.colnames if name in RESERVED_COLUMNS or "/" in name]
    if clash:
        raise InputError(f"catalogue column name '{clash[0]}' is reserved or not a valid dataset name")
    return {name: plain_array(name, table[name]) for name in table.colnames}


def band_from_keyword(value: object) -> str | None:
    """A band letter from a BAND/FILTER value such as ``'g'``, ``'r DECam SDSS c0002'`` or ``'z'``."""
    text = str(value).strip()
    if len(text) == 1:
        return text
    for token in text.replace(",", " ").split():
        if len(token) == 1 and token in WAVELENGTH_ORDER:
            return token
    return None


def cube_bands(header: fits.Header, n_channels: int) -> tuple[str, ...] | None:
    """Band names of a (C, H, W) cube from `BAND0…` or `BANDS`, or None when the header is silent."""
    numbered = [header.get(f"BAND{k}") for k in range(n_channels)]
    if all(v is not None for v in numbered):
        return tuple(str(v).strip() for v in numbered)
    packed = header.get("BANDS")
    if packed is not None:
        text = str(packed).strip()
        names = [b.strip() for b in text.split(",")] if "," in text else list(text)
        if len(names) == n_channels:
            return tuple(names)
    return None


def read_cutout(path: Path) -> tuple[np.ndarray, tuple[str, ...] | None]:
    """One cutout as float32 (C, H, W) with its band names (None if the file does not say)."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with fits.open(path, memmap=False) as hdul:
                hdus = [h for h in hdul if h.is_image and h.data is not None and h.data.ndim >= 2]
                if len(hdus) == 1 and hdus[0].data.ndim == 3:
                    data = np.asarray(hdus[0].data, dtype=np.float32)
                    bands = cube_bands(hdus[0].header, data.shape[0])
                elif hdus and all(h.data.ndim == 2 for h in hdus):
                    data, bands = _stack_band_hdus(path, hdus)
                else:
                    raise InputError(f"{path}: expected one (C, H, W) cube or one 2-D image HDU per band")
    except FileNotFoundError:
        raise InputError(f"{path}: no such cutout file") from None
    except (OSError, ValueError, TypeError) as exc:
        raise InputError(f"{path}: not a readable FITS file ({str(exc).splitlines()[0][:80]})") from None
    if any("truncated" in str(w.message) for w in caught):
        raise InputError(f"{path}: truncated FITS file")
    return data, bands


def _stack_band_hdus(path: Path, hdus: list) -> tuple[np.ndarray, tuple[str, ...]]:
    bands = []
    for index, hdu in enumerate(hdus):
        value = next((hdu.header[k] for k in BAND_KEYWORDS if k in hdu.header), None)
        band = band_from_keyword(value) if value is not None else None
        if band is None:
            raise InputError(f"{path}: image HDU {index} names no band (needs a BAND or FILTER keyword)")
        bands.append(band)
    shapes = {h.data.shape for h in hdus}
    if len(shapes) != 1:
        raise InputError(f"{path}: band images differ in shape {sorted(shapes)}")
    if len(set(bands)) != len(bands):
        raise InputError(f"{path}: band(s) repeated across HDUs: {','.join(bands)}")
    return np.stack([np.asarray(h.data, dtype=np.float32) for h in hdus]), tuple(bands)


def resolve_survey(bands: tuple[str, ...] | None, n_channels: int, survey_name: str | None) -> Survey:
    """The survey of the cutouts: named by the user, else from the band names, else from the channel count."""
    if survey_name:
        survey = surveys.get(survey_name)
        if survey.n_bands != n_channels or (bands is not None and set(bands) != set(survey.bands)):
            found = ",".join(bands) if bands else f"{n_channels} channels"
            raise InputError(
                f"cutouts hold {found}, but survey {survey.name} has bands {','.join(survey.bands)}"
            )
        return survey
    if bands is None:
        bands = {3: ("g", "r", "z"), 5: ("u", "g", "r", "i", "z")}.get(n_channels)
        if bands is None:
            raise InputError(f"unknown band set: {n_channels} channels and no band keywords; pass --survey")
    ordered = tuple(sorted(bands, key=lambda b: (WAVELENGTH_ORDER + b).index(b)))
    try:
        return surveys.by_bands(ordered)
    except SkysslError as exc:
        raise InputError(str(exc)) from None


def to_survey_order(
    data: np.ndarray, bands: tuple[str, ...] | None, survey: Survey, path: Path
) -> np.ndarray:
    """Reorder channels into the survey's band order; files that name no bands are taken as in order."""
    if bands is None:
        return data
    if set(bands) != set(survey.bands) or len(bands) != survey.n_bands:
        raise InputError(f"{path}: bands {','.join(bands)} differ from the survey's {','.join(survey.bands)}")
    return data[[bands.index(b) for b in survey.bands]]


class FitsFolder:
    """Cutouts in a folder + their catalogue, read batch by batch in catalogue order."""

    def __init__(self, folder: Path, catalog_path: Path, file_column: str, survey_name: str | None = None):
        self.folder = Path(folder)
        self.catalog_path = Path(catalog_path)
        self.file_column = file_column
        if not self.folder.is_dir():
            raise InputError(f"{self.folder}: not a folder of FITS cutouts")
        self.columns = table_columns(read_catalog_table(self.catalog_path))
        self.problems = self._catalog_problems()
        if self.problems:
            return
        self.paths = [self._resolve(name) for name in self.columns[file_column]]
        first, bands = read_cutout(self.paths[0])
        if first.shape[1] != first.shape[2]:
            raise InputError(
                f"{self.paths[0]}: cutouts must be square, not {first.shape[1]}×{first.shape[2]}"
            )
        self.survey = resolve_survey(bands, first.shape[0], survey_name)
        self.image_shape = (self.survey.n_bands, *first.shape[1:])
        self.object_ids, self.id_source, self.n_duplicate_ids = idlib.ids_from_columns(self.columns)
        if self.id_source == "object_id":
            repeats = int((idlib.occurrence_index(self.object_ids) > 0).sum())
            if repeats:
                self.problems.append(f"{self.catalog_path}: column 'object_id' repeats {repeats} id(s)")

    @property
    def n_objects(self) -> int:
        return len(self.columns[self.file_column]) if self.file_column in self.columns else 0

    def _catalog_problems(self) -> list[str]:
        """What makes the catalogue unusable: missing columns, bad positions, missing files."""
        where = f"{self.catalog_path}"
        missing = [c for c in ("ra", "dec", self.file_column) if c not in self.columns]
        if missing:
            return [
                f"{where}: missing required column(s) {', '.join(repr(c) for c in missing)}"
                f"; columns: {', '.join(list(self.columns)[:12])}"
            ]
        if self.n_objects == 0:
            return [f"{where}: catalogue has no rows"]
        try:
            ra = np.asarray(self.columns["ra"], dtype=np.float64)
            dec = np.asarray(self.columns["dec"], dtype=np.float64)
        except ValueError:
            return [f"{where}: 'ra'/'dec' are not numeric degrees"]
        bad = ~np.isfinite(ra) | ~np.isfinite(dec) | (np.abs(dec) > 90) | (np.abs(ra) > 360)
        if bad.any():
            return [f"{where}: {int(bad.sum())} row(s) with invalid ra/dec (first row {int(np.argmax(bad))})"]
        absent = [str(n) for n in self.columns[self.file_column] if not self._resolve(n).is_file()]
        if absent:
            return [
                f"{self.folder}: {len(absent)} cutout file(s) named in the catalogue are missing "
                f"(first '{absent[0]}')"
            ]
        return []

    def _resolve(self, name: object) -> Path:
        text = name.decode() if isinstance(name, bytes) else str(name)
        path = Path(text.strip())
        return path if path.is_absolute() else self.folder / path

    def read_images(self, start: int, stop: int) -> np.ndarray:
        """Cutouts of catalogue rows [start, stop) as float32 (n, C, H, W) in survey band order."""
        out = np.empty((stop - start, *self.image_shape), dtype=np.float32)
        for offset, path in enumerate(self.paths[start:stop]):
            data, bands = read_cutout(path)
            if data.shape != self.image_shape:
                raise InputError(
                    f"{path}: cutout shape {data.shape} differs from the first file's {self.image_shape}"
                )
            out[offset] = to_survey_order(data, bands, self.survey, path)
        return out

    def read_columns(self, start: int, stop: int) -> dict[str, np.ndarray]:
        """Catalogue rows [start, stop), every column, plus `object_id`."""
        batch = {name: values[start:stop] for name, values in self.columns.items()}
        batch["object_id"] = self.object_ids[start:stop]
        return batch
