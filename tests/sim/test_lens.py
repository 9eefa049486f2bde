"""SIE + shear ray tracing and lensed-source rendering, checked against lenstronomy where it applies."""

import numpy as np
import pytest
from scipy import ndimage

from skyssl.sim.lens import (
    Clumps,
    LensParams,
    SourceParams,
    gaussian_surface_brightness,
    ray_trace,
    render_lensed_source,
    sersic_surface_brightness,
    sie_shear_deflection,
)
from skyssl.sim.scene import RenderGrid

GRID = RenderGrid(stamp_px=64, pad_px=8, pixel_scale_arcsec=0.262, oversample=2)


def _lenstronomy_alpha(x, y, theta_e, q, phi, g1, g2, cx, cy):
    lenstronomy = pytest.importorskip("lenstronomy")
    del lenstronomy
    from lenstronomy.LensModel.lens_model import LensModel
    from lenstronomy.Util import param_util

    e1, e2 = param_util.phi_q2_ellipticity(phi, q)
    kwargs = [
        {"theta_E": theta_e, "e1": e1, "e2": e2, "center_x": cx, "center_y": cy},
        {"gamma1": g1, "gamma2": g2, "ra_0": cx, "dec_0": cy},
    ]
    return LensModel(["SIE", "SHEAR"]).alpha(x, y, kwargs)


@pytest.mark.parametrize("q", [0.5, 0.7, 0.9, 0.999])
@pytest.mark.parametrize(
    ("phi", "cx", "cy", "g1", "g2"),
    [(0.0, 0.0, 0.0, 0.0, 0.0), (0.7, 0.3, -0.2, 0.05, -0.03), (2.4, -0.5, 0.4, -0.02, 0.07)],
)
def test_deflection_matches_lenstronomy(q, phi, cx, cy, g1, g2):
    x, y = np.meshgrid(np.linspace(-4.0, 4.0, 81), np.linspace(-3.5, 4.5, 81))
    ours = sie_shear_deflection(x, y, 1.4, q, phi, g1, g2, cx, cy)
    ref = _lenstronomy_alpha(x, y, 1.4, q, phi, g1, g2, cx, cy)
    away = np.hypot(x - cx, y - cy) > 1e-3  # lenstronomy softens the singular centre
    for a, b in zip(ours, ref, strict=True):
        assert np.max(np.abs(a - b)[away]) < 1e-6


@pytest.mark.parametrize("q", [1.0, 1.0 - 1e-9, 1.0 - 1e-6, 0.9999])
def test_round_limit_is_sis(q):
    angle = np.linspace(0.0, 2.0 * np.pi, 73)
    for radius in (0.3, 1.7, 5.0):
        ax, ay = sie_shear_deflection(radius * np.cos(angle), radius * np.sin(angle), 1.3, q, 0.4, 0.0, 0.0)
        np.testing.assert_allclose(np.hypot(ax, ay), 1.3, atol=1.3 * (1.0 - q) + 1e-12)


def test_series_and_closed_form_agree_across_the_switch():
    x, y = np.meshgrid(np.linspace(-3, 3, 31), np.linspace(-3, 3, 31))
    q_switch = np.sqrt(1.0 - 1e-2**2)
    below = sie_shear_deflection(x, y, 1.0, q_switch - 1e-12, 0.3, 0.0, 0.0)
    above = sie_shear_deflection(x, y, 1.0, q_switch + 1e-12, 0.3, 0.0, 0.0)
    for a, b in zip(below, above, strict=True):
        assert np.max(np.abs(a - b)) < 1e-11


def test_ray_trace_is_lens_equation():
    lens = LensParams(1.2, 0.6, 0.5, 0.04, -0.01, 0.2, -0.1)
    x, y = np.array([0.3, -1.1, 2.0]), np.array([1.0, 0.4, -0.7])
    bx, by = ray_trace(x, y, lens)
    ax, ay = sie_shear_deflection(x, y, 1.2, 0.6, 0.5, 0.04, -0.01, 0.2, -0.1)
    np.testing.assert_allclose(bx, x - ax)
    np.testing.assert_allclose(by, y - ay)


