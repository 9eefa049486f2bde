import astropy.units as u
import numpy as np
import pytest

from skyssl import surveys
from skyssl.errors import SkysslError
from skyssl.surveys.priors import nea_pix, psfdepth_from_sigma, sigma_from_psfdepth, sigma_pix_from_m5


def test_registry_knows_the_three_surveys_and_aliases():
    assert set(surveys.names()) == {"legacy-dr9-south", "legacy-dr9-north", "sdss"}
    assert surveys.get("legacy").name == "legacy-dr9-south"
    assert surveys.by_bands(("u", "g", "r", "i", "z")).name == "sdss"
    with pytest.raises(SkysslError, match="unknown survey"):
        surveys.get("hsc")
    with pytest.raises(SkysslError, match="unknown band set"):
        surveys.by_bands(("g", "r", "i", "z"))


@pytest.mark.parametrize("name", ["legacy-dr9-south", "legacy-dr9-north", "sdss"])
def test_transmission_matches_astropy_magnitude_arithmetic(name):
    survey = surveys.get(name)
    ebv = np.array([0.0, 0.012, 0.035, 0.1, 0.5])
    expected = np.stack([u.Magnitude(np.asarray(r) * ebv).physical for r in survey.extinction_r], axis=1)
    np.testing.assert_allclose(survey.mw_transmission(ebv), expected, rtol=1e-12)


def test_dr9_coefficients_and_sdss_sf11():
    assert surveys.get("legacy-dr9-south").extinction_r == (3.214, 2.165, 1.211)
    assert surveys.get("legacy-dr9-north").extinction_r == (3.214, 2.165, 1.211)
    assert surveys.get("sdss").extinction_r == (4.239, 3.303, 2.285, 1.698, 1.263)


def test_dr9_south_priors_reproduce_published_medians():
    draws = surveys.get("legacy").sample_conditions(np.random.default_rng(1), 200_000)
    np.testing.assert_allclose(np.median(draws["psf_fwhm_arcsec"], 0), [1.48, 1.33, 1.24], atol=0.01)
    np.testing.assert_allclose(np.median(draws["sigma_pix_nmgy"], 0), [0.00309, 0.00438, 0.01174], rtol=0.02)
    np.testing.assert_allclose(np.percentile(draws["ebv_mag"], [5, 50, 95]), [0.012, 0.035, 0.10], atol=0.004)
    assert draws["ebv_mag"].min() >= 0 and draws["ebv_mag"].max() <= 1


def test_sdss_seeing_quartiles_and_noise():
    draws = surveys.get("sdss").sample_conditions(np.random.default_rng(2), 200_000)
    np.testing.assert_allclose(np.percentile(draws["psf_fwhm_arcsec"][:, 2], [25, 50, 75]),
                               [1.30, 1.43, 1.58], atol=0.02)
    np.testing.assert_allclose(np.median(draws["sigma_pix_nmgy"], 0), [0.039, 0.017, 0.021, 0.046, 0.19],
                               rtol=0.06)


def test_nea_relation_round_trips_and_matches_recipe_depths():
    sigma = np.array([0.00309, 0.00438, 0.01174])
    fwhm = np.array([1.48, 1.33, 1.24])
    depth = psfdepth_from_sigma(sigma, fwhm, 0.262)
    np.testing.assert_allclose(sigma_from_psfdepth(depth, fwhm, 0.262), sigma, rtol=1e-12)
    depth_mag = -2.5 * (np.log10(5 / np.sqrt(depth)) - 9)
    np.testing.assert_allclose(depth_mag, [24.71, 24.44, 23.44], atol=0.03)
    np.testing.assert_allclose(nea_pix(1.43, 0.396), 29.6, atol=0.2)
    np.testing.assert_allclose(sigma_pix_from_m5(23.1, 1.43, 0.396), 0.021, atol=0.001)
