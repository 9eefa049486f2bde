"""The web app's result filters: absolute magnitude and photo-z windows, excluded ids, duplicate spacing.

The search layer's own filters centre a magnitude window on the query; a person browsing results
rather wants "r between 17 and 19" whatever the query was, so the app builds its own mask over
embedding positions and hands the excluded positions to the search, which keeps exact search exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from skyssl.errors import InputError
from skyssl.search.filters import SearchFilters, filter_mask, in_range
from skyssl.search.index import SearchIndex


@dataclass(frozen=True)
class ResultFilters:
    """What results may be; `None` means no bound. Ranges are closed intervals."""

    mag_band: str = "r"
    mag_min: float | None = None
    mag_max: float | None = None
    zphot_min: float | None = None
    zphot_max: float | None = None
    exclude_ids: tuple[int, ...] = field(default_factory=tuple)
    min_separation_arcsec: float | None = None

    def __post_init__(self) -> None:
        for name, lo, hi in (("magnitude", self.mag_min, self.mag_max), ("photo-z", self.zphot_min, self.zphot_max)):
            if lo is not None and hi is not None and lo > hi:
                raise InputError(f"the {name} window must be given as min ≤ max, got {lo} > {hi}")
        if self.min_separation_arcsec is not None and not self.min_separation_arcsec >= 0:
            raise InputError(f"min_sep_arcsec must be non-negative, got {self.min_separation_arcsec}")

    @property
    def restricts(self) -> bool:
        bounds = (self.mag_min, self.mag_max, self.zphot_min, self.zphot_max)
        return any(v is not None for v in bounds) or bool(self.exclude_ids)


def _bounds(lo: float | None, hi: float | None) -> tuple[float, float]:
    return (-np.inf if lo is None else lo, np.inf if hi is None else hi)


def allowed_mask(index: SearchIndex, filters: ResultFilters) -> np.ndarray:
    """Boolean mask over embedding positions of the objects the filters let through."""
    photoz = None if filters.zphot_min is None and filters.zphot_max is None else _bounds(filters.zphot_min,
                                                                                           filters.zphot_max)
    mask = filter_mask(SearchFilters(photoz_range=photoz, exclude_ids=filters.exclude_ids), index.catalog, index.ids)
    if filters.mag_min is not None or filters.mag_max is not None:
        mask &= in_range(index.catalog.mag(filters.mag_band), *_bounds(filters.mag_min, filters.mag_max))
    return mask


def excluded_positions(index: SearchIndex, filters: ResultFilters, query_positions: np.ndarray) -> np.ndarray:
    """Positions a search must not return: the query objects and everything the filters reject."""
    query_positions = np.asarray(query_positions, dtype=np.int64)
    if not filters.restricts:
        return query_positions
    return np.union1d(query_positions, np.flatnonzero(~allowed_mask(index, filters)))
