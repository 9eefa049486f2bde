"""Priors on observing conditions (PSF width, pixel noise, Galactic reddening).

They serve two layers: the simulator draws the conditions of each cutout from them, and the
augmentations draw the *target* conditions (σ_final, E_new) from the same priors, so that an
augmented view looks like another real observation of the survey.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri


@dataclass(frozen=True)
class TruncatedLognormal:
    """x = loc + scale·exp(shape·Z), Z ~ N(0, 1), truncated to [low, high].

    This is scipy's ``lognorm(shape, loc, scale)`` (median loc + scale), the form in which Stein et al.
    published their DR9 fits. Truncation is exact (inverse CDF), so no mass piles up at the bounds.
    """

    shape: float
    loc: float
    scale: float
    low: float
    high: float

    def _z_bounds(self) -> tuple[float, float]:
        def to_z(x: float) -> float:
            if x <= self.loc:
                return -np.inf
            return float(np.log((x - self.loc) / self.scale) / self.shape)

        return to_z(self.low), to_z(self.high)

    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...]) -> np.ndarray:
        z_low, z_high = self._z_bounds()
        u = rng.uniform(ndtr(z_low), ndtr(z_high), size=size)
        z = ndtri(u)
        return np.clip(self.loc + self.scale * np.exp(self.shape * z), self.low, self.high)

    @property
    def median(self) -> float:
        return self.loc + self.scale


@dataclass(frozen=True)
class IndependentBandConditions:
    """Per-band PSF σ (pixels) and pixel noise σ (nmgy) drawn independently in each band.

    Right for surveys whose bands are observed at different times (DECam, BASS/MzLS).
    """

    psf_sigma_px: tuple[TruncatedLognormal, ...]
    noise_sigma_nmgy: tuple[TruncatedLognormal, ...]

    def sample(self, rng: np.random.Generator, n: int, pixel_scale_arcsec: float) -> dict[str, np.ndarray]:
        sigma_px = np.stack([p.sample(rng, n) for p in self.psf_sigma_px], axis=1)
        noise = np.stack([p.sample(rng, n) for p in self.noise_sigma_nmgy], axis=1)
        return {"psf_fwhm_arcsec": sigma_px * FWHM_PER_SIGMA * pixel_scale_arcsec, "sigma_pix_nmgy": noise}


@dataclass(frozen=True)
class SimultaneousBandConditions:
    """One seeing draw per field with small per-band scatter, as for SDSS's simultaneous drift scans.

    FWHM_b = fwhm_median_b · 10^(N(0, seeing_dex)) · (1 + N(0, band_scatter)); the pixel noise follows
    from the 5σ point-source depth m5_b through the noise-equivalent area, with a lognormal scatter.
    """

    fwhm_median_arcsec: tuple[float, ...]
    m5_mag: tuple[float, ...]
    seeing_dex: float
    band_scatter: float
    noise_shape: float
    fwhm_low_arcsec: float
    fwhm_high_arcsec: float

    def sample(self, rng: np.random.Generator, n: int, pixel_scale_arcsec: float) -> dict[str, np.ndarray]:
        medians = np.asarray(self.fwhm_median_arcsec)
        field = 10 ** rng.normal(0.0, self.seeing_dex, size=(n, 1))
        per_band = 1.0 + rng.normal(0.0, self.band_scatter, size=(n, medians.size))
        fwhm = np.clip(medians * field * per_band, self.fwhm_low_arcsec, self.fwhm_high_arcsec)
        median_sigma = sigma_pix_from_m5(np.asarray(self.m5_mag), medians, pixel_scale_arcsec)
        noise = median_sigma * np.exp(rng.normal(0.0, self.noise_shape, size=(n, medians.size)))
        return {"psf_fwhm_arcsec": fwhm, "sigma_pix_nmgy": noise}


FWHM_PER_SIGMA = 2.0 * np.sqrt(2.0 * np.log(2.0))  # 2.3548


def nea_pix(psf_fwhm_arcsec: np.ndarray, pixel_scale_arcsec: float) -> np.ndarray:
    """Noise-equivalent area of a Gaussian PSF in pixels: 4π σ_psf² with σ in pixels."""
    sigma_px = np.asarray(psf_fwhm_arcsec) / FWHM_PER_SIGMA / pixel_scale_arcsec
    return 4.0 * np.pi * sigma_px**2


def psfdepth_from_sigma(
    sigma_pix_nmgy: np.ndarray, psf_fwhm_arcsec: np.ndarray, pixel_scale_arcsec: float
) -> np.ndarray:
    """DR9 `psfdepth` (nmgy⁻²) from per-pixel noise and PSF: 1/σ_pix² = psfdepth · NEA_pix."""
    return 1.0 / (np.asarray(sigma_pix_nmgy) ** 2 * nea_pix(psf_fwhm_arcsec, pixel_scale_arcsec))


def sigma_from_psfdepth(
    psfdepth_nmgy2: np.ndarray, psf_fwhm_arcsec: np.ndarray, pixel_scale_arcsec: float
) -> np.ndarray:
    """Per-pixel noise σ (nmgy) implied by `psfdepth` and `psfsize` (inverse of the NEA relation)."""
    return 1.0 / np.sqrt(np.asarray(psfdepth_nmgy2) * nea_pix(psf_fwhm_arcsec, pixel_scale_arcsec))


def sigma_pix_from_m5(m5_mag: np.ndarray, psf_fwhm_arcsec: np.ndarray, pixel_scale_arcsec: float) -> np.ndarray:
    """Per-pixel σ (nmgy) of a survey whose 5σ point-source depth is m5: σ = f5/(5√NEA)."""
    flux5_nmgy = 10 ** (-0.4 * (np.asarray(m5_mag) - 22.5))
    return flux5_nmgy / (5.0 * np.sqrt(nea_pix(psf_fwhm_arcsec, pixel_scale_arcsec)))
