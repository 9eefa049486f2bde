"""Display RGB against hand-computed values of the viewer mapping, and Lupton via astropy."""

import numpy as np
import pytest

from skyssl import surveys
from skyssl.errors import SkysslError
from skyssl.viz.rgb import (
    DR2_DISPLAY,
    DR2_OFFSET,
    SDSS_DISPLAY,
    SDSS_OFFSET,
    dr2_rgb,
    lupton_band_order,
    lupton_rgb,
    plane_weights,
    sdss_rgb,
    survey_rgb,
    to_uint8,
)


def viewer_pixel(values, planes_scales, m, Q=20.0):
    """The viewer mapping for one pixel, written out band by band as the legacy viewer loops."""
    scaled = [v * s + m for v, (_, s) in zip(values, planes_scales, strict=True)]
    intensity = sum(max(0.0, x) for x in scaled) / len(scaled)
    if intensity == 0.0:
        intensity = 1e-6
    f = np.arcsinh(Q * intensity) / np.sqrt(Q)
    rgb = [0.0, 0.0, 0.0]
    for x, (plane, _) in zip(scaled, planes_scales, strict=True):
        rgb[plane] = x * f / intensity  # assignment: the last band of a plane wins, as in the viewer
    return [min(1.0, max(0.0, c)) for c in rgb]


DR2_PAIRS = [(2, 6.0), (1, 3.4), (0, 2.2)]
SDSS_PAIRS = [(2, 1.5), (2, 2.5), (1, 1.5), (0, 1.0), (0, 0.4)]


def test_dr2_one_pixel_by_hand():
    # g, r, z = 0.01, 0.02, 0.05 nmgy: x = (0.09, 0.098, 0.14), I = 0.10933…, f(I)/I = 0.80497…
    image = np.array([0.01, 0.02, 0.05], dtype=np.float32).reshape(3, 1, 1)
    rgb = dr2_rgb(image)
    intensity = (0.09 + 0.098 + 0.14) / 3
    ratio = np.arcsinh(20 * intensity) / np.sqrt(20) / intensity
    assert rgb.shape == (1, 1, 3) and rgb.dtype == np.float32
    np.testing.assert_allclose(rgb[0, 0], [0.14 * ratio, 0.098 * ratio, 0.09 * ratio], rtol=1e-5)


def test_dr2_batch_matches_per_pixel_reference():
    rng = np.random.default_rng(3)
    images = rng.normal(0.0, 0.3, size=(4, 3, 5, 6)).astype(np.float32)
    images[0, :, 0, 0] = -DR2_OFFSET / np.array([6.0, 3.4, 2.2])  # every x_b exactly 0 → I = 0
    rgb = dr2_rgb(images)
    assert rgb.shape == (4, 5, 6, 3)
    for n, y, x in [(0, 0, 0), (1, 2, 3), (3, 4, 5), (2, 0, 5)]:
        np.testing.assert_allclose(rgb[n, y, x], viewer_pixel(images[n, :, y, x], DR2_PAIRS, 0.03), atol=2e-6)


def test_zero_intensity_gives_black_not_nan():
    # Strongly negative sky: all x_b < 0, so I = 0 → 1e-6 and every plane clips to 0.
    images = np.full((2, 3, 4, 4), -1.0, dtype=np.float32)
    rgb = dr2_rgb(images)
    assert np.isfinite(rgb).all()
    assert (rgb == 0).all()


def test_bright_pixels_clip_to_one():
    images = np.full((1, 3, 2, 2), 50.0, dtype=np.float32)
    rgb = dr2_rgb(images)
    assert rgb.max() == 1.0 and rgb.min() == 1.0


def test_output_always_in_unit_interval():
    rng = np.random.default_rng(0)
    images = rng.standard_cauchy(size=(3, 5, 8, 8)).astype(np.float32)
    rgb = sdss_rgb(images, SDSS_DISPLAY, SDSS_OFFSET)
    assert rgb.min() >= 0.0 and rgb.max() <= 1.0


def test_grz_planes_g_blue_r_green_z_red():
    # Only one band bright at a time: its colour appears on its own plane.
    for band, plane in [(0, 2), (1, 1), (2, 0)]:
        image = np.zeros((3, 1, 1), dtype=np.float32)
        image[band] = 0.5
        rgb = dr2_rgb(image)[0, 0]
        assert np.argmax(rgb) == plane


def test_sdss_last_band_of_a_plane_wins_as_in_viewer():
    image = np.array([0.3, 0.01, 0.02, 0.4, 0.05], dtype=np.float32).reshape(5, 1, 1)
    rgb = sdss_rgb(image, SDSS_DISPLAY, SDSS_OFFSET)[0, 0]
    np.testing.assert_allclose(rgb, viewer_pixel(image[:, 0, 0], SDSS_PAIRS, 0.02), atol=2e-6)
    # u and i enter I but not the colour: changing u (not g) keeps blue's numerator the same.
    scaled = np.array([0.3 * 1.5, 0.01 * 2.5, 0.02 * 1.5, 0.4 * 1.0, 0.05 * 0.4]) + 0.02
    assert rgb[2] / rgb[0] == pytest.approx(scaled[1] / scaled[4], rel=1e-5)


