"""Rendering catalogue rows into cutouts: shapes, determinism, flux, lens grades, artefacts and noise.

Checks from simulation-recipe.md §10: the noiseless target sums to its catalogue flux (10.1), the sky
noise is the σ_pix that psfdepth and psfsize imply (10.2), and item i renders to identical bytes (10.7).
Rows with a given class or artefact are found in the catalogue, never hard-coded, so the tests follow
the generator when its random streams change.
"""

from __future__ import annotations

import numpy as np
import pytest
from astropy.stats import mad_std, sigma_clipped_stats
from scipy import ndimage

from skyssl import surveys
from skyssl.sim import catalog, fourier, host, render
from skyssl.sim.config import SimConfig
from skyssl.sim.scene import Scene
from skyssl.surveys.priors import sigma_from_psfdepth

N_ROWS = 12
BRIGHT, MEDIUM = 0x2, 0x800
ALLMASK = {0: 0x20, 1: 0x40, 2: 0x80}  # g, r, z


def make_config(seed: int = 11, lens_rate: float = 1e-2, survey: str = "legacy",
                dtype: str = "float32") -> SimConfig:
    return SimConfig(survey=survey, n_objects=10**6, seed=seed, lens_rate=lens_rate, image_dtype=dtype)


@pytest.fixture(scope="module")
def rendered() -> tuple[np.ndarray, dict[str, np.ndarray]]:
    return render.render_rows(make_config(), 0, N_ROWS)


@pytest.fixture(scope="module")
def block() -> dict[str, np.ndarray]:
    return catalog.draw_rows(make_config(), 0, 3 * catalog.BLOCK_ROWS)


def rows_of(cat: dict[str, np.ndarray], mask: np.ndarray, limit: int) -> list[int]:
    return [int(i) for i in np.flatnonzero(mask)[:limit]]


# ------------------------------------------------------------------ shapes and determinism


def test_images_have_the_store_shape_and_dtype(rendered):
    images, columns = rendered
    assert images.shape == (N_ROWS, 3, 152, 152) and images.dtype == np.float32
    assert np.all(np.isfinite(images))
    assert np.all(images.std(axis=(2, 3)) > 0)
    assert set(render.OBSERVED_COLUMNS) | set(render.TRUTH_COLUMNS) == set(columns)
    for name, values in columns.items():
        assert len(values) == N_ROWS, name
    np.testing.assert_array_equal(columns["row"], np.arange(N_ROWS))


def test_other_presets_and_dtypes():
    images, columns = render.render_rows(make_config(survey="sdss"), 0, 2)
    assert images.shape == (2, 5, 107, 107) and np.all(np.isfinite(images))
    assert columns["flux"].shape == (2, 5)
    half, _ = render.render_rows(make_config(dtype="float16"), 0, 2)
    full, _ = render.render_rows(make_config(), 0, 2)
    assert half.dtype == np.float16
    # rounded once from float64, so at most one float16 step from the float32 result rounded again
    np.testing.assert_array_max_ulp(half, full.astype(np.float16), maxulp=1)


def test_rendering_is_deterministic_and_chunk_independent(rendered):
    images, columns = rendered
    again, again_columns = render.render_rows(make_config(), 0, N_ROWS)
    assert again.tobytes() == images.tobytes()
    for name in columns:
        assert np.asarray(again_columns[name]).tobytes() == np.asarray(columns[name]).tobytes(), name
    alone, alone_columns = render.render_rows(make_config(), 5, 6)
    assert alone[0].tobytes() == images[5].tobytes()
    assert alone_columns["object_id"][0] == columns["object_id"][5]
    other, _ = render.render_rows(make_config(seed=12), 5, 6)
    assert other[0].tobytes() != images[5].tobytes()


def test_rows_across_a_block_boundary_render_alone_to_the_same_bytes():
    config = make_config()
    chunk, _ = render.render_rows(config, catalog.BLOCK_ROWS - 2, catalog.BLOCK_ROWS + 1)
    alone, _ = render.render_rows(config, catalog.BLOCK_ROWS, catalog.BLOCK_ROWS + 1)
    assert alone[0].tobytes() == chunk[2].tobytes()


# ------------------------------------------------------------------ flux (recipe §10.1)


@pytest.mark.parametrize("klass", ["elliptical", "spiral"])
def test_noiseless_target_sums_to_its_catalogue_flux(block, klass):
    survey = surveys.get("legacy-dr9-south")
    grid = render.render_grid(survey)
    candidates = (block["morph_class"] == klass) & (block["r_half_arcsec"] < 2.0)
    rows = rows_of(block, candidates, 2)
    assert rows, f"no {klass} in the block"
    for i in rows:
        row = render.row_of(block, i)
        layer = np.zeros((3, grid.grid_px * grid.oversample, grid.grid_px * grid.oversample), np.float32)
        comps, realised = host.build_host(row, survey, grid, np.random.default_rng([11, 1, i]), layer)
        image = fourier.render_noiseless(Scene(comps, layer), row["psfsize"], grid, render.PSF_BETA)
        np.testing.assert_allclose(realised, row["flux_true"], rtol=1e-12)
        np.testing.assert_allclose(image.sum(axis=(1, 2)), row["flux_true"], rtol=1e-3)
        if klass == "spiral":
            assert layer.sum() > 0.1 * row["flux_true"].sum()  # the arms are drawn in the real-space layer


