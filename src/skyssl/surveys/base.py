"""The description of one survey: everything that differs between surveys lives in a `Survey`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skyssl.surveys.priors import IndependentBandConditions, SimultaneousBandConditions, TruncatedLognormal

ZERO_POINT_MAG = 22.5  # nanomaggies: mag = 22.5 − 2.5 log10(flux)


@dataclass(frozen=True)
class DisplayBand:
    """How one band enters the display RGB: the RGB plane (0 = R, 1 = G, 2 = B) and its scale."""

    plane: int
    scale: float


@dataclass(frozen=True)
class Survey:
    """Bands, pixel scale, extinction, display scales and observing-condition priors of a survey.

    Modelled on lenstronomy's ObservationConfig modules: adding a survey means adding one module that
    builds one of these and registering it in :mod:`skyssl.surveys`.
    """

    name: str
    description: str
    bands: tuple[str, ...]
    pixel_scale_arcsec: float
    stamp_size_px: int
    crop_size_px: int
    extinction_r: tuple[float, ...]
    display: tuple[DisplayBand, ...]
    display_offset: float
    conditions: IndependentBandConditions | SimultaneousBandConditions
    ebv_prior: TruncatedLognormal

    @property
    def n_bands(self) -> int:
        return len(self.bands)

    def band_index(self, band: str) -> int:
        return self.bands.index(band)

    def mw_transmission(self, ebv_mag: np.ndarray) -> np.ndarray:
        """Linear Galactic transmission per band, 10^(−0.4 R_b E(B−V)), shape (..., n_bands)."""
        ebv = np.asarray(ebv_mag, dtype=np.float64)[..., None]
        return 10.0 ** (-0.4 * np.asarray(self.extinction_r) * ebv)

    def sample_conditions(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        """Draw `n` observations: PSF FWHM (arcsec) and pixel σ (nmgy) per band, and E(B−V) (mag)."""
        draws = self.conditions.sample(rng, n, self.pixel_scale_arcsec)
        draws["ebv_mag"] = self.ebv_prior.sample(rng, n)
        return draws


SFD_EBV_PRIOR = TruncatedLognormal(shape=0.67306, loc=0.001146, scale=0.03338, low=0.0, high=1.0)
"""E(B−V) over the DR9 footprint (Stein et al. fit; 5/50/95 % quantiles 0.012/0.035/0.10)."""