def test_plane_weights_last_and_mean():
    planes = [p.plane for p in SDSS_DISPLAY]
    last = plane_weights(planes, "last")
    mean = plane_weights(planes, "mean")
    np.testing.assert_array_equal(last[:, 2], [0, 1, 0, 0, 0])
    np.testing.assert_array_equal(last[:, 0], [0, 0, 0, 0, 1])
    np.testing.assert_allclose(mean[:, 2], [0.5, 0.5, 0, 0, 0])
    np.testing.assert_allclose(mean[:, 0], [0, 0, 0, 0.5, 0.5])
    assert plane_weights([0, 0], "last")[:, 1:].sum() == 0  # planes with no band stay black
    with pytest.raises(SkysslError):
        plane_weights(planes, "sum")


def test_mean_combine_averages_shared_planes():
    image = np.array([0.3, 0.01, 0.02, 0.4, 0.05], dtype=np.float32).reshape(5, 1, 1)
    rgb = sdss_rgb(image, SDSS_DISPLAY, SDSS_OFFSET, combine="mean")[0, 0]
    scaled = np.array([0.3 * 1.5, 0.01 * 2.5, 0.02 * 1.5, 0.4 * 1.0, 0.05 * 0.4]) + 0.02
    assert rgb[2] / rgb[1] == pytest.approx((scaled[0] + scaled[1]) / 2 / scaled[2], rel=1e-5)


def test_survey_presets_match_viewer():
    assert surveys.get("legacy-dr9-south").display == DR2_DISPLAY
    assert surveys.get("legacy-dr9-north").display_offset == DR2_OFFSET
    assert surveys.get("sdss").display == SDSS_DISPLAY
    rng = np.random.default_rng(1)
    grz = rng.normal(0, 0.1, size=(2, 3, 4, 4)).astype(np.float32)
    np.testing.assert_array_equal(survey_rgb(grz, surveys.get("legacy")), dr2_rgb(grz))
    ugriz = rng.normal(0, 0.1, size=(2, 5, 4, 4)).astype(np.float32)
    np.testing.assert_array_equal(survey_rgb(ugriz, surveys.get("sdss")), sdss_rgb(ugriz, SDSS_DISPLAY, 0.02))


def test_plain_tuples_accepted_and_mismatch_rejected():
    image = np.ones((3, 2, 2), dtype=np.float32) * 0.01
    np.testing.assert_array_equal(sdss_rgb(image, DR2_PAIRS, 0.03), dr2_rgb(image))
    with pytest.raises(SkysslError, match="channels"):
        sdss_rgb(np.ones((1, 4, 2, 2)), DR2_PAIRS, 0.03)
    with pytest.raises(SkysslError):
        sdss_rgb(np.ones((2, 2)), DR2_PAIRS, 0.03)


def test_lupton_band_order():
    assert lupton_band_order(("g", "r", "z")) == ("z", "r", "g")
    assert lupton_band_order(("u", "g", "r", "i", "z")) == ("i", "r", "g")
    with pytest.raises(SkysslError):
        lupton_band_order(("y",))


@pytest.mark.parametrize("name", ["legacy-dr9-south", "sdss"])
def test_lupton_shape_range_and_per_image_independence(name):
    survey = surveys.get(name)
    rng = np.random.default_rng(2)
    images = rng.lognormal(-3, 1.5, size=(3, survey.n_bands, 9, 7)).astype(np.float32)
    rgb = lupton_rgb(images, survey, stretch=0.5, Q=8)
    assert rgb.shape == (3, 9, 7, 3) and rgb.dtype == np.float32
    assert rgb.min() >= 0.0 and rgb.max() <= 1.0 and rgb.max() > 0.0
    np.testing.assert_allclose(lupton_rgb(images[1], survey, stretch=0.5, Q=8), rgb[1], atol=1e-6)
    scaled = lupton_rgb(images, survey, stretch=0.5, Q=8, display_scales=False)
    assert scaled.shape == rgb.shape and not np.allclose(scaled, rgb)


def test_lupton_red_plane_is_z_for_grz():
    image = np.zeros((3, 1, 1), dtype=np.float32)
    image[2] = 1.0  # z only
    rgb = lupton_rgb(image, surveys.get("legacy"))[0, 0]
    assert rgb[0] > 0 and rgb[1] == 0 and rgb[2] == 0


def test_to_uint8_rounds_and_clips():
    values = np.array([-0.5, 0.0, 0.5, 1.0, 2.0, 1 / 255 * 0.49, 1 / 255 * 0.51], dtype=np.float32)
    np.testing.assert_array_equal(to_uint8(values), [0, 0, 128, 255, 255, 0, 1])
    assert to_uint8(values).dtype == np.uint8
