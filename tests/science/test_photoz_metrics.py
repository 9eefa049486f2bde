from __future__ import annotations

import numpy as np
import pytest
from astropy.stats import mad_std

from skyssl.science.photoz_bins import RedshiftBins
from skyssl.science.photoz_metrics import (
    crps,
    delta_z,
    outlier_fraction,
    photoz_metrics,
    pit,
    pit_ks,
    sigma_mad,
)

BINS = RedshiftBins(4, 0.4)  # width 0.1, edges 0, 0.1, 0.2, 0.3, 0.4


def _numeric_crps(pdf_row: np.ndarray, z: float, bins: RedshiftBins, lo: float = -1.0, hi: float = 2.0) -> float:
    """∫ (F − H)² on a fine grid, F the piecewise-linear histogram CDF: an independent check."""
    x = np.linspace(lo, hi, 600_001)
    cdf = np.interp(x, bins.edges, np.concatenate([[0.0], np.cumsum(pdf_row)]), left=0.0, right=1.0)
    return float(np.trapezoid((cdf - (x >= z)) ** 2, x))


def test_delta_z_bias_and_outliers_by_hand():
    z_spec = np.array([0.1, 0.2, 0.3, 0.0])
    z_phot = np.array([0.1, 0.26, 0.3, 0.2])
    dz = delta_z(z_phot, z_spec)
    assert dz == pytest.approx([0.0, 0.06 / 1.2, 0.0, 0.2])
    assert outlier_fraction(dz, 0.05) == 0.25  # 0.05 exactly is not an outlier
    assert outlier_fraction(dz, 0.15) == 0.25
    assert outlier_fraction(dz, 0.04) == 0.5


def test_sigma_mad_matches_astropy_mad_std():
    dz = np.random.default_rng(3).standard_t(3, 5001) * 0.01 + 0.002
    assert sigma_mad(dz) == pytest.approx(mad_std(dz), rel=1e-4)
    assert sigma_mad(np.array([0.0, 0.0, 1.0])) == 0.0


def test_pit_interpolates_inside_bins():
    pdf = np.array([[0.0, 0.5, 0.5, 0.0]] * 5)
    z = np.array([0.05, 0.15, 0.2, 0.275, 0.9])
    assert pit(pdf, z, BINS) == pytest.approx([0.0, 0.25, 0.5, 0.875, 1.0])


def test_crps_of_a_single_bin_is_the_uniform_closed_form():
    pdf = np.array([[0.0, 1.0, 0.0, 0.0]] * 3)  # U(0.1, 0.2)
    z = np.array([0.15, 0.12, 0.35])
    a, b, w = 0.1, 0.2, 0.1
    inside = [((y - a) ** 3 + (b - y) ** 3) / (3 * w * w) for y in z[:2]]
    beyond = (0.35 - 0.15) - w / 6  # E|X − z| − E|X − X′|/2 for z above the support
    assert crps(pdf, z, BINS) == pytest.approx([*inside, beyond])


def test_crps_of_a_gaussian_histogram_matches_numerical_integration():
    bins = RedshiftBins(40, 0.4)
    centres = bins.centres
    pdf = np.stack([np.exp(-0.5 * ((centres - m) / 0.03) ** 2) for m in (0.12, 0.2, 0.33)])
    pdf /= pdf.sum(axis=1, keepdims=True)
    z = np.array([0.1, 0.2, 0.5])  # inside, exactly on an edge, beyond z_max
    expected = [_numeric_crps(pdf[i], z[i], bins) for i in range(3)]
    assert crps(pdf, z, bins) == pytest.approx(expected, abs=5e-6)
    assert crps(pdf[:1], np.array([-0.05]), bins) == pytest.approx(_numeric_crps(pdf[0], -0.05, bins), abs=5e-6)


def test_crps_is_chunk_independent():
    rng = np.random.default_rng(0)
    pdf = rng.dirichlet(np.ones(4), 50)
    z = rng.uniform(-0.1, 0.5, 50)
    assert crps(pdf, z, BINS, chunk_rows=7) == pytest.approx(crps(pdf, z, BINS))


def test_pit_of_calibrated_pdfs_is_uniform():
    rng = np.random.default_rng(1)
    bins = RedshiftBins(50, 1.0)
    pdf = np.exp(-0.5 * ((bins.centres - 0.5) / 0.1) ** 2)[None, :].repeat(4000, axis=0)
    pdf /= pdf.sum(axis=1, keepdims=True)
    draws = rng.choice(bins.n_bins, size=4000, p=pdf[0]) * bins.width + rng.uniform(0, bins.width, 4000)
    assert pit_ks(pit(pdf, draws, bins)) < 0.03
    assert pit_ks(pit(pdf, np.full(4000, 0.5), bins)) == pytest.approx(0.5, abs=0.01)


def test_photoz_metrics_of_perfect_pdfs():
    bins = RedshiftBins(4, 0.4)
    z = np.array([0.05, 0.15, 0.25, 0.35])
    figures = photoz_metrics(np.eye(4), z, bins)
    assert figures["bias"] == pytest.approx(0.0, abs=1e-12)
    assert figures["sigma_mad"] == pytest.approx(0.0, abs=1e-12)
    assert figures["eta"] == 0.0 and figures["eta_015"] == 0.0 and figures["n"] == 4
    assert figures["crps"] == pytest.approx(2 * 0.05**3 / (3 * 0.1**2))
