"""Analytic physics of the views: PSF widths add in quadrature, noise variances add, flux is kept,
extinction is magnitude arithmetic, nothing is sharpened, and the paper-faithful bugs are reproduced."""

import math

import astropy.units as u
import numpy as np
import pytest
import torch

from skyssl import surveys
from skyssl.augment import (
    AugmentConfig,
    AugmentPipeline,
    add_noise_differential,
    affine_views,
    blur_differential,
    redden,
)
from skyssl.augment.draws import draw_views
from tests.augment.helpers import fixed_draws, gaussian_source, moments

LEGACY = surveys.get("legacy-dr9-south")


def nmgy_pipeline(spec: str, **overrides) -> AugmentPipeline:
    return AugmentPipeline(AugmentConfig.from_spec(spec, input_stretch="none", **overrides), LEGACY)


@pytest.mark.parametrize("sigma_true, sigma_final", [(1.5, 3.0), (2.2, 2.6), (1.0, 4.5)])
def test_blurred_gaussian_width_adds_in_quadrature(sigma_true, sigma_final):
    source = gaussian_source(81, sigma_true, n_bands=1)
    out = blur_differential(source, torch.tensor([[sigma_true]]), torch.tensor([[sigma_final]]))
    _, _, var_x, var_y = moments(out[0, 0])
    sigma_aug = math.sqrt(sigma_final**2 - sigma_true**2)
    expected = sigma_true**2 + sigma_aug**2
    assert var_x == pytest.approx(expected, rel=1e-3) and var_y == pytest.approx(expected, rel=1e-3)
    assert float(out.sum()) == pytest.approx(1.0, abs=1e-9)


def bilinear_variance_px2(scale: float) -> float:
    """What bilinear interpolation adds to a profile's variance: ⟨f(1 − f)⟩ = 1/6 input px², i.e. s²/6 output px²."""
    return scale**2 / 6.0


def test_pipeline_blur_after_size_scale_reaches_sigma_final():
    """s·σ_true after magnifying, then blurred to exactly σ_final in output pixels (isotropic mode);
    the blur's target is met up to the variance the bilinear resample itself adds."""
    source = gaussian_source(152, 2.0, n_bands=3)
    draws = fixed_draws(1, 3, scale=1.1, psf_true_px=2.0, psf_final_px=[3.0, 4.0, 2.1])
    out = nmgy_pipeline("ssgbcc").apply(source, draws, torch.Generator().manual_seed(0))
    resampled = [moments(out[0, 2])[k] - 2.2**2 for k in (2, 3)]  # 2.1 < 1.1·2.0: no blur, only the resample
    for delta in resampled:
        assert delta == pytest.approx(bilinear_variance_px2(1.1), rel=0.25)
    for band, target in enumerate([3.0, 4.0]):
        _, _, var_x, var_y = moments(out[0, band])
        assert var_x - resampled[0] == pytest.approx(target**2, rel=1e-3)
        assert var_y - resampled[1] == pytest.approx(target**2, rel=1e-3)


def test_never_sharpens():
    images = torch.randn(2, 3, 40, 40, dtype=torch.float64)
    out = blur_differential(images, torch.full((2, 3), 3.0), torch.full((2, 3), 2.0))
    assert out is images
    draws = fixed_draws(2, 3, psf_true_px=3.0, psf_final_px=2.0, noise_true_nmgy=0.05, noise_final_nmgy=0.01)
    stamps = torch.randn(2, 3, 152, 152, dtype=torch.float64)
    view = nmgy_pipeline("gbccgn").apply(stamps, draws, torch.Generator().manual_seed(0))
    assert torch.equal(view, stamps[..., 28:124, 28:124])


def test_added_noise_reaches_sigma_final():
    generator = torch.Generator().manual_seed(3)
    sigma_true = torch.tensor([[0.003, 0.005, 0.012]]).expand(4, 3)
    sigma_final = torch.tensor([[0.009, 0.005, 0.03]]).expand(4, 3)
    images = torch.randn(4, 3, 96, 96, generator=generator) * sigma_true[:, :, None, None]
    out = add_noise_differential(images, sigma_true, sigma_final, generator)
    measured = out.std(dim=(0, 2, 3))
    torch.testing.assert_close(measured, sigma_final[0], rtol=0.03, atol=0)
    assert torch.equal(out[:, 1], images[:, 1])  # σ_final = σ_true: nothing added


