"""The Fourier renderer against GalSim, exact fluxes, PSF widths and the shared centre convention."""

import numpy as np
import pytest
from scipy.interpolate import CubicSpline
from scipy.optimize import brentq

from skyssl.sim import fourier
from skyssl.sim.scene import GAUSSIAN, POINT, SERSIC, Components, RenderGrid, Scene

DR9_GRID = RenderGrid(stamp_px=64, pad_px=16, pixel_scale_arcsec=0.262)
SDSS_GRID = RenderGrid(stamp_px=48, pad_px=16, pixel_scale_arcsec=0.396)


def components(*rows, n_bands=1, flux=None):
    """Components from rows (kind, n, r_half″, q, pa, x″, y″); unit flux in every band unless given."""
    cols = list(zip(*rows, strict=True))
    m = len(rows)
    flux = np.ones((m, n_bands)) if flux is None else np.asarray(flux, dtype=float).reshape(m, -1)
    return Components(np.array(cols[0], np.int8), *(np.array(c, dtype=float) for c in cols[1:]), flux)


def galsim_reference(row, fwhm_arcsec, grid, psf_kind="moffat", beta=3.0):
    """GalSim's drawImage ('auto': exact pixel convolution) of one unit-flux component, placed so that
    offset 0 lands on pixel N//2 — GalSim centres on the true centre (N−1)/2 of an even image."""
    galsim = pytest.importorskip("galsim")
    kind, n, r_half, q, pa, x, y = row
    if kind == POINT:
        gal = galsim.DeltaFunction()
    elif kind == GAUSSIAN:
        gal = galsim.Gaussian(half_light_radius=r_half)
    else:
        gal = galsim.Sersic(n, half_light_radius=r_half, trunc=8 * r_half, flux_untruncated=False)
    if kind != POINT:
        gal = gal.shear(q=q, beta=pa * galsim.radians)
    psf = galsim.Moffat(beta, fwhm=fwhm_arcsec) if psf_kind == "moffat" else galsim.Gaussian(fwhm=fwhm_arcsec)
    n_px, scale = grid.stamp_px, grid.pixel_scale_arcsec
    shift = n_px // 2 - (n_px - 1) / 2
    image = galsim.Convolve(gal, psf).drawImage(nx=n_px, ny=n_px, scale=scale, method="auto",
                                                offset=(shift + x / scale, shift + y / scale))
    return image.array


CASES = [  # (kind, n, r_half″, q, pa rad, x″, y″), PSF FWHM″, grid, PSF kind, β
    ((SERSIC, 4.0, 1.5, 0.7, 0.5, 0.3, -0.2), 1.3, DR9_GRID, "moffat", 3.0),
    ((SERSIC, 1.0, 0.8, 0.4, 1.2, -1.0, 0.5), 1.2, DR9_GRID, "moffat", 3.0),
    ((SERSIC, 2.7, 0.5, 0.9, -0.3, 0.1, 0.13), 1.1, DR9_GRID, "moffat", 2.5),
    ((SERSIC, 5.6, 0.3, 0.6, 2.0, 2.0, -1.3), 1.5, DR9_GRID, "moffat", 4.765),
    ((SERSIC, 0.8, 2.0, 0.3, 0.7, 0.0, 0.0), 1.3, DR9_GRID, "gaussian", 3.0),
    ((SERSIC, 3.3, 1.0, 0.25, -1.1, -0.7, 0.9), 1.43, SDSS_GRID, "moffat", 3.0),
    ((SERSIC, 0.5, 1.0, 0.5, 0.2, 0.0, 0.0), 1.3, DR9_GRID, "moffat", 3.5),
    ((GAUSSIAN, 0.0, 0.4, 0.8, 0.3, 1.1, 0.7), 1.0, DR9_GRID, "moffat", 3.0),
    ((POINT, 0.0, 0.0, 1.0, 0.0, -0.37, 0.81), 1.6, SDSS_GRID, "moffat", 3.0),
]


@pytest.mark.parametrize(("row", "fwhm", "grid", "psf_kind", "beta"), CASES)
def test_matches_galsim_draw_image(row, fwhm, grid, psf_kind, beta):
    ours = fourier.render_noiseless(Scene(components(row)), np.array([fwhm]), grid, beta, psf_kind)[0]
    ref = galsim_reference(row, fwhm, grid, psf_kind, beta)
    assert np.abs(ours - ref).max() / ref.max() < 1e-3  # measured 0.3–2.3e-5


