import numpy as np
import pytest

from skyssl.sim import artefacts
from skyssl.sim.scene import RenderGrid

GRID = RenderGrid(stamp_px=152, pad_px=20, pixel_scale_arcsec=0.262, oversample=2)
AREA = (GRID.pixel_scale_arcsec / GRID.oversample) ** 2
STAR_FLUX = np.array([2000.0, 4000.0, 6000.0])  # r ≈ 13.5
FWHM = np.array([1.5, 1.35, 1.25])


def _coords():
    c = GRID.subpixel_centres_arcsec()
    return c[None, :], c[:, None]


def _spike_angle_deg(spikes, x0, y0, vertical):
    """Slope of the light-weighted centroid of one spike between 3″ and 7″ from the star."""
    x, y = _coords()
    along, across = (y - y0, x - x0) if vertical else (x - x0, y - y0)
    along, across = np.broadcast_arrays(along, across)
    near = (np.abs(along) > 3.0) & (np.abs(along) < 7.0) & (np.abs(across) < 1.0)
    w = spikes * near
    slope = np.sum(w * along * across) / np.sum(w * along * along)
    return np.rad2deg(np.arctan(slope))


@pytest.mark.parametrize("seed", range(5))
def test_spikes_lie_within_two_degrees_of_the_axes(seed):
    x0, y0 = 2.0, -1.5
    layer = artefacts.bright_star_layers(GRID, x0, y0, STAR_FLUX, FWHM, np.random.default_rng(seed))
    spikes = (layer - artefacts.star_wings(GRID, x0, y0, STAR_FLUX, FWHM))[1]
    expected = np.random.default_rng(seed).uniform(-2.0, 2.0)  # the tilt the function draws
    horizontal = _spike_angle_deg(spikes, x0, y0, vertical=False)
    vertical = -_spike_angle_deg(spikes, x0, y0, vertical=True)  # a +tilt turns +y towards −x
    for measured in (horizontal, vertical):
        assert abs(measured) <= 2.0 + 0.05
        assert measured == pytest.approx(expected, abs=0.1)


def test_spike_length_grows_as_sqrt_flux_within_three_to_twenty_arcsec():
    r_mag = np.array([17.0, 16.0, 14.0, 12.0, 8.0])
    length = artefacts.spike_length_arcsec(10 ** (-0.4 * (r_mag - 22.5)))
    assert length[0] == 3.0 and length[-1] == 20.0
    assert length[1] == pytest.approx(3.0, rel=0.01) and np.all(np.diff(length) >= 0)
    assert length[3] / length[2] == pytest.approx(10 ** (0.2 * 2), rel=1e-6)


def test_wings_follow_the_dr9_laws():
    layer = artefacts.star_wings(GRID, 0.0, 0.0, STAR_FLUX, FWHM)
    x, y = _coords()
    r = np.hypot(x, y)
    ring = (r > 14.9) & (r < 15.1)
    sb = layer[:, ring].mean(axis=1) / AREA / STAR_FLUX  # nmgy/arcsec² of a 1 nmgy star
    rr = r[ring].mean()
    assert sb[0] == pytest.approx(0.00045 / rr**2, rel=0.02)
    assert sb[1] == pytest.approx(0.00033 / rr**2, rel=0.02)
    alpha, beta, weight = 17.65, 1.7, 0.0145
    assert sb[2] == pytest.approx(weight * (beta - 1) / (np.pi * alpha**2) * (1 + rr**2 / alpha**2) ** -beta,
                                  rel=0.02)
    amplitude, moffat = artefacts.wing_weights(("u", "g", "r", "i", "z"))
    assert amplitude[0] > amplitude[1] > amplitude[2] and np.all(np.diff(moffat) >= 0)
    assert moffat[2] == 0.0 and 0.0 < moffat[3] < 1.0 and moffat[4] == 1.0