def test_sersic_and_gaussian_are_flux_normalised():
    h = 0.01
    c = (np.arange(1200) - 599.5) * h
    x, y = np.meshgrid(c, c)
    sb = sersic_surface_brightness(x, y, 0.5, 0.6, 0.3, 1.0, 0.1, -0.05, flux=2.0)
    assert sb.sum() * h * h == pytest.approx(2.0, rel=1e-4)
    r = np.sqrt(0.6 * (np.cos(0.3) * (x - 0.1) + np.sin(0.3) * (y + 0.05)) ** 2
                + (-np.sin(0.3) * (x - 0.1) + np.cos(0.3) * (y + 0.05)) ** 2 / 0.6)  # fmt: skip
    assert sb[r < 0.5].sum() * h * h == pytest.approx(1.0, rel=2e-3)  # half of the light within r_half
    assert gaussian_surface_brightness(x, y, 0.2, flux=3.0).sum() * h * h == pytest.approx(3.0, rel=1e-6)


def test_no_lens_conserves_flux():
    src = SourceParams(0.4, -0.3, 0.05, 0.5, 0.8, 1.0, np.array([1.0, 2.0, 4.0]))
    image, mu = render_lensed_source(GRID, LensParams(0.0, 1.0, 0.0), src)
    assert image.shape == (3, GRID.grid_px * 2, GRID.grid_px * 2)
    assert mu == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(image.sum(axis=(1, 2)), [1.0, 2.0, 4.0], rtol=1e-12)


