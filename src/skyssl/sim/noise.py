"""Pixel noise of a sky-subtracted coadd: Gaussian sky noise plus the source's own Poisson noise.

Variance per pixel = σ_pix² + max(I, 0)/g_eff (recipe §1.3), with I the noiseless image in nmgy and
g_eff the effective gain in electrons per nmgy. The Poisson term is drawn as a Gaussian, which is
exact enough at the ≥ 10⁴ electrons per nmgy of the coadds; only bright cores notice it (a 1 nmgy/px
g-band core has σ_Poisson ≈ 0.009 against σ_sky ≈ 0.003).
"""

from __future__ import annotations

import numpy as np

from skyssl import surveys
from skyssl.surveys.base import ZERO_POINT_MAG, Survey

# Sky surface brightness (AB mag/arcsec²) from lenstronomy's DES ObservationConfig (6-yr coadd). DR9
# north and south both use it: BASS/MzLS skies at Kitt Peak differ by a few tenths of a magnitude,
# within the spread of the σ_pix prior the gain is divided by.
SKY_MAG_PER_ARCSEC2 = {
    "legacy-dr9-south": (22.01, 21.15, 18.72),
    "legacy-dr9-north": (22.01, 21.15, 18.72),
}

# SDSS images are single 53.9 s drift scans, so the gain is a fixed property of camera and filter,
# not of the noise draw: ≈ 900 e⁻/nmgy in r (sky 20.86 mag/arcsec² → σ_pix ≈ 0.028 nmgy), and the
# other bands scaled by the photon rate of a flat-f_ν source through speclite's sdss2010 responses,
# ∫S(λ)/λ dλ relative to r (0.152, 1.108, 1, 0.729, 0.118; tests recompute these).
SDSS_GAIN_R_E_PER_NMGY = 900.0
SDSS_PHOTON_RATE_REL_R = (0.152, 1.108, 1.0, 0.729, 0.118)


def sky_nmgy_per_pixel(sky_mag_per_arcsec2: np.ndarray, pixel_scale_arcsec: float) -> np.ndarray:
    """Sky level per pixel in nmgy from its surface brightness."""
    return 10 ** (-0.4 * (np.asarray(sky_mag_per_arcsec2) - ZERO_POINT_MAG)) * pixel_scale_arcsec**2


def effective_gain(survey: Survey | str, sigma_pix_nmgy: np.ndarray) -> np.ndarray:
    """Effective gain g_eff (e⁻/nmgy) per band, broadcast to the shape of `sigma_pix_nmgy` (…, C).

    Legacy coadds: g_eff = sky_pix/σ_pix², the gain at which the sky's own Poisson noise is the
    drawn σ_pix — deeper coadds (smaller σ) collect more electrons per nmgy. With the DES sky this
    gives ≈ 1.1e4 / 1.2e4 / 1.6e4 e⁻/nmgy in g, r, z at the median σ. SDSS: the fixed per-band gains
    above, independent of σ_pix.
    """
    survey = surveys.get(survey) if isinstance(survey, str) else survey
    sigma = np.asarray(sigma_pix_nmgy, dtype=np.float64)
    if sigma.shape[-1:] != (survey.n_bands,):
        raise ValueError(f"sigma_pix_nmgy has shape {sigma.shape}; expected (…, {survey.n_bands})")
    if survey.name == "sdss":
        gain = SDSS_GAIN_R_E_PER_NMGY * np.asarray(SDSS_PHOTON_RATE_REL_R)
        return np.broadcast_to(gain, sigma.shape).copy()
    if survey.name not in SKY_MAG_PER_ARCSEC2:
        raise ValueError(f"no sky levels for survey {survey.name!r}")
    sky = sky_nmgy_per_pixel(np.asarray(SKY_MAG_PER_ARCSEC2[survey.name]), survey.pixel_scale_arcsec)
    return sky / sigma**2


def noise_sigma(image_nmgy: np.ndarray, sigma_pix_nmgy: np.ndarray,
                gain_e_per_nmgy: np.ndarray | None = None) -> np.ndarray:
    """Per-pixel noise σ (C, N, N) of a noiseless image (C, N, N): √(σ_pix² + max(I, 0)/g_eff).

    Also what a store's inverse variance should be built from (ivar = 1/σ²).
    """
    dtype = np.float32 if np.asarray(image_nmgy).dtype == np.float32 else np.float64
    sigma = np.asarray(sigma_pix_nmgy, dtype=dtype).reshape(-1, 1, 1)
    if sigma.shape[0] != image_nmgy.shape[0]:
        raise ValueError(f"{sigma.shape[0]} noise levels for {image_nmgy.shape[0]} bands")
    if gain_e_per_nmgy is None:
        return np.broadcast_to(sigma, image_nmgy.shape).copy()
    gain = np.asarray(gain_e_per_nmgy, dtype=dtype).reshape(-1, 1, 1)
    variance = np.maximum(image_nmgy, 0.0).astype(dtype, copy=True)
    variance /= gain
    variance += sigma**2
    return np.sqrt(variance, out=variance)


def add_noise(image_nmgy: np.ndarray, sigma_pix_nmgy: np.ndarray, rng: np.random.Generator,
              gain_e_per_nmgy: np.ndarray | None = None) -> np.ndarray:
    """A noisy copy (C, N, N) of the noiseless image: sky noise σ_pix per band (C,), plus the
    source's Poisson noise when the effective gain (C,) is given.

    Drawn in float32 (twice as fast as float64; the stored images are float32 or float16 anyway).
    """
    image = np.asarray(image_nmgy, dtype=np.float32)
    sigma = noise_sigma(image, sigma_pix_nmgy, gain_e_per_nmgy)
    deviates = rng.standard_normal(image.shape, dtype=np.float32)
    deviates *= sigma
    deviates += image
    return deviates
