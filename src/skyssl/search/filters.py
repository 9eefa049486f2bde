"""Catalogue filters for search: which objects a query may return.

A filter is turned into a boolean mask over embedding positions and handed to Faiss as an id
selector, so exact search stays exact under any filter (no over-fetch-and-hope). The magnitude window
is centred on the query's own magnitude (the authors' N×N tables used ±0.5 z-mag, bug 17 — here it is
an explicit, per-query option); objects with an undefined magnitude, colour or photo-z never pass a
filter on that quantity.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from skyssl.errors import InputError
from skyssl.search.catalog import PHOTO_Z_COLUMN, SearchCatalog
from skyssl.search.coords import unit_vectors


@dataclass(frozen=True)
class SearchFilters:
    """What results may be. Ranges are closed intervals; `None` means no constraint.

    - `mag_window`: |mag_band − mag_band(query)| ≤ window, in `mag_band` (default z, as the authors).
    - `colour`: (blue band, red band, lo, hi) on mag_blue − mag_red, e.g. ("g", "r", 0.5, 1.2).
    - `photoz_range`: (lo, hi) on `z_phot_mean`.
    - `sky_box_deg`: (ra_min, ra_max, dec_min, dec_max); ra_min > ra_max wraps through RA = 0.
    - `cone_deg`: (ra, dec, radius) in degrees.
    - `exclude_ids`: object ids never returned.
    """

    mag_window: float | None = None
    mag_band: str = "z"
    colour: tuple[str, str, float, float] | None = None
    photoz_range: tuple[float, float] | None = None
    sky_box_deg: tuple[float, float, float, float] | None = None
    cone_deg: tuple[float, float, float] | None = None
    exclude_ids: tuple[int, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.mag_window is not None and not self.mag_window >= 0:
            raise InputError(f"magnitude window must be non-negative, got {self.mag_window}")
        for name, bounds in (("photo-z range", self.photoz_range), ("colour range", self.colour and self.colour[2:])):
            if bounds and not bounds[0] <= bounds[1]:
                raise InputError(f"{name} must be given as low ≤ high, got {tuple(bounds)}")
        if self.sky_box_deg and not self.sky_box_deg[2] <= self.sky_box_deg[3]:
            raise InputError(f"sky box needs dec_min ≤ dec_max, got {self.sky_box_deg}")
        if self.cone_deg and not self.cone_deg[2] > 0:
            raise InputError(f"cone radius must be positive, got {self.cone_deg[2]}")

    @property
    def restricts_catalogue(self) -> bool:
        return any(v is not None for v in (self.mag_window, self.colour, self.photoz_range, self.sky_box_deg,
                                             self.cone_deg))


def in_range(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """lo ≤ values ≤ hi, False for NaN."""
    values = np.asarray(values, dtype=np.float64)
    return (values >= lo) & (values <= hi)


def in_sky_box(ra_deg: np.ndarray, dec_deg: np.ndarray, box_deg: tuple[float, float, float, float]) -> np.ndarray:
    """Inside an RA/Dec box; a box with ra_min > ra_max spans RA = 0 (e.g. 350 → 10)."""
    ra_min, ra_max, dec_min, dec_max = box_deg
    ra = np.mod(ra_deg, 360.0)
    ra_min = ra_min % 360.0
    ra_max = 360.0 if ra_max == 360.0 else ra_max % 360.0
    in_ra = (ra >= ra_min) & (ra <= ra_max) if ra_min <= ra_max else (ra >= ra_min) | (ra <= ra_max)
    return in_ra & (dec_deg >= dec_min) & (dec_deg <= dec_max)


def in_cone(ra_deg: np.ndarray, dec_deg: np.ndarray, cone_deg: tuple[float, float, float]) -> np.ndarray:
    """Within `radius` degrees of (ra, dec), by the dot product of unit vectors."""
    centre = unit_vectors(np.array([cone_deg[0]]), np.array([cone_deg[1]]))[0]
    return unit_vectors(ra_deg, dec_deg) @ centre >= np.cos(np.radians(cone_deg[2]))


def filter_mask(filters: SearchFilters, catalog: SearchCatalog, ids: np.ndarray,
                reference_mag: float | None = None) -> np.ndarray:
    """Boolean mask over positions of the objects that pass every filter."""
    mask = np.ones(ids.size, dtype=bool)
    if filters.mag_window is not None:
        if reference_mag is None or not np.isfinite(reference_mag):
            raise InputError(f"a magnitude window needs the query's {filters.mag_band}-band magnitude, "
                             "which is undefined for this query")
        mag = catalog.mag(filters.mag_band)
        mask &= in_range(mag, reference_mag - filters.mag_window, reference_mag + filters.mag_window)
    if filters.colour is not None:
        blue, red, lo, hi = filters.colour
        mask &= in_range(catalog.mag(blue) - catalog.mag(red), lo, hi)
    if filters.photoz_range is not None:
        if not catalog.has(PHOTO_Z_COLUMN):
            raise InputError(f"{catalog.store.path} has no '{PHOTO_Z_COLUMN}' column for a photo-z filter")
        mask &= in_range(catalog.column(PHOTO_Z_COLUMN), *filters.photoz_range)
    if filters.sky_box_deg is not None:
        mask &= in_sky_box(catalog.ra_deg, catalog.dec_deg, filters.sky_box_deg)
    if filters.cone_deg is not None:
        mask &= in_cone(catalog.ra_deg, catalog.dec_deg, filters.cone_deg)
    if filters.exclude_ids:
        mask &= ~np.isin(ids, np.asarray(filters.exclude_ids, dtype=np.int64))
    return mask
