"""Torch samplers of the survey priors and the catalogue → σ_true conversions, with their fallbacks."""

import numpy as np
import pytest
import torch
from scipy import stats

from skyssl import surveys
from skyssl.augment import AugmentConfig
from skyssl.augment import conditions as cond
from skyssl.augment.draws import draw_views
from skyssl.surveys.priors import sigma_from_psfdepth

LEGACY = surveys.get("legacy-dr9-south")
SDSS = surveys.get("sdss")


def truncated_lognorm_cdf(prior, x):
    dist = stats.lognorm(prior.shape, prior.loc, prior.scale)
    return (dist.cdf(x) - dist.cdf(prior.low)) / (dist.cdf(prior.high) - dist.cdf(prior.low))


@pytest.mark.parametrize("prior", [LEGACY.conditions.psf_sigma_px[0], LEGACY.conditions.noise_sigma_nmgy[2],
                                   LEGACY.ebv_prior])
def test_truncated_lognormal_sampler_matches_scipy(prior):
    draws = cond.sample_truncated_lognormal(prior, 20_000, torch.Generator().manual_seed(1)).double().numpy()
    assert draws.min() >= prior.low and draws.max() <= prior.high
    assert stats.kstest(draws, lambda x: truncated_lognorm_cdf(prior, x)).pvalue > 1e-3


def test_legacy_prior_medians_match_the_numpy_survey_sampler():
    psf, noise = cond.sample_prior_conditions(LEGACY, 50_000, torch.Generator().manual_seed(4))
    reference = LEGACY.sample_conditions(np.random.default_rng(4), 50_000)
    np.testing.assert_allclose(np.median(noise.numpy(), 0), np.median(reference["sigma_pix_nmgy"], 0), rtol=0.02)
    fwhm = psf.numpy() * 2.3548 * LEGACY.pixel_scale_arcsec
    np.testing.assert_allclose(np.median(fwhm, 0), np.median(reference["psf_fwhm_arcsec"], 0), rtol=0.02)


def test_sdss_simultaneous_priors_and_uniform_bounds():
    generator = torch.Generator().manual_seed(2)
    psf, noise = cond.sample_prior_conditions(SDSS, 5000, generator)
    assert psf.shape == noise.shape == (5000, 5) and (psf > 0).all() and (noise > 0).all()
    reference = SDSS.sample_conditions(np.random.default_rng(2), 5000)
    np.testing.assert_allclose(np.median(noise.numpy(), 0), np.median(reference["sigma_pix_nmgy"], 0), rtol=0.05)
    psf_low, psf_high, noise_low, noise_high = cond.uniform_bounds(SDSS)
    psf_u, noise_u = cond.sample_uniform_conditions(SDSS, 5000, generator)
    assert (psf_u >= psf_low).all() and (psf_u <= psf_high).all()
    assert (noise_u >= noise_low).all() and (noise_u <= noise_high).all()
    assert (noise_low < cond.median_noise_sigma_nmgy(SDSS)).all()


def test_legacy_uniform_bounds_are_the_authors_ranges():
    _, psf_high, noise_low, noise_high = cond.uniform_bounds(LEGACY)
    torch.testing.assert_close(psf_high, torch.tensor([5.0, 4.5, 4.25]))
    torch.testing.assert_close(noise_low, torch.full((3,), 0.001094))
    torch.testing.assert_close(noise_high, torch.tensor([0.013, 0.018, 0.061]))


def test_catalogue_conversions_match_the_survey_priors_module():
    psfsize = np.array([[1.48, 1.33, 1.24], [0.9, 2.1, 1.0]])
    psfdepth = np.array([[1200.0, 600.0, 90.0], [3000.0, 100.0, 40.0]])
    expected = sigma_from_psfdepth(psfdepth, psfsize, 0.262)
    got = cond.noise_sigma_from_psfdepth(torch.tensor(psfdepth), torch.tensor(psfsize), 0.262)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(cond.psf_sigma_px_from_fwhm(torch.tensor(psfsize), 0.262).numpy(),
                               psfsize / 2.3548200450309493 / 0.262, rtol=1e-12)


def test_catalogue_values_are_used_and_bad_ones_fall_back_to_prior_draws():
    config = AugmentConfig()
    ebv = torch.tensor([0.05, float("nan"), 0.0, -1.0])
    psfsize = torch.tensor([[1.3, 1.3, 1.3], [float("nan"), 1.2, 1.2], [1.1, 0.0, 1.1], [1.4, 1.4, float("inf")]])
    psfdepth = torch.tensor([[1000.0, 500.0, 100.0], [1000.0, 0.0, 100.0], [1000.0, 500.0, -5.0], [1e3, 1e3, 1e3]])
    draws = draw_views(config, LEGACY, 4, torch.Generator().manual_seed(0), ebv, psfsize, psfdepth)
    priors = draw_views(config, LEGACY, 4, torch.Generator().manual_seed(0))
    assert draws.ebv_old_mag[0] == pytest.approx(0.05) and draws.ebv_old_mag[2] == 0.0
    assert draws.ebv_old_mag[1] == priors.ebv_old_mag[1] and draws.ebv_old_mag[3] == priors.ebv_old_mag[3]
    psf_expected = cond.psf_sigma_px_from_fwhm(psfsize, 0.262)
    noise_expected = cond.noise_sigma_from_psfdepth(psfdepth, psfsize, 0.262)
    valid_psf = torch.isfinite(psf_expected) & (psf_expected > 0)
    valid_noise = torch.isfinite(noise_expected) & (noise_expected > 0)
    assert valid_psf.sum() == 9 and valid_noise.sum() == 7
    torch.testing.assert_close(draws.psf_true_px[valid_psf], psf_expected[valid_psf])
    torch.testing.assert_close(draws.psf_true_px[~valid_psf], priors.psf_true_px[~valid_psf])
    torch.testing.assert_close(draws.noise_true_nmgy[valid_noise], noise_expected[valid_noise])
    torch.testing.assert_close(draws.noise_true_nmgy[~valid_noise], priors.noise_true_nmgy[~valid_noise])
    # the random stream does not depend on the catalogue: every other parameter is identical
    assert torch.equal(draws.angle_rad, priors.angle_rad) and torch.equal(draws.psf_final_px, priors.psf_final_px)
