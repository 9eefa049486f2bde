"""The simplified lens-population sampler: distributions, physical consistency, determinism."""

import numpy as np
import pytest

from skyssl.sim.lens import render_lensed_source
from skyssl.sim.lens_population import (
    MAX_CLUMPS,
    draw_z_s,
    sample_lens_population,
    sigma_v_from_abs_mag_r,
    theta_e_sis_arcsec,
)
from skyssl.sim.scene import RenderGrid


def _deflectors(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(0.1, 0.9, n), rng.uniform(-23.5, -21.0, n)


@pytest.fixture(scope="module")
def population():
    z_l, m_r = _deflectors(4000)
    return sample_lens_population(np.random.default_rng(42), z_l, abs_mag_r=m_r)


def test_theta_e_follows_the_target(population):
    assert 1.2 <= np.median(population.theta_e_arcsec) <= 1.6
    assert population.theta_e_arcsec.min() >= 0.9 and population.theta_e_arcsec.max() <= 3.5


def test_redshifts_and_physical_consistency(population):
    p = population
    assert np.all(p.z_s > p.z_l + 0.3) and np.all(p.z_s <= 3.5)
    np.testing.assert_allclose(theta_e_sis_arcsec(p.sigma_v_kms, p.z_l, p.z_s), p.theta_e_arcsec, rtol=1e-10)


def test_shapes_shear_and_source_ranges(population):
    p = population
    assert np.all((p.q_lens >= 0.2) & (p.q_lens <= 1.0)) and np.all((p.src_q >= 0.2) & (p.src_q <= 1.0))
    np.testing.assert_allclose(np.hypot(p.gamma1, p.gamma2), p.gamma_ext)
    assert p.gamma_ext.max() <= 0.08
    assert np.all(np.hypot(p.src_x_arcsec, p.src_y_arcsec) <= 0.9 * p.theta_e_arcsec)
    assert np.all((p.src_mag_r >= 22.5) & (p.src_mag_r <= 25.5))
    assert np.all((p.src_sed_t >= 2.0) & (p.src_sed_t <= 3.0)) and p.src_ebv_int.max() <= 0.2
    assert 0.2 < np.median(p.src_re_arcsec) < 0.36
    clumpy = p.src_n_clumps > 0
    assert 0.2 < clumpy.mean() < 0.4 and p.src_n_clumps.max() <= MAX_CLUMPS
    assert np.all(p.src_clump_flux_frac.sum(axis=1) < 1.0)
    assert np.all(np.isfinite(p.src_clump_sigma_arcsec) == (np.arange(MAX_CLUMPS) < p.src_n_clumps[:, None]))


def test_sampler_is_deterministic():
    z_l, m_r = _deflectors(50)
    a = sample_lens_population(np.random.default_rng(7), z_l, abs_mag_r=m_r).columns()
    b = sample_lens_population(np.random.default_rng(7), z_l, abs_mag_r=m_r).columns()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])


def test_physical_mode_uses_the_light_sigma():
    z_l, _ = _deflectors(500)
    p = sample_lens_population(np.random.default_rng(1), z_l, sigma_v_kms=280.0, theta_e_mode="physical")
    np.testing.assert_array_equal(p.sigma_v_kms, 280.0)
    np.testing.assert_allclose(p.theta_e_arcsec, theta_e_sis_arcsec(280.0, p.z_l, p.z_s), rtol=1e-12)
    assert np.all(p.theta_e_arcsec[p.z_l < 0.5] >= 0.8 - 1e-6)  # reachable there: z_s restricted


def test_inverse_hyde_bernardi_inverts_the_forward_relation():
    sigma = np.array([150.0, 220.0, 300.0])
    v = np.log10(sigma)
    m_r = (-0.37 + np.sqrt(0.37**2 - 4 * 0.006 * (2.97 + v))) / (2 * 0.006)
    np.testing.assert_allclose(sigma_v_from_abs_mag_r(m_r), sigma, rtol=1e-10)


def test_z_s_distribution_matches_its_density():
    z = draw_z_s(np.random.default_rng(3), np.zeros(200_000) + 1e-9)
    grid = np.linspace(0, 3.5, 3501)
    pdf = grid**2 * np.exp(-((grid / 0.8) ** 1.5))
    cdf = np.cumsum(pdf) / pdf.sum()
    assert np.median(z) == pytest.approx(np.interp(0.5, cdf, grid), abs=0.01)


def test_rows_render(population):
    grid = RenderGrid(64, 8, 0.262, 2)
    i = int(np.flatnonzero(population.src_n_clumps > 0)[0])
    image, mu = render_lensed_source(
        grid, population.lens_params(i), population.source_params(i, np.array([0.1, 0.2, 0.3]))
    )
    assert mu > 1.0 and np.isclose(image[1].sum(), 0.2 * mu)