def test_edge_on_disks_report_the_flux_left_after_dust(block):
    survey = surveys.get("legacy-dr9-south")
    grid = render.render_grid(survey)
    i = rows_of(block, (block["morph_class"] == "edge_on") & (block["r_half_arcsec"] < 2.0), 1)[0]
    row = render.row_of(block, i)
    layer = np.zeros((3, grid.grid_px * grid.oversample, grid.grid_px * grid.oversample), np.float32)
    comps, realised = host.build_host(row, survey, grid, np.random.default_rng([11, 1, i]), layer)
    image = fourier.render_noiseless(Scene(comps, layer), row["psfsize"], grid, render.PSF_BETA)
    np.testing.assert_allclose(image.sum(axis=(1, 2)), realised, rtol=1e-3)
    assert np.all(realised <= row["flux_true"] * (1 + 1e-9))
    assert realised[0] / row["flux_true"][0] <= realised[2] / row["flux_true"][2]  # dust dims g most


# ------------------------------------------------------------------ lens truth


def test_lens_rows_get_a_grade_and_others_none():
    images, columns = render.render_rows(make_config(seed=3, lens_rate=0.5), 0, 8)
    lens = columns["is_lens"].astype(bool)
    assert 2 <= lens.sum() <= 6
    assert set(columns["lens_grade"][lens]) <= {"A", "B", "undetectable"}
    assert all(grade == "" for grade in columns["lens_grade"][~lens])
    assert np.all(np.isfinite(columns["lens_sn"][lens])) and np.all(np.isnan(columns["lens_sn"][~lens]))
    assert np.all(columns["lens_mu"][lens] > 1) and np.all(np.isnan(columns["lens_mu"][~lens]))
    assert np.all(columns["lens_n_images"][~lens] == 0)
    assert np.all(np.isfinite(images))


# ------------------------------------------------------------------ artefacts


def test_bright_stars_set_the_dr9_mask_bits(block, monkeypatch):
    """BRIGHT (G < 13) within half, MEDIUM (G < 16) within all of 1630″·1.396^−G (legacypipe)."""
    seen: list[tuple[float, float, float]] = []
    original = render.field.bright_star

    def spy(*args, **kwargs):
        star, mag = original(*args, **kwargs)
        seen.append((mag, float(star.x_arcsec[0]), float(star.y_arcsec[0])))
        return star, mag

    monkeypatch.setattr(render.field, "bright_star", spy)
    config = make_config()
    expected_bits = []
    for i in rows_of(block, block["artefact"] == "bright_star", 12):
        images, columns = render.render_rows(config, i, i + 1)
        mag, x, y = seen[-1]
        separation = np.hypot(x, y)
        radius = 1630.0 * 1.396 ** (-mag)
        expected = (BRIGHT if mag < 13 and separation < 0.5 * radius else 0) | (
            MEDIUM if mag < 16 and separation < radius else 0)
        bits = int(columns["maskbits"][0])
        assert bits & (BRIGHT | MEDIUM) == expected, (i, mag, separation, hex(bits))
        assert bits & ~(BRIGHT | MEDIUM | 0x4 | 0x8 | 0x10) == 0
        expected_bits.append(expected)
        # the star is where its truth says: centre pixel (76, 76), x along columns, y along rows
        col, row = 76 + round(x / 0.262), 76 + round(y / 0.262)
        assert images[0, 1, row, col] > 50 * columns["sigma_pix_nmgy"][0, 1]
    assert len(expected_bits) >= 3 and any(expected_bits)


def test_masked_rows_zero_an_axis_aligned_region_in_one_band(block):
    config = make_config()
    rows = rows_of(block, block["artefact"] == "masked", 3)
    assert rows
    for i in rows:
        images, columns = render.render_rows(config, i, i + 1)
        zero = images[0] == 0.0
        bands = np.flatnonzero(zero.any(axis=(1, 2)))
        assert bands.size == 1, i
        b = int(bands[0])
        region = zero[b]
        full_rows, full_cols = region.all(axis=1), region.all(axis=0)
        by_rows = np.array_equal(region, np.broadcast_to(full_rows[:, None], region.shape))
        by_cols = np.array_equal(region, np.broadcast_to(full_cols[None, :], region.shape))
        assert by_rows or by_cols
        assert region.sum() >= 6 * 152
        centre_masked = bool(region[76, 76])
        assert bool(columns["maskbits"][0] & ALLMASK[b]) == centre_masked
        assert (columns["nobs"][0, b] == 0) == centre_masked
        assert np.all(columns["nobs"][0, np.arange(3) != b] > 0)


# ------------------------------------------------------------------ noise (recipe §10.2)


def blank_sky_sigma(image: np.ndarray) -> tuple[float, float]:
    """Robust σ of the pixels away from sources, and the fraction of the stamp they cover.

    Sources are found on a 5×5 box-smoothed copy at 3σ of the smoothed noise (σ from second
    differences, which smooth light cannot feed) and grown by 6 px; the rest is sigma-clipped and
    measured with the MAD.
    """
    x = image.astype(np.float64)
    rough = mad_std(2 * x[:, 1:-1] - x[:, :-2] - x[:, 2:]) / np.sqrt(6)
    sources = ndimage.binary_dilation(ndimage.uniform_filter(x, 5) > 3 * rough / 5, iterations=6)
    sky = x[~sources]
    return float(sigma_clipped_stats(sky, sigma=3, stdfunc="mad_std")[2]), sky.size / x.size


def test_blank_sky_noise_matches_the_depth(rendered):
    images, columns = rendered
    checked = 0
    for i in np.flatnonzero(columns["artefact"] == ""):
        implied = sigma_from_psfdepth(columns["psfdepth"][i], columns["psfsize"][i], 0.262)
        np.testing.assert_allclose(implied, columns["sigma_pix_nmgy"][i], rtol=1e-6)
        for b in range(3):
            measured, coverage = blank_sky_sigma(images[i, b])
            assert coverage > 0.15
            assert abs(measured / implied[b] - 1) < 0.05, (i, b, measured, implied[b])
            checked += 1
    assert checked >= 24
