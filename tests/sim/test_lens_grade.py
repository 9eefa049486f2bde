"""The visual-grade proxy on hand-built arc images with known answers."""

import numpy as np
import pytest

from skyssl.sim.lens_grade import arc_sn, azimuthal_coverage_deg, grade_lens

N, PIXEL_ARCSEC, SIGMA = 64, 0.262, np.array([0.01, 0.01, 0.02])


def _polar():
    y, x = np.mgrid[:N, :N] - N // 2
    return np.hypot(x, y) * PIXEL_ARCSEC, np.arctan2(y, x)


def _arc(radius_arcsec, peak, phi_centre, phi_half_width, width_arcsec=0.3):
    """A PSF-smooth arc: Gaussian in radius, Gaussian-tapered in azimuth, in all three bands."""
    r, phi = _polar()
    dphi = np.angle(np.exp(1j * (phi - phi_centre)))
    band = np.exp(-0.5 * ((r - radius_arcsec) / width_arcsec) ** 2)
    taper = np.exp(-0.5 * (dphi / phi_half_width) ** 2) if np.isfinite(phi_half_width) else 1.0
    return peak * np.stack([band * taper] * 3)


def test_bright_ring_is_grade_a():
    image = _arc(1.5, 0.3, 0.0, np.inf)
    g = grade_lens(image, SIGMA, 1.5, 1.3, 1, PIXEL_ARCSEC)
    assert g.grade == "A" and g.is_ring and g.n_images == 1 and g.sn > 40


def test_bright_double_is_grade_a():
    image = _arc(1.5, 0.3, 0.3, 0.3) + _arc(1.5, 0.15, 0.3 + np.pi, 0.15)
    g = grade_lens(image, SIGMA, 1.5, 1.3, 1, PIXEL_ARCSEC)
    assert g.grade == "A" and g.n_images == 2 and not g.is_ring


def test_faint_single_arc_is_grade_b():
    image = _arc(1.4, 0.1, 1.0, 0.35)
    g = grade_lens(image, SIGMA, 1.4, 1.3, 1, PIXEL_ARCSEC)
    assert g.grade == "B" and g.n_images == 1 and not g.is_ring
    assert 20 <= g.sn < 40


def test_empty_image_is_undetectable():
    g = grade_lens(np.zeros((3, N, N)), SIGMA, 1.5, 1.3, 1, PIXEL_ARCSEC)
    assert g == ("undetectable", 0.0, 0, False)


def test_bright_ring_unresolved_by_the_psf_is_undetectable():
    image = _arc(0.5, 0.3, 0.0, np.inf)
    assert grade_lens(image, SIGMA, 0.5, 1.3, 1, PIXEL_ARCSEC).grade == "undetectable"  # θ_E < 0.5 FWHM


def test_sn_is_best_band_over_pixels_above_noise():
    image = np.zeros((3, N, N))
    image[0, 10, 10:14] = 0.03  # 4 pixels at 3σ in g: SN = √(4·0.03²)/0.01 = 6
    image[2, 20, 20] = 0.01  # below z's σ: ignored
    assert arc_sn(image, SIGMA) == pytest.approx(6.0)


def test_azimuthal_coverage_of_a_thin_small_ring_has_no_lattice_gaps():
    r, _ = _polar()
    ring = np.abs(r / PIXEL_ARCSEC - 4.0) < 0.5
    assert azimuthal_coverage_deg(ring, (N // 2, N // 2), 2.0, 6.0) == pytest.approx(360.0)
    half = ring & (np.mgrid[:N, :N][0] >= N // 2)
    assert 170.0 <= azimuthal_coverage_deg(half, (N // 2, N // 2), 2.0, 6.0) <= 200.0
