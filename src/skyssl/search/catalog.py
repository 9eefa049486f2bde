"""The catalogue columns search needs, aligned to embedding positions and read once.

Stores differ in how they hold photometry: skyssl stores carry `mag` (N, C) per band, some catalogues
carry `mag_g`/`mag_r`/`mag_z`, and the authors' DR9 files only carry `flux` (N, 3) in nanomaggies, from
which mag = 22.5 − 2.5 log10(flux) (not extinction-corrected, as the authors; non-positive flux gives
NaN). Every lookup goes through :class:`SearchCatalog`, which caches each column it has read.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from skyssl.errors import InputError
from skyssl.store import Store

TYPE_COLUMNS = ("type", "source_type")
PHOTO_Z_COLUMN = "z_phot_mean"
VIEWER_URL = "https://www.legacysurvey.org/viewer?ra={ra:.6f}&dec={dec:.6f}&layer=ls-dr9&zoom=16"


def flux_to_mag(flux_nmgy: np.ndarray) -> np.ndarray:
    """AB magnitude of a flux in nanomaggies; NaN where the flux is not positive."""
    flux_nmgy = np.asarray(flux_nmgy, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(flux_nmgy > 0, 22.5 - 2.5 * np.log10(flux_nmgy), np.nan)


def viewer_url(ra_deg: float, dec_deg: float) -> str:
    """The Legacy Survey sky viewer centred on a position (DR9 layer)."""
    return VIEWER_URL.format(ra=ra_deg, dec=dec_deg)


class SearchCatalog:
    """Catalogue columns of the objects at embedding positions 0…n−1 (`rows` = their store rows)."""

    def __init__(self, store: Store, rows: np.ndarray):
        self.store = store
        self.rows = np.asarray(rows, dtype=np.int64)
        self._columns: dict[str, np.ndarray] = {}

    @cached_property
    def bands(self) -> tuple[str, ...]:
        return tuple(self.store.bands or ())

    def column(self, name: str) -> np.ndarray:
        """A store column at the embedding positions (cached; per-band fields stay (n, C))."""
        if name not in self._columns:
            self._columns[name] = self.store.read_column(name)[self.rows]
        return self._columns[name]

    def has(self, name: str) -> bool:
        return name in self.store.columns

    @property
    def ra_deg(self) -> np.ndarray:
        return self.column("ra").astype(np.float64, copy=False)

    @property
    def dec_deg(self) -> np.ndarray:
        return self.column("dec").astype(np.float64, copy=False)

    def magnitude_bands(self) -> tuple[str, ...]:
        """Bands in which a magnitude can be had (from `mag`, `mag_{band}` or `flux`)."""
        if self.has("mag") or self.has("flux"):
            return self.bands
        return tuple(b for b in self.bands if self.has(f"mag_{b}"))

    def mag(self, band: str) -> np.ndarray:
        """AB magnitude in `band` (not extinction-corrected); NaN where undefined."""
        key = f"mag_{band}"
        if key in self._columns:
            return self._columns[key]
        if band not in self.bands:
            raise InputError(f"no band '{band}' in {self.store.path}; bands: {', '.join(self.bands) or 'none'}")
        index = self.bands.index(band)
        if self.has("mag"):
            values = np.asarray(self.column("mag"), dtype=np.float64)
            values = values[:, index] if values.ndim == 2 else values
        elif self.has(key):
            values = np.asarray(self.store.read_column(key)[self.rows], dtype=np.float64)
        elif self.has("flux"):
            values = flux_to_mag(self.column("flux")[:, index])
        else:
            raise InputError(f"{self.store.path} has no magnitudes (no 'mag', '{key}' or 'flux' column)")
        self._columns[key] = values
        return values

    @cached_property
    def type_column(self) -> str | None:
        return next((name for name in TYPE_COLUMNS if self.has(name)), None)

    def describe(self, position: int) -> dict:
        """The result fields of one object: position, magnitudes, photo-z, type, viewer link."""
        ra, dec = float(self.ra_deg[position]), float(self.dec_deg[position])
        record: dict = {"ra": ra, "dec": dec}
        for band in self.magnitude_bands():
            value = float(self.mag(band)[position])
            record[f"mag_{band}"] = value if np.isfinite(value) else None
        if self.has(PHOTO_Z_COLUMN):
            value = float(self.column(PHOTO_Z_COLUMN)[position])
            record[PHOTO_Z_COLUMN] = value if np.isfinite(value) else None
        if self.type_column:
            record["type"] = str(self.column(self.type_column)[position]).strip()
        record["viewer_url"] = viewer_url(ra, dec)
        return record
