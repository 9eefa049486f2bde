"""Pixel noise: the blank-sky σ is the σ implied by psfdepth and psfsize, and bright pixels get Poisson noise."""

import numpy as np
import pytest

from skyssl import surveys
from skyssl.sim import noise
from skyssl.surveys.priors import psfdepth_from_sigma, sigma_from_psfdepth


@pytest.mark.parametrize("name", ["legacy-dr9-south", "legacy-dr9-north", "sdss"])
def test_blank_sky_sigma_matches_psfdepth_through_the_nea(name):
    survey = surveys.get(name)
    rng = np.random.default_rng(1)
    cond = survey.sample_conditions(rng, 1)
    fwhm, sigma = cond["psf_fwhm_arcsec"][0], cond["sigma_pix_nmgy"][0]
    psfdepth = psfdepth_from_sigma(sigma, fwhm, survey.pixel_scale_arcsec)  # what the catalogue records
    n = survey.stamp_size_px
    blank = noise.add_noise(np.zeros((survey.n_bands, n, n)), sigma, rng, noise.effective_gain(survey, sigma))
    implied = sigma_from_psfdepth(psfdepth, fwhm, survey.pixel_scale_arcsec)
    # ≥ 11k pixels per band: the sample std is good to ≲ 0.7 % (1σ).
    np.testing.assert_allclose(blank.std(axis=(1, 2)), implied, rtol=0.025)


def test_poisson_term_adds_source_variance_and_ignores_negative_pixels():
    rng = np.random.default_rng(2)
    sigma, gain = np.array([0.003, 0.01]), np.array([1e4, 2e3])
    level = np.array([2.0, -1.0])[:, None, None] * np.ones((2, 200, 200))
    noisy = noise.add_noise(level, sigma, rng, gain)
    expected_var = [0.003**2 + 2.0 / 1e4, 0.01**2]  # the negative band gets sky noise only
    np.testing.assert_allclose(noisy.var(axis=(1, 2)), expected_var, rtol=0.03)
    np.testing.assert_allclose(noisy.mean(axis=(1, 2)), [2.0, -1.0], atol=1e-3)
    sky_only = noise.add_noise(level, sigma, np.random.default_rng(2))
    np.testing.assert_allclose(sky_only.std(axis=(1, 2)), sigma, rtol=0.03)


def test_same_seed_same_bytes():
    image = np.ones((3, 16, 16))
    a = noise.add_noise(image, np.full(3, 0.01), np.random.default_rng(7), np.full(3, 1e4))
    b = noise.add_noise(image, np.full(3, 0.01), np.random.default_rng(7), np.full(3, 1e4))
    assert a.tobytes() == b.tobytes()


def test_legacy_effective_gain_at_median_sigma_matches_recipe():
    # Recipe §1.3: DES sky gives sky_pix 0.109 / 0.238 / 2.22 nmgy and g_eff ≈ 1.1e4 / 1.2e4 / 1.6e4 e⁻/nmgy.
    sky = noise.sky_nmgy_per_pixel(np.array(noise.SKY_MAG_PER_ARCSEC2["legacy-dr9-south"]), 0.262)
    np.testing.assert_allclose(sky, [0.109, 0.238, 2.22], rtol=0.02)
    gain = noise.effective_gain("legacy-dr9-south", np.array([[0.00309, 0.00438, 0.01174]]))
    np.testing.assert_allclose(gain[0], [1.1e4, 1.2e4, 1.6e4], rtol=0.06)
    assert gain.shape == (1, 3)


def test_sdss_gain_is_fixed_and_consistent_with_the_r_band_sky():
    # 900 e⁻/nmgy and a 20.86 mag/arcsec² sky give σ ≈ 0.028 nmgy in r (recipe §1.3).
    gain = noise.effective_gain("sdss", np.full((4, 5), 0.02))
    assert np.all(gain == gain[0]) and gain[0, 2] == 900.0
    sky_r = noise.sky_nmgy_per_pixel(20.86, 0.396)
    assert np.sqrt(sky_r / gain[0, 2]) == pytest.approx(0.028, rel=0.02)


def test_sdss_gain_ratios_are_the_filter_photon_rates():
    filters = pytest.importorskip("speclite.filters")
    rates = []
    for band in "ugriz":
        f = filters.load_filter(f"sdss2010-{band}")
        rates.append(np.trapezoid(f.response / f.wavelength, f.wavelength))
    np.testing.assert_allclose(noise.SDSS_PHOTON_RATE_REL_R, np.array(rates) / rates[2], atol=0.001)


def test_bad_shapes_raise():
    with pytest.raises(ValueError, match="expected"):
        noise.effective_gain("sdss", np.ones(3))
    with pytest.raises(ValueError, match="noise levels"):
        noise.add_noise(np.zeros((3, 4, 4)), np.ones(2), np.random.default_rng(0))
