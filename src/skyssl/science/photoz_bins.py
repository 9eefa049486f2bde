"""Redshift bins of the photo-z classifier (Hayat et al. 2021): equal-width bins on [0, z_max).

Hayat et al. turn photo-z into classification over 180 bins on [0, 0.4): z is clamped to
z_max − 1e-6 and its bin is ⌊z / width⌋, so redshifts at or beyond z_max land in the last bin. The
point estimate is E[z] = Σ p_i c_i over bin centres c_i. SDSS's main galaxy sample lives below 0.4;
the DR9-like Legacy sample (z < 20 mag) reaches z ≈ 1 (the simulator's 99.9th percentile is ≈ 0.94),
so its preset widens the range to [0, 1.0) with 200 bins of 0.005 — coarser bins than SDSS's 0.0022,
because photo-z errors grow with depth and each bin still needs training objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from skyssl.errors import InputError

CLAMP_BELOW_MAX = 1e-6


@dataclass(frozen=True)
class RedshiftBins:
    """`n_bins` equal bins on [0, z_max)."""

    n_bins: int
    z_max: float

    def __post_init__(self) -> None:
        if self.n_bins < 2:
            raise InputError(f"photo-z needs at least 2 redshift bins, got {self.n_bins}")
        if not self.z_max > 0:
            raise InputError(f"the redshift range [0, z_max) needs z_max > 0, got {self.z_max}")

    @property
    def width(self) -> float:
        return self.z_max / self.n_bins

    @cached_property
    def edges(self) -> np.ndarray:
        """n_bins + 1 edges from 0 to z_max."""
        return np.arange(self.n_bins + 1) * self.width

    @cached_property
    def centres(self) -> np.ndarray:
        return (np.arange(self.n_bins) + 0.5) * self.width

    def bin_index(self, z: np.ndarray) -> np.ndarray:
        """Class index of each redshift: ⌊clamp(z, 0, z_max − 1e-6) / width⌋ (Hayat et al.'s rule)."""
        clamped = np.clip(np.asarray(z, dtype=np.float64), 0.0, self.z_max - CLAMP_BELOW_MAX)
        return np.minimum((clamped / self.width).astype(np.int64), self.n_bins - 1)

    def expected_z(self, pdf: np.ndarray) -> np.ndarray:
        """E[z] = Σ_i p_i c_i of each row of bin probabilities (n, n_bins)."""
        return np.asarray(pdf, dtype=np.float64) @ self.centres

    def as_dict(self) -> dict:
        return {"n_bins": self.n_bins, "z_max": self.z_max, "width": self.width}


PRESETS = {"sdss": RedshiftBins(180, 0.4), "legacy": RedshiftBins(200, 1.0)}
SURVEY_PRESETS = {"sdss": "sdss", "legacy-dr9-south": "legacy", "legacy-dr9-north": "legacy"}


def bins_for(preset: str, survey_name: str | None, n_bins: int | None = None, z_max: float | None = None) -> RedshiftBins:
    """The named preset ('auto': the store's survey, SDSS's when unknown), with n_bins / z_max overriding it."""
    name = SURVEY_PRESETS.get(survey_name or "", "sdss") if preset == "auto" else preset
    if name not in PRESETS:
        raise InputError(f"unknown redshift-bin preset {preset!r}; use auto, {', '.join(PRESETS)}")
    base = PRESETS[name]
    return RedshiftBins(base.n_bins if n_bins is None else n_bins, base.z_max if z_max is None else z_max)