def test_saturation_clips_and_bleeds_along_columns():
    image = np.zeros((3, 64, 64), np.float32)
    image[1, 30:33, 40] = 5e4  # excess 3 × 4e4 = 1.2e5 → 6 pixels each side at level 1e4
    clipped = artefacts.saturate(image)
    assert clipped.max() == 1e4 and clipped.dtype == image.dtype
    bled, mask = artefacts.saturate(image, 1e4, bleed=True, return_mask=True)
    np.testing.assert_array_equal(np.flatnonzero(mask[1, :, 40]), np.arange(24, 39))
    assert mask.sum() == 15 and np.all(bled[1, 24:39, 40] == 1e4) and bled.max() == 1e4
    assert not mask[0].any() and not mask[2].any()


def test_satellite_trail_is_a_line_in_the_chosen_band():
    trail = artefacts.satellite_trail(GRID, np.random.default_rng(0), 3, np.array([False, True, False]), 0.1, 0.5)
    assert not trail[0].any() and not trail[2].any()
    assert trail[1].max() == pytest.approx(0.1 / GRID.oversample**2, rel=0.01)
    stamp = GRID.crop(trail[1].reshape(GRID.grid_px, 2, GRID.grid_px, 2).sum(axis=(1, 3)))
    assert stamp.max() > 0.05  # it crosses the stamp
    for seed in range(10):
        drawn = artefacts.satellite_trail(GRID, np.random.default_rng(seed), 3)
        lit = drawn.max(axis=(1, 2)) > 0
        assert lit.sum() in (1, 3)
        assert 0.01 / 4 * 0.99 <= drawn.max() <= 0.2 / 4 * 1.01


def test_masked_region_is_exactly_zero_in_one_band_only():
    rng = np.random.default_rng(0)
    image = rng.normal(1.0, 0.1, (5, 107, 107)).astype(np.float32)
    for seed in range(20):
        masked, mask = artefacts.apply_masked_region(image, np.random.default_rng(seed))
        bands = np.flatnonzero(mask.any(axis=(1, 2)))
        assert bands.size == 1 and mask.sum() > 0
        assert np.all(masked[mask] == 0.0)
        np.testing.assert_array_equal(masked[~mask], image[~mask])
        assert masked.dtype == image.dtype


def test_noise_step_raises_sigma_by_sqrt_n1_over_n2():
    rng = np.random.default_rng(1)
    image = rng.normal(0.0, 0.004, (3, 512, 512))
    sigma = np.full(3, 0.004)
    stepped = artefacts.apply_noise_step(image, sigma, np.random.default_rng(2), band=2, n_exposures=(4, 1))
    changed = stepped[2] != image[2]
    assert 0.1 < changed.mean() < 0.9
    np.testing.assert_array_equal(stepped[:2], image[:2])
    ratio = stepped[2][changed].var() / stepped[2][~changed].var()
    assert ratio == pytest.approx(4.0, rel=0.1)
    drawn = artefacts.apply_noise_step(image, sigma, np.random.default_rng(3))
    assert ((drawn != image).any(axis=(1, 2))).sum() == 1


def test_maskbits_use_the_dr9_bit_values():
    bits = artefacts.DR9_MASKBITS
    assert bits["BRIGHT"] == 0x2 and bits["MEDIUM"] == 0x800 and bits["SATUR_Z"] == 0x10
    assert bits["ALLMASK_G"] == 0x20
    assert artefacts.mask_radius_arcsec(13.0) == pytest.approx(21.3, abs=0.1)
    grz = ("g", "r", "z")
    mags = np.array([12.0, 12.0, 15.0, 15.0, np.nan])
    seps = np.array([3.0, 20.0, 5.0, 12.0, 1.0])  # radii: 29.7″ at 12 mag, 10.9″ at 15 mag
    saturated = np.zeros((5, 3), bool)
    saturated[0, 2] = True
    no_data = np.zeros((5, 3), bool)
    no_data[4, 0] = True
    got = artefacts.maskbits_for(grz, mags, seps, saturated, no_data)
    np.testing.assert_array_equal(got, [0x2 | 0x800 | 0x10, 0x800, 0x800, 0, 0x20])
    assert artefacts.maskbits_for(("u", "g", "r", "i", "z"), saturated=np.array([1, 1, 0, 1, 0], bool)) == 0x4