def test_image_follows_the_scene_axes():
    # x runs along columns and y along rows, from the centre pixel (G//2, G//2) after binning.
    src = SourceParams(1.048, -0.524, 0.1, 1.0, 0.0, 1.0, np.array([1.0]))  # (+4, −2) pixels
    image, _ = render_lensed_source(GRID, LensParams(0.0, 1.0, 0.0), src)
    pixels = image[0].reshape(GRID.grid_px, 2, GRID.grid_px, 2).sum(axis=(1, 3))
    row, col = np.unravel_index(np.argmax(pixels), pixels.shape)
    assert (row - GRID.grid_px // 2, col - GRID.grid_px // 2) == (-2, 4)


def test_compact_source_inside_caustic_is_multiply_imaged_and_magnified():
    lens = LensParams(1.3, 0.7, 0.4, 0.02, 0.01)
    src = SourceParams(0.3, 0.1, 0.05, 0.8, 0.0, 1.0, np.array([1.0]))
    image, mu = render_lensed_source(GRID, lens, src)
    pixels = image[0].reshape(GRID.grid_px, 2, GRID.grid_px, 2).sum(axis=(1, 3))
    _, n_images = ndimage.label(pixels > 0.05 * pixels.max(), structure=np.ones((3, 3)))
    assert n_images >= 2
    assert mu > 1.0


def test_point_source_inside_tangential_caustic_has_four_magnified_images():
    lens = LensParams(1.3, 0.7, 0.4)
    c = np.arange(-2.5, 2.5, 0.004)
    x, y = np.meshgrid(c, c)
    bx, by = ray_trace(x, y, lens)
    labels, n_images = ndimage.label(np.hypot(bx - 0.02, by - 0.01) < 0.01)
    assert n_images == 4  # an SIE quad: the source sits inside the astroid caustic
    eps = 1e-5
    mu_total = 0.0
    for k in range(1, n_images + 1):
        i = np.argmin(np.where(labels == k, np.hypot(bx - 0.02, by - 0.01), np.inf))
        tx, ty = x.flat[i], y.flat[i]
        (bxp, byp), (bxm, bym) = ray_trace(tx + eps, ty, lens), ray_trace(tx - eps, ty, lens)
        (bxq, byq), (bxn, byn) = ray_trace(tx, ty + eps, lens), ray_trace(tx, ty - eps, lens)
        det = ((bxp - bxm) * (byq - byn) - (bxq - bxn) * (byp - bym)) / (4 * eps * eps)
        mu_total += 1.0 / abs(det)
    assert mu_total > 1.0


def test_lensing_conserves_surface_brightness():
    # A source far larger than the stamp is locally uniform: lensing must not change its brightness.
    src = SourceParams(0.0, 0.0, 300.0, 1.0, 0.0, 0.5, np.array([1.0]))
    lensed, _ = render_lensed_source(GRID, LensParams(1.5, 0.6, 0.3, 0.05, 0.02), src)
    unlensed, _ = render_lensed_source(GRID, LensParams(0.0, 1.0, 0.0), src)
    np.testing.assert_allclose(lensed, unlensed, rtol=2e-3)


def _lenstronomy_mu(lens: LensParams, src: SourceParams, num_pix: int, supersampling: int) -> float:
    pytest.importorskip("lenstronomy")
    from lenstronomy.Data.imaging_data import ImageData
    from lenstronomy.Data.psf import PSF
    from lenstronomy.ImSim.image_model import ImageModel
    from lenstronomy.LensModel.lens_model import LensModel
    from lenstronomy.LightModel.light_model import LightModel
    from lenstronomy.Util import param_util, simulation_util

    data = ImageData(**simulation_util.data_configure_simple(num_pix, 0.262, 1.0, 1.0))
    numerics = {"supersampling_factor": supersampling}
    e1, e2 = param_util.phi_q2_ellipticity(lens.phi_rad, lens.q)
    kw_lens = [
        {"theta_E": lens.theta_e_arcsec, "e1": e1, "e2": e2, "center_x": 0.0, "center_y": 0.0},
        {"gamma1": lens.gamma1, "gamma2": lens.gamma2, "ra_0": 0.0, "dec_0": 0.0},
    ]
    se1, se2 = param_util.phi_q2_ellipticity(src.pa_rad, src.q)
    kw_src = [{"amp": 1.0, "R_sersic": src.r_half_arcsec, "n_sersic": src.sersic_n, "e1": se1, "e2": se2,
               "center_x": src.x_arcsec, "center_y": src.y_arcsec}]  # fmt: skip
    light = LightModel(["SERSIC_ELLIPSE"])
    lensed = ImageModel(data, PSF("NONE"), LensModel(["SIE", "SHEAR"]), light, kwargs_numerics=numerics)
    plain = ImageModel(data, PSF("NONE"), LensModel([]), light, kwargs_numerics=numerics)
    return float(lensed.image(kw_lens, kw_src).sum() / plain.image([], kw_src).sum())


@pytest.mark.parametrize(
    ("r_half", "supersampling"),
    [(0.28, 8), (0.06, 24)],  # the population's median size, and one below the 0.131″ sub-pixel
)
def test_magnification_matches_lenstronomy(r_half, supersampling):
    lens = LensParams(1.3, 0.7, 0.4, 0.03, -0.02)
    src = SourceParams(0.25, -0.15, r_half, 0.6, 1.1, 1.0, np.array([1.0]))
    _, mu = render_lensed_source(GRID, lens, src)
    assert mu == pytest.approx(_lenstronomy_mu(lens, src, 40, supersampling), rel=0.02)


def test_clumps_add_their_flux_and_are_lensed():
    clumps = Clumps(np.array([0.15, -0.1]), np.array([0.0, 0.1]), np.array([0.03, 0.02]), np.array([0.2, 0.1]))
    src = SourceParams(0.1, 0.0, 0.25, 0.7, 0.0, 1.0, np.array([1.0, 1.0]), clumps)
    _, mu_plain_lens = render_lensed_source(GRID, LensParams(0.0, 1.0, 0.0), src)
    image, mu = render_lensed_source(GRID, LensParams(1.2, 0.8, 0.0), src)
    assert mu_plain_lens == pytest.approx(1.0, abs=1e-12)
    assert mu > 2.0
    np.testing.assert_allclose(image.sum(axis=(1, 2)), mu, rtol=1e-12)


def test_invalid_parameters_are_rejected():
    with pytest.raises(ValueError):
        LensParams(1.0, 1.2, 0.0)
    with pytest.raises(ValueError):
        sie_shear_deflection(0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0)
    with pytest.raises(ValueError):
        Clumps(np.array([0.0]), np.array([0.0]), np.array([0.1]), np.array([1.0]))