def test_flux_is_catalogue_flux_per_band():
    flux = np.array([[3.0, 7.0, 11.0]])
    comp = components((SERSIC, 4.0, 1.5, 0.7, 0.5, 0.0, 0.0), flux=flux)
    grid = RenderGrid(stamp_px=152, pad_px=20, pixel_scale_arcsec=0.262)
    image = fourier.render_noiseless(Scene(comp), np.array([1.5, 1.3, 1.2]), grid)
    # Only the Moffat wings beyond the 40″ stamp (~1e-5) are missing.
    np.testing.assert_allclose(image.sum(axis=(1, 2)), flux[0], rtol=1e-4)
    gauss_psf = fourier.render_noiseless(Scene(comp), np.array([1.5, 1.3, 1.2]), grid, psf_kind="gaussian")
    np.testing.assert_allclose(gauss_psf.sum(axis=(1, 2)), flux[0], rtol=1e-5)


def measured_fwhm_px(image):
    """FWHM from a cubic spline through the central row and column of a star on pixel (N//2, N//2)."""
    c = image.shape[-1] // 2
    prof = 0.5 * (image[c, c:] + image[c:, c])
    r = np.arange(prof.size)
    spline = CubicSpline(np.concatenate([-r[:0:-1], r]), np.concatenate([prof[:0:-1], prof]))
    j = int(np.argmax(prof < prof[0] / 2))
    return 2 * brentq(lambda x: spline(x) - prof[0] / 2, j - 1, j)


@pytest.mark.parametrize(
    ("grid", "fwhm", "psf_kind", "beta"),
    [(DR9_GRID, [1.0, 1.33, 1.8, 2.4], "moffat", 3.0), (DR9_GRID, [1.0, 1.33, 1.8, 2.4], "gaussian", 3.0),
     (SDSS_GRID, [1.3, 1.43, 2.0, 2.6], "moffat", 2.5)],
)
def test_star_fwhm_matches_psf_fwhm(grid, fwhm, psf_kind, beta):
    fwhm = np.array(fwhm)
    stars = fourier.psf_image(fwhm, grid, beta, psf_kind)
    measured = np.array([measured_fwhm_px(s) for s in stars]) * grid.pixel_scale_arcsec
    # The pixel response broadens the measured width, by 0.2–4.5 % at these sizes (≥ 3.3 px).
    np.testing.assert_allclose(measured, fwhm, rtol=0.05)
    assert np.all(measured >= fwhm)


def test_centre_convention_and_whole_pixel_shifts():
    grid = RenderGrid(stamp_px=64, pad_px=16, pixel_scale_arcsec=0.262)
    row = (SERSIC, 2.0, 0.6, 0.6, 0.4, 0.0, 0.0)
    centred = fourier.render_noiseless(Scene(components(row)), np.array([1.2]), grid)[0]
    assert np.unravel_index(np.argmax(centred), centred.shape) == (32, 32)
    np.testing.assert_allclose(centred[1:, 1:][::-1, ::-1], centred[1:, 1:], atol=1e-6 * centred.max())  # about 32
    moved = components((SERSIC, 2.0, 0.6, 0.6, 0.4, 3 * 0.262, -2 * 0.262))
    shifted = fourier.render_noiseless(Scene(moved), np.array([1.2]), grid)[0]
    np.testing.assert_allclose(shifted[10:-10, 10:-10], np.roll(centred, (-2, 3), axis=(0, 1))[10:-10, 10:-10],
                               atol=1e-6 * centred.max())


def test_each_band_uses_its_own_psf_and_flux():
    fwhm = np.array([1.0, 1.4, 2.0])
    comp = components((POINT, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0), flux=[[1.0, 2.0, 4.0]])
    image = fourier.render_noiseless(Scene(comp), fwhm, DR9_GRID)
    np.testing.assert_allclose(image / np.array([1.0, 2.0, 4.0])[:, None, None], fourier.psf_image(fwhm, DR9_GRID),
                               atol=1e-7)
    assert image[0].max() > image[1].max() / 2 > image[2].max() / 4


def test_realspace_layer_is_binned_and_psf_convolved_like_an_analytic_gaussian():
    grid = RenderGrid(stamp_px=64, pad_px=16, pixel_scale_arcsec=0.262, oversample=2)
    sigma = 0.8  # arcsec, ≈ 3 px: well sampled, so sub-pixel sampling ≈ pixel integration
    x = grid.subpixel_centres_arcsec()
    blob = np.exp(-(x[None, :] ** 2 + x[:, None] ** 2) / (2 * sigma**2))
    layer = np.stack([blob / blob.sum() * f for f in (1.0, 3.0)])
    fwhm = np.array([1.2, 1.5])
    real = fourier.render_noiseless(Scene(Components.empty(2), realspace_nmgy=layer), fwhm, grid, psf_kind="gaussian")
    analytic = components((GAUSSIAN, 0.0, sigma * np.sqrt(2 * np.log(2)), 1.0, 0.0, 0.0, 0.0), flux=[[1.0, 3.0]])
    ref = fourier.render_noiseless(Scene(analytic), fwhm, grid, psf_kind="gaussian")
    np.testing.assert_allclose(real.sum(axis=(1, 2)), [1.0, 3.0], rtol=1e-5)
    assert np.abs(real - ref).max() / ref.max() < 3e-3
    assert np.unravel_index(np.argmax(real[0]), real[0].shape) == (32, 32)


