import dataclasses

import numpy as np
import pytest

from skyssl.sim import morphology as morph
from skyssl.sim.morphology_canvas import disk_matrix
from skyssl.sim.scene import RenderGrid

DR9_GRID = RenderGrid(stamp_px=152, pad_px=20, pixel_scale_arcsec=0.262, oversample=2)
SDSS_GRID = RenderGrid(stamp_px=107, pad_px=16, pixel_scale_arcsec=0.396, oversample=2)
GRZ_FLUX = np.array([3.0, 7.0, 12.0])
UGRIZ_FLUX = np.array([1.0, 3.0, 7.0, 10.0, 12.0])


def _coords(grid):
    c = grid.subpixel_centres_arcsec()
    return c[None, :], c[:, None]


def _sums(layer):
    return layer.sum(axis=(1, 2), dtype=np.float64)


RENDERERS = {
    "spiral": lambda g, f, rng: morph.spiral_disk(g, 0.4, -0.3, 1.2, 0.6, 0.7, f, 0.5 * f, rng),
    "bar": lambda g, f, rng: morph.bar(g, 0.4, -0.3, 1.2, 0.6, 0.7, f, rng),
    "ring": lambda g, f, rng: morph.ring(g, 0.4, -0.3, 1.5, 0.6, 0.7, f, rng),
    "collisional_ring": lambda g, f, rng: morph.ring(g, 0.4, -0.3, 1.5, 0.6, 0.7, f, rng, collisional=True),
    "tails": lambda g, f, rng: morph.tidal_tails(g, 0.4, -0.3, 1.2, 0.7, f, rng),
    "shells": lambda g, f, rng: morph.shells(g, 0.4, -0.3, 1.2, 0.8, 0.7, f, rng),
    "clumps": lambda g, f, rng: morph.clumps(g, 0.4, -0.3, 1.2, 0.6, 0.7, f, rng),
}
EXPECTED_SUM = {"spiral": 1.5}  # disk + arms


@pytest.mark.parametrize("name", sorted(RENDERERS))
@pytest.mark.parametrize(("grid", "flux"), [(DR9_GRID, GRZ_FLUX), (SDSS_GRID, UGRIZ_FLUX)], ids=["grz", "ugriz"])
def test_every_layer_carries_exactly_its_flux(name, grid, flux):
    for seed in range(4):
        layer = RENDERERS[name](grid, flux, np.random.default_rng(seed))
        m = grid.grid_px * grid.oversample
        assert layer.shape == (flux.size, m, m)
        assert np.isfinite(layer).all() and layer.min() >= 0.0
        np.testing.assert_allclose(_sums(layer), EXPECTED_SUM.get(name, 1.0) * flux, rtol=1e-6)


def test_edge_on_layer_sum_is_the_realised_attenuated_flux():
    for seed in range(4):
        layer, realised = morph.edge_on_disk(DR9_GRID, 0.4, -0.3, 1.5, 0.7, GRZ_FLUX, rng=np.random.default_rng(seed))
        np.testing.assert_allclose(_sums(layer), realised, rtol=1e-6)
        assert np.all(realised < GRZ_FLUX) and layer.min() >= 0.0
    params = morph.draw_edge_on_params(np.random.default_rng(0))
    layer, realised = morph.edge_on_disk(SDSS_GRID, 0.0, 0.0, 1.5, 0.2, UGRIZ_FLUX, tau_per_band=np.zeros(5),
                                         params=params)
    np.testing.assert_allclose(realised, UGRIZ_FLUX, rtol=1e-6)
    np.testing.assert_allclose(_sums(layer), UGRIZ_FLUX, rtol=1e-6)


def test_renderers_add_into_out_and_are_deterministic():
    first = morph.bar(DR9_GRID, 0.0, 0.0, 1.0, 0.7, 0.2, GRZ_FLUX, np.random.default_rng(3))
    again = morph.bar(DR9_GRID, 0.0, 0.0, 1.0, 0.7, 0.2, GRZ_FLUX, np.random.default_rng(3))
    assert first.tobytes() == again.tobytes()
    out = morph.ring(DR9_GRID, 0.0, 0.0, 1.0, 0.7, 0.2, GRZ_FLUX, np.random.default_rng(1))
    same = morph.clumps(DR9_GRID, 1.0, 0.0, 1.0, 0.7, 0.2, 2 * GRZ_FLUX, np.random.default_rng(2), out=out)
    assert same is out
    np.testing.assert_allclose(_sums(out), 3 * GRZ_FLUX, rtol=1e-6)
    with pytest.raises(ValueError, match="params or an rng"):
        morph.bar(DR9_GRID, 0.0, 0.0, 1.0, 0.7, 0.2, GRZ_FLUX)