def test_pipeline_noise_accounts_for_noise_lost_to_blur_and_reddening():
    """White noise σ_true blurred to σ_aug ≈ 2.6 px keeps ~1/(2√π σ) of its σ; the view still ends at σ_final."""
    generator = torch.Generator().manual_seed(5)
    stamps = torch.randn(6, 3, 152, 152, generator=generator) * 0.01
    draws = fixed_draws(6, 3, psf_true_px=1.5, psf_final_px=3.0, noise_true_nmgy=0.01, noise_final_nmgy=0.02,
                        ebv_new_mag=0.2)
    view = nmgy_pipeline("grgbccgn").apply(stamps, draws, generator)
    torch.testing.assert_close(view.std(dim=(0, 2, 3)), torch.full((3,), 0.02), rtol=0.03, atol=0)
    legacy = nmgy_pipeline("grgbccgn", track_noise_true=False).apply(stamps, draws, generator)
    assert (legacy.std(dim=(0, 2, 3)) < 0.9 * 0.02).all()  # the released code under-noises blurred views


def test_rotation_and_jitter_keep_total_flux():
    source = gaussian_source(152, 4.0, batch=16, dtype=torch.float32)
    generator = torch.Generator().manual_seed(11)
    draws = draw_views(AugmentConfig.from_spec("rrjc"), LEGACY, 16, generator)
    assert draws.angle_rad.std() > 1.0 and draws.shift_px.abs().max() == 7
    view = nmgy_pipeline("rrjc").apply(source, draws, generator)
    torch.testing.assert_close(view.sum(dim=(2, 3)), torch.ones(16, 3), rtol=0.01, atol=0)


def test_size_scale_keeps_surface_brightness():
    source = gaussian_source(152, 4.0, dtype=torch.float32)
    view = nmgy_pipeline("sscc").apply(source, fixed_draws(1, 3, scale=1.1), torch.Generator())
    assert float(view[0, 0].sum()) == pytest.approx(1.1**2, rel=0.01)


def test_extinction_is_magnitude_arithmetic():
    e_old = np.array([0.0, 0.03, 0.1, 0.5])
    e_new = np.array([0.2, 0.01, 0.1, 1.0])
    r = np.array(LEGACY.extinction_r)
    images = torch.ones(4, 3, 2, 2, dtype=torch.float64)
    out = redden(images, torch.tensor(e_old), torch.tensor(e_new), torch.tensor(r))
    expected = (u.Magnitude(r[None, :] * e_new[:, None]) - u.Magnitude(r[None, :] * e_old[:, None])).physical
    np.testing.assert_allclose(out[:, :, 0, 0].numpy(), expected, rtol=1e-12)


def test_identity_spec_is_the_centre_crop():
    stamps = torch.randn(3, 3, 152, 152)
    views = nmgy_pipeline("cc")(stamps, None, None, None, torch.Generator().manual_seed(0))
    assert torch.equal(views, stamps[..., 28:124, 28:124])


def test_one_axis_legacy_stretches_rows_only_and_offsets_the_crop():
    """Bugs 5 and 6: rows scaled by s, columns not; the crop centred round(152 s)//2 − 76 px off in x."""
    source = gaussian_source(152, 3.0, n_bands=1, dtype=torch.float64)
    one = torch.ones(1)
    false = torch.zeros(1, dtype=torch.bool)
    for scale in (1.1, 0.9):
        view = affine_views(source, false, false, 0 * one, scale * one, torch.zeros(1, 2), out_px=96,
                            mode="one_axis_legacy", padding="zeros")
        mx, my, var_x, var_y = moments(view[0, 0])
        offset = round(152 * scale) // 2 - 76
        assert mx == pytest.approx(48 - offset, abs=1e-6) and my == pytest.approx(48, abs=1e-6)
        assert var_y == pytest.approx((3.0 * scale) ** 2 + bilinear_variance_px2(scale), rel=3e-3)
        assert var_x == pytest.approx(9.0, rel=1e-6)  # whole-pixel samples along x: untouched


def test_paper_faithful_draws_uniform_ebv_new_and_random_conditions():
    config = AugmentConfig.paper_faithful()
    draws = draw_views(config, LEGACY, 4000, torch.Generator().manual_seed(2), ebv=torch.full((4000,), 0.05),
                       psfsize=torch.full((4000, 3), 1.3), psfdepth=torch.full((4000, 3), 1000.0))
    e_new = draws.ebv_new_mag
    assert float(e_new.min()) >= 0.0 and float(e_new.max()) <= 1.0
    assert float(e_new.mean()) == pytest.approx(0.5, abs=0.02)
    assert float((e_new < 0.25).float().mean()) == pytest.approx(0.25, abs=0.02)
    assert draws.ebv_old_mag.std() > 0 and draws.psf_true_px.std() > 0  # ignores the catalogue (bugs 3, 4)
    low, high = torch.tensor([1.3233, 1.2667, 1.2126]), torch.tensor([5.0, 4.5, 4.25])
    assert (draws.psf_final_px >= low).all() and (draws.psf_final_px <= high).all()
    torch.testing.assert_close(draws.psf_final_px.mean(0), (low + high) / 2, rtol=0.02, atol=0)