def test_empty_scene_and_bad_inputs():
    empty = fourier.render_noiseless(Scene(Components.empty(3)), np.ones(3), DR9_GRID)
    assert empty.shape == (3, 64, 64) and not empty.any()
    one = Scene(components((SERSIC, 2.0, 0.5, 1.0, 0.0, 0.0, 0.0)))
    with pytest.raises(ValueError, match="PSF FWHMs"):
        fourier.render_noiseless(one, np.ones(2), DR9_GRID)
    with pytest.raises(ValueError, match="not tabulated"):
        fourier.render_noiseless(one, np.ones(1), DR9_GRID, psf_beta=2.0)
    with pytest.raises(ValueError, match="unknown PSF kind"):
        fourier.render_noiseless(one, np.ones(1), DR9_GRID, psf_kind="airy")
    with pytest.raises(ValueError, match="Sersic index"):
        fourier.render_noiseless(Scene(components((SERSIC, 7.0, 0.5, 1.0, 0.0, 0.0, 0.0))), np.ones(1), DR9_GRID)
    with pytest.raises(ValueError, match="0 < q"):
        fourier.render_noiseless(Scene(components((SERSIC, 2.0, 0.5, 0.0, 0.0, 0.0, 0.0))), np.ones(1), DR9_GRID)
    with pytest.raises(ValueError, match="unknown component kinds"):
        fourier.render_noiseless(Scene(components((7, 2.0, 0.5, 1.0, 0.0, 0.0, 0.0))), np.ones(1), DR9_GRID)
    with pytest.raises(ValueError, match="real-space layer"):
        fourier.render_noiseless(Scene(Components.empty(1), realspace_nmgy=np.zeros((1, 10, 10))), np.ones(1),
                                 DR9_GRID)


def test_tables_are_exact_at_the_origin_and_match_closed_forms():
    table = fourier.sersic_table()
    assert np.all(table.g[:, 0] == 1.0)
    kappa = np.logspace(-3, 1, 200)
    exact_exp = (1 + (2 * np.pi * kappa / 1.6783469900166612) ** 2) ** -1.5
    rows = fourier.sersic_rows(np.array([1.0]))
    np.testing.assert_allclose(table.lookup(rows, (kappa**2).astype(np.float32)[None]), exact_exp[None], atol=5e-5)


def test_crowded_scene_renders_as_the_sum_of_its_parts():
    # 40 components span three chunks and every profile kind; rendering is linear in the components.
    rng = np.random.default_rng(3)
    m = 40
    comp = Components(rng.choice([SERSIC, SERSIC, GAUSSIAN, POINT], m).astype(np.int8),
                      rng.choice([0.5, 1.0, 2.2, 4.0], m), rng.uniform(0.2, 1.5, m), rng.uniform(0.3, 1.0, m),
                      rng.uniform(0, np.pi, m), rng.uniform(-4, 4, m), rng.uniform(-4, 4, m), rng.uniform(0, 2, (m, 2)))
    fwhm = np.array([1.2, 1.4])
    whole = fourier.render_noiseless(Scene(comp), fwhm, DR9_GRID)
    parts = sum(fourier.render_noiseless(Scene(Components(*(getattr(comp, f)[i:i + 1] for f in (
        "kind", "sersic_n", "r_half_arcsec", "q", "pa_rad", "x_arcsec", "y_arcsec", "flux_nmgy")))), fwhm, DR9_GRID)
        for i in range(m))
    np.testing.assert_allclose(whole, parts, atol=1e-6 * whole.max())


@pytest.mark.parametrize("n", [0.7, 2.9, 5.4])
def test_sersic_table_between_its_rows_matches_galsim_kvalue(n):
    galsim = pytest.importorskip("galsim")
    tight = galsim.GSParams(kvalue_accuracy=1e-6, xvalue_accuracy=1e-6)
    trunc = 8.0 if n >= 0.75 else 0.0  # GalSim cannot solve the truncated radius below n ≈ 0.75 (< 1e-8 lost)
    profile = galsim.Sersic(n, half_light_radius=1.0, trunc=trunc, flux_untruncated=False, gsparams=tight)
    kappa = np.logspace(-3, np.log10(20.0), 120)
    ref = np.array([profile.kValue(2 * np.pi * k, 0.0).real for k in kappa])
    ours = fourier.sersic_table().lookup(fourier.sersic_rows(np.array([n])), (kappa**2).astype(np.float32)[None])[0]
    np.testing.assert_allclose(ours, ref, atol=1e-4)  # measured ≤ 5.5e-5