@pytest.mark.parametrize("n_arms", [2, 3, 4])
def test_spiral_arm_pattern_has_m_fold_symmetry(n_arms):
    params = dataclasses.replace(morph.draw_spiral_params(np.random.default_rng(n_arms)), n_arms=n_arms,
                                 clump_r_h=np.zeros(0), clump_arm=np.zeros(0, int),
                                 clump_sigma_arcsec=np.zeros(0), clump_fraction=0.0)
    h = 2.0
    arms = morph.spiral_disk(DR9_GRID, 0.0, 0.0, h, 1.0, 0.0, np.zeros(3), GRZ_FLUX, params=params)[1]
    x, y = _coords(DR9_GRID)
    r = np.hypot(x, y)
    # unwind the logarithmic spiral so each arm is a fixed azimuth, then take azimuthal Fourier power
    unwound = np.arctan2(y, x) - params.winding * np.log(r / (params.r_in_h * h)) / np.tan(params.pitch_rad)
    annulus = (r > 1.0 * h) & (r < 4.0 * h)
    power = np.array([abs(np.sum(arms[annulus] * np.exp(-1j * k * unwound[annulus]))) ** 2 for k in range(1, 9)])
    at_m = power[n_arms - 1]
    others = [power[k - 1] for k in range(1, 9) if k % n_arms]
    assert at_m > 1e4 * max(others)
    assert at_m == power.max()


def test_spiral_arm_fraction_matches_the_recipe_split():
    assert morph.spiral_arm_fraction(0.0) == 0.0
    a = 0.6
    assert morph.spiral_arm_fraction(a) == pytest.approx((1 + a * a / 2 - (1 - a) ** 2) / (1 + a * a / 2))


def test_bar_is_elongated_along_its_angle_with_its_axis_ratio():
    bar = morph.BarParams(r_half_h=0.8, q=0.3, angle_rad=0.6)
    layer = morph.bar(DR9_GRID, 0.0, 0.0, 1.5, 1.0, 0.0, GRZ_FLUX, params=bar)[0]
    x, y = _coords(DR9_GRID)
    w = layer / layer.sum()
    cov = np.array([[np.sum(w * x * x), np.sum(w * x * y)], [np.sum(w * x * y), np.sum(w * y * y)]])
    evals, evecs = np.linalg.eigh(cov)
    assert np.sqrt(evals[0] / evals[1]) == pytest.approx(0.3, abs=0.01)
    major = evecs[:, 1]
    assert np.arctan2(major[1], major[0]) % np.pi == pytest.approx(0.6, abs=0.01)
    spiral = morph.align_arms_to_bar(morph.draw_spiral_params(np.random.default_rng(0)), bar)
    assert spiral.r_in_h == pytest.approx(bar.end_radius_h) and spiral.phase_rad == bar.angle_rad


def test_ring_radial_profile_peaks_at_its_radius():
    params = morph.RingParams(2.0, 0.12, 0.0, 0.0, 0.0, np.zeros(0), np.zeros(0), 0.0)
    r_half, q, pa = 1.5, 0.6, 0.9
    layer = morph.ring(DR9_GRID, 0.0, 0.0, r_half, q, pa, GRZ_FLUX, params=params)[0]
    x, y = _coords(DR9_GRID)
    m = disk_matrix(q, pa)
    r = np.hypot(m[0, 0] * x + m[0, 1] * y, m[1, 0] * x + m[1, 1] * y)  # circularised radius
    edges = np.arange(0.0, 6.0, 0.1)
    light = np.histogram(r, edges, weights=layer)[0] / np.histogram(r, edges)[0]  # mean surface brightness
    peak = 0.5 * (edges[:-1] + edges[1:])[np.argmax(light)]
    assert peak == pytest.approx(2.0 * r_half, abs=0.1)


def test_collisional_ring_is_offset_from_the_nucleus():
    params = morph.draw_ring_params(np.random.default_rng(5), collisional=True)
    assert params.collisional and 1 <= params.knot_angle_rad.size <= 2 and params.offset_frac >= 0.1
    layer = morph.ring(DR9_GRID, 0.0, 0.0, 1.5, 1.0, 0.0, GRZ_FLUX, params=params)[0]
    x, y = _coords(DR9_GRID)
    centroid = np.array([np.sum(layer * x), np.sum(layer * y)]) / layer.sum()
    assert np.hypot(*centroid) > 0.05 * params.radius_re * 1.5


