"""A visual-grade proxy (A / B / undetectable) for simulated strong lenses (recipe §6.3).

Human graders call a lens A ("definite": clear arcs, a ring or multiple images) or B ("probable",
e.g. a single arc without a counter-image). The proxy reproduces that from the noiseless, PSF-convolved,
pixel-binned image of the lensed source alone (the deflector subtracted, as a grader mentally does):

- SN = max_b √(Σ_{S_b > σ_b} S_b²)/σ_b, the matched-filter S/N of the arc in its best band, counting
  only pixels above the per-pixel noise;
- n_img = connected components (8-connected) of S_r > 2σ_r, the separately visible images;
- ring: one component whose pixels within 0.5–1.5 θ_E of the lens centre cover ≥ 270° of azimuth,
  so a thresholded, nearly closed Einstein ring counts even when its images merge into one component;
- A: SN ≥ 40, θ_E > 0.65 FWHM_r and (n_img ≥ 2 or ring); B: SN ≥ 20 and θ_E > 0.5 FWHM_r.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import ndimage

SN_GRADE_A = 40.0
SN_GRADE_B = 20.0
THETA_E_OVER_FWHM_A = 0.65
THETA_E_OVER_FWHM_B = 0.5
IMAGE_THRESHOLD_SIGMA = 2.0
RING_MIN_COVERAGE_DEG = 270.0
RING_ANNULUS = (0.5, 1.5)  # in units of θ_E: where the ring's pixels must lie
_AZIMUTH_BINS = 360


class LensGrade(NamedTuple):
    """The proxy's verdict; unpacks as (grade, sn, n_images, is_ring)."""

    grade: str  # 'A', 'B' or 'undetectable'
    sn: float
    n_images: int
    is_ring: bool


def arc_sn(arc_image_nmgy: np.ndarray, sigma_pix_nmgy: np.ndarray) -> float:
    """Best-band S/N of the noiseless arc over the pixels that stand above the noise."""
    s = np.asarray(arc_image_nmgy, dtype=float)
    sig = np.asarray(sigma_pix_nmgy, dtype=float).reshape(-1, 1, 1)
    power = np.where(s > sig, s * s, 0.0).sum(axis=(1, 2))
    return float(np.max(np.sqrt(power) / sig[:, 0, 0]))


def azimuthal_coverage_deg(mask: np.ndarray, center_px: tuple[float, float], r_min_px: float, r_max_px: float) -> float:
    """Degrees of azimuth around `center_px` (row, col) covered by `mask` pixels within [r_min, r_max].

    Each pixel covers the angle it subtends, ±atan(0.5/r), so a closed ring of small radius is not
    broken into gaps by the pixel lattice.
    """
    rows, cols = np.nonzero(mask)
    dy, dx = rows - center_px[0], cols - center_px[1]
    r = np.hypot(dx, dy)
    keep = (r >= r_min_px) & (r <= r_max_px) & (r > 0.0)
    if not keep.any():
        return 0.0
    phi = np.arctan2(dy[keep], dx[keep])
    half = np.arctan(0.5 / r[keep])
    centres = (np.arange(_AZIMUTH_BINS) + 0.5) * (2.0 * np.pi / _AZIMUTH_BINS) - np.pi
    dist = np.abs(np.mod(centres[None, :] - phi[:, None] + np.pi, 2.0 * np.pi) - np.pi)
    covered = (dist <= half[:, None]).any(axis=0)
    return float(covered.mean() * 360.0)


def grade_lens(
    arc_image_nmgy: np.ndarray,
    sigma_pix_nmgy: np.ndarray,
    theta_e_arcsec: float,
    psf_fwhm_r_arcsec: float,
    r_band_index: int,
    pixel_scale_arcsec: float,
    center_px: tuple[float, float] | None = None,
) -> LensGrade:
    """Grade one lens from its noiseless lensed-source image (C, N, N) in nmgy per pixel.

    `sigma_pix_nmgy` (C,) is the per-pixel noise; `center_px` (row, col) is the lens centre, by default
    the stamp centre (N//2, N//2) of the scene convention.
    """
    s = np.asarray(arc_image_nmgy, dtype=float)
    sig = np.asarray(sigma_pix_nmgy, dtype=float)
    if s.ndim != 3 or sig.shape != (s.shape[0],):
        raise ValueError(f"expected arc image (C, N, N) and sigma (C,), got {s.shape} and {sig.shape}")
    if center_px is None:
        center_px = (s.shape[1] // 2, s.shape[2] // 2)
    sn = arc_sn(s, sig)
    mask = s[r_band_index] > IMAGE_THRESHOLD_SIGMA * sig[r_band_index]
    labels, n_images = ndimage.label(mask, structure=np.ones((3, 3), dtype=bool))
    theta_e_px = theta_e_arcsec / pixel_scale_arcsec
    r_lo, r_hi = RING_ANNULUS[0] * theta_e_px, RING_ANNULUS[1] * theta_e_px
    is_ring = any(
        azimuthal_coverage_deg(labels == k, center_px, r_lo, r_hi) >= RING_MIN_COVERAGE_DEG
        for k in range(1, n_images + 1)
    )
    ratio = theta_e_arcsec / psf_fwhm_r_arcsec
    if sn >= SN_GRADE_A and ratio > THETA_E_OVER_FWHM_A and (n_images >= 2 or is_ring):
        grade = "A"
    elif sn >= SN_GRADE_B and ratio > THETA_E_OVER_FWHM_B:
        grade = "B"
    else:
        grade = "undetectable"
    return LensGrade(grade, sn, int(n_images), bool(is_ring))
