"""The rest of the cutout: neighbouring galaxies and stars around the target, drawn at render time.

Drawn from the row's own render generator, so a cutout re-renders identically from its row. Neighbour
number counts follow a galaxy-count slope d log N/dm ≈ 0.35 down to r = 24.5 (≈ 5 per 152² stamp),
sizes shrink with magnitude, colours come from the CWW grid at a random redshift. Stars follow
d log N/dm ≈ 0.15 with blackbody colours.
"""

from __future__ import annotations

import numpy as np

from skyssl.sim import sed
from skyssl.sim.scene import POINT, SERSIC, Components
from skyssl.surveys import ZERO_POINT_MAG, Survey

NEIGHBOURS_PER_STAMP_152 = 5.0
STARS_PER_STAMP_152 = 0.5
BAND_WAVELENGTH_AA = {"u": 3560.0, "g": 4800.0, "r": 6400.0, "i": 7700.0, "z": 9200.0}


def _power_law_mags(rng: np.random.Generator, n: int, bright: float, faint: float, slope: float) -> np.ndarray:
    """Magnitudes with dN/dm ∝ 10^(slope·m) on [bright, faint] (inverse CDF)."""
    lo, hi = 10 ** (slope * bright), 10 ** (slope * faint)
    return np.log10(lo + rng.uniform(size=n) * (hi - lo)) / slope


def _positions(rng: np.random.Generator, n: int, half_width_arcsec: float, min_sep_arcsec: float):
    x = rng.uniform(-half_width_arcsec, half_width_arcsec, n)
    y = rng.uniform(-half_width_arcsec, half_width_arcsec, n)
    close = np.hypot(x, y) < min_sep_arcsec
    scale = np.where(close, min_sep_arcsec / np.maximum(np.hypot(x, y), 1e-3), 1.0)
    return x * scale, y * scale


def star_colours(bands: tuple[str, ...], temperature_k: np.ndarray) -> np.ndarray:
    """AB magnitude offsets m_b − m_r (n, C) of blackbodies (f_ν ∝ B_ν(T))."""
    lam_cm = np.array([BAND_WAVELENGTH_AA[b] for b in bands]) * 1e-8
    nu = 2.998e10 / lam_cm
    b_nu = nu**3 / np.expm1(6.626e-27 * nu[None, :] / (1.381e-16 * temperature_k[:, None]))
    r = bands.index("r")
    return -2.5 * np.log10(b_nu / b_nu[:, [r]])


def neighbours(rng: np.random.Generator, survey: Survey, transmission: np.ndarray, area_scale: float) -> Components:
    """Background/foreground galaxies scattered over the stamp (not the target)."""
    n = rng.poisson(NEIGHBOURS_PER_STAMP_152 * area_scale)
    if n == 0:
        return Components.empty(survey.n_bands)
    half = 0.5 * survey.stamp_size_px * survey.pixel_scale_arcsec
    mag_r = _power_law_mags(rng, n, 18.0, 24.5, 0.35)
    z = rng.uniform(0.1, 1.2, n)
    t = rng.uniform(0.0, 3.0, n)
    offsets = sed.magnitude_offsets(z, t, rng.uniform(0, 0.2, n), sed.system_for_survey(survey.name))
    mags = mag_r[:, None] + offsets - offsets[:, [survey.band_index("r")]]
    flux = 10 ** (-0.4 * (mags - ZERO_POINT_MAG)) * transmission
    x, y = _positions(rng, n, half, 3.0)
    r_half = np.clip(0.6 * 10 ** (-0.12 * (mag_r - 21.0)) * np.exp(0.3 * rng.standard_normal(n)), 0.1, 5.0)
    return Components(
        np.full(n, SERSIC, np.int8), np.where(t < 1.0, 4.0, 1.0), r_half, rng.uniform(0.3, 1.0, n),
        rng.uniform(0, np.pi, n), x, y, flux,
    )


def stars(rng: np.random.Generator, survey: Survey, transmission: np.ndarray, area_scale: float) -> Components:
    n = rng.poisson(STARS_PER_STAMP_152 * area_scale)
    if n == 0:
        return Components.empty(survey.n_bands)
    half = 0.5 * survey.stamp_size_px * survey.pixel_scale_arcsec
    mag_r = _power_law_mags(rng, n, 16.0, 22.0, 0.15)
    colours = star_colours(survey.bands, rng.uniform(3200.0, 9000.0, n))
    flux = 10 ** (-0.4 * (mag_r[:, None] + colours - ZERO_POINT_MAG)) * transmission
    x, y = _positions(rng, n, half, 4.0)
    one = np.ones(n)
    return Components(np.full(n, POINT, np.int8), one, 0 * one, one, 0 * one, x, y, flux)


def bright_star(rng: np.random.Generator, survey: Survey, transmission: np.ndarray) -> tuple[Components, float]:
    """One saturated-looking star of r 12–16 a few arcsec to 15″ from the target, and its r magnitude."""
    mag_r = float(rng.uniform(12.0, 16.0))
    colours = star_colours(survey.bands, rng.uniform(3500.0, 8000.0, 1))
    flux = 10 ** (-0.4 * (mag_r + colours - ZERO_POINT_MAG)) * transmission
    radius, angle = rng.uniform(5.0, 15.0), rng.uniform(0, 2 * np.pi)
    one = np.ones(1)
    comp = Components(np.full(1, POINT, np.int8), one, 0 * one, one, 0 * one,
                      np.array([radius * np.cos(angle)]), np.array([radius * np.sin(angle)]), flux)
    return comp, mag_r