def test_edge_on_disk_is_thinner_by_h_over_z0_and_the_lane_is_chromatic():
    params = morph.EdgeOnParams(h_over_z0=6.0, tau_g=2.0, dust_height_frac=0.4, dust_length_frac=1.5,
                                lane_offset_z0=0.0)
    pa = 0.5
    layer, _ = morph.edge_on_disk(DR9_GRID, 0.0, 0.0, 1.5, pa, GRZ_FLUX, tau_per_band=np.zeros(3), params=params)
    x, y = _coords(DR9_GRID)
    xp, yp = np.cos(pa) * x + np.sin(pa) * y, -np.sin(pa) * x + np.cos(pa) * y
    w = layer[0] / layer[0].sum()
    ratio = np.sqrt(np.sum(w * xp**2) / np.sum(w * yp**2))
    # ⟨x²⟩ = 3h² for (x/h)K₁(x/h), ⟨y²⟩ = π²z₀²/12 for sech²: rms ratio (6/π)·h/z₀
    assert ratio == pytest.approx(6 / np.pi * 6.0, rel=0.03)
    _, realised = morph.edge_on_disk(DR9_GRID, 0.0, 0.0, 1.5, pa, GRZ_FLUX, params=params)
    kept = realised / GRZ_FLUX
    assert kept[0] < kept[1] < kept[2] < 1.0


def test_lane_optical_depth_follows_the_recipe_ratios():
    np.testing.assert_allclose(morph.lane_tau_per_band(1.0, ("g", "r", "z")), [1.0, 0.7, 0.45], atol=0.01)
    tau = morph.lane_tau_per_band(2.0, ("u", "g", "r", "i", "z"))
    assert np.all(np.diff(tau) < 0) and tau[1] == 2.0


def test_shells_sit_at_two_to_six_r_e_with_a_percent_of_the_host_flux():
    params = morph.draw_shell_params(np.random.default_rng(11))
    assert 0.01 <= params.flux_fraction <= 0.03 and 2 <= params.radius_re.size <= 5
    host_flux = 40.0 * GRZ_FLUX
    r_half, q, pa = 1.0, 0.64, 0.3
    layer = morph.shells(DR9_GRID, 0.0, 0.0, r_half, q, pa, params.flux_fraction * host_flux, params=params)
    np.testing.assert_allclose(_sums(layer) / host_flux, params.flux_fraction, rtol=1e-6)
    x, y = _coords(DR9_GRID)
    m = disk_matrix(np.sqrt(q), pa)
    r = np.hypot(m[0, 0] * x + m[0, 1] * y, m[1, 0] * x + m[1, 1] * y)
    inside = np.sum(layer[1] * ((r > 1.6 * r_half) & (r < 6.8 * r_half))) / layer[1].sum()
    assert inside > 0.99


def test_tail_flux_gives_the_requested_ridge_surface_brightness():
    one = np.ones(1)
    params = morph.TailParams(
        start_angle_rad=np.zeros(1), start_radius_re=one, extent_re=6 * one, sweep_rad=one, winding=1,
        width_re=0.5 * one, width_growth=one, fade=1e9 * one, knot_amplitude=0 * one, knot_frequency=one,
        knot_phase_rad=0 * one, mu_r_mag_arcsec2=25.0)
    r_half = 1.5
    flux_r = morph.tail_flux_nmgy(params, r_half)
    layer = morph.tidal_tails(DR9_GRID, 0.0, 0.0, r_half, 0.0, np.array([flux_r]), params=params)[0]
    area = (DR9_GRID.pixel_scale_arcsec / DR9_GRID.oversample) ** 2
    ridge_mag = 22.5 - 2.5 * np.log10(layer.max() / area)
    assert ridge_mag == pytest.approx(25.0, abs=0.05)
    drawn = morph.draw_tail_params(np.random.default_rng(2))
    assert 24.0 <= drawn.mu_r_mag_arcsec2 <= 26.0 and drawn.start_angle_rad.size in (1, 2)


def test_clumps_are_compact_and_on_the_disk():
    params = morph.draw_clump_params(np.random.default_rng(4), n_clumps=6)
    assert params.r_h.size == 6 and np.all((params.sigma_arcsec >= 0.2) & (params.sigma_arcsec <= 0.5))
    np.testing.assert_allclose(params.weight.sum(), 1.0)
    layer = morph.clumps(DR9_GRID, 0.0, 0.0, 1.0, 0.5, 0.4, GRZ_FLUX, params=params)[2]
    x, y = _coords(DR9_GRID)
    assert np.sum(layer * (np.hypot(x, y) < 4.0 / np.sqrt(0.5) + 2.5)) / layer.sum() > 0.999
