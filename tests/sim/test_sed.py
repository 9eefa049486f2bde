"""The SED magnitude grid against the recipe's tables (§2.2) and against a direct recomputation."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from skyssl.errors import SkysslError
from skyssl.sim import sed
from skyssl.sim.cosmology import distance_modulus

# Recipe §2.2, rounded to 0.01 mag there; the tolerance allows for that rounding and nothing more.
TOL_MAG = 0.02

DECAM_COLOURS = np.array([  # z, then (g−r, r−z) for E, Sbc, Scd, Im
    [0.0, 0.79, 0.64, 0.51, 0.65, 0.38, 0.34, 0.20, 0.43],
    [0.1, 0.97, 0.67, 0.59, 0.63, 0.47, 0.38, 0.23, 0.41],
    [0.2, 1.29, 0.75, 0.76, 0.61, 0.65, 0.39, 0.41, 0.31],
    [0.3, 1.62, 0.87, 0.98, 0.61, 0.84, 0.42, 0.55, 0.27],
    [0.4, 1.87, 1.00, 1.23, 0.63, 1.02, 0.47, 0.70, 0.24],
    [0.5, 1.83, 1.23, 1.39, 0.72, 1.09, 0.58, 0.74, 0.34],
    [0.6, 1.77, 1.55, 1.41, 0.88, 1.03, 0.72, 0.70, 0.38],
    [0.7, 1.84, 1.80, 1.36, 1.05, 0.94, 0.88, 0.60, 0.54],
    [0.8, 1.95, 2.07, 1.19, 1.27, 0.81, 1.08, 0.47, 0.73],
    [0.9, 2.25, 2.14, 1.03, 1.48, 0.69, 1.21, 0.34, 0.83],
    [1.0, 2.38, 2.25, 0.87, 1.62, 0.58, 1.28, 0.21, 0.89],
])
SDSS_COLOURS = np.array([  # z, then (u−g, g−r, r−i, i−z) for E and Sbc
    [0.0, 1.74, 0.80, 0.36, 0.31, 1.08, 0.50, 0.34, 0.32],
    [0.1, 1.73, 1.02, 0.43, 0.29, 1.34, 0.60, 0.33, 0.31],
    [0.2, 1.75, 1.38, 0.50, 0.32, 1.39, 0.80, 0.32, 0.31],
    [0.3, 1.98, 1.69, 0.57, 0.36, 1.23, 1.04, 0.35, 0.28],
    [0.4, 2.35, 1.81, 0.68, 0.44, 1.00, 1.27, 0.39, 0.28],
    [0.5, 2.44, 1.70, 1.01, 0.46, 0.81, 1.36, 0.53, 0.30],
    [0.6, 2.08, 1.68, 1.27, 0.51, 0.65, 1.35, 0.69, 0.31],
])
K_CORRECTIONS = np.array([  # z, then K_r for E, Sbc, Scd, Im, then K_z for the same
    [0.1, 0.11, 0.06, 0.01, 0.00, 0.08, 0.08, -0.02, 0.02],
    [0.2, 0.25, 0.10, 0.01, -0.08, 0.13, 0.14, -0.04, 0.04],
    [0.3, 0.39, 0.16, 0.04, -0.12, 0.16, 0.20, -0.04, 0.05],
    [0.4, 0.59, 0.24, 0.08, -0.14, 0.23, 0.25, -0.05, 0.05],
    [0.5, 0.89, 0.36, 0.20, -0.05, 0.30, 0.29, -0.05, 0.05],
    [0.6, 1.29, 0.56, 0.35, 0.00, 0.37, 0.32, -0.03, 0.05],
    [0.8, 2.02, 1.03, 0.71, 0.20, 0.58, 0.40, -0.03, -0.10],
    [1.0, 2.43, 1.47, 0.98, 0.38, 0.82, 0.49, 0.03, -0.07],
])


@pytest.mark.parametrize("t", [0, 1, 2, 3])
def test_decam_colours_match_recipe_table(t):
    z = DECAM_COLOURS[:, 0]
    off = sed.magnitude_offsets(z, t, 0.0, "decam")
    np.testing.assert_allclose(off[:, 0] - off[:, 1], DECAM_COLOURS[:, 1 + 2 * t], atol=TOL_MAG)
    np.testing.assert_allclose(off[:, 1] - off[:, 2], DECAM_COLOURS[:, 2 + 2 * t], atol=TOL_MAG)


@pytest.mark.parametrize("t", [0, 1])
def test_sdss_colours_match_recipe_table(t):
    z = SDSS_COLOURS[:, 0]
    colours = -np.diff(sed.magnitude_offsets(z, t, 0.0, "sdss"), axis=1)
    np.testing.assert_allclose(colours, SDSS_COLOURS[:, 1 + 4 * t: 5 + 4 * t], atol=TOL_MAG)


@pytest.mark.parametrize("t", [0, 1, 2, 3])
def test_k_corrections_match_recipe_table(t):
    z = K_CORRECTIONS[:, 0]
    k = sed.magnitude_offsets(z, t, 0.0, "decam") - sed.magnitude_offsets(np.zeros_like(z), t, 0.0, "decam")
    np.testing.assert_allclose(k[:, 1], K_CORRECTIONS[:, 1 + t], atol=TOL_MAG)
    np.testing.assert_allclose(k[:, 2], K_CORRECTIONS[:, 5 + t], atol=TOL_MAG)


def test_north_minus_south_colours_at_z03_match_recipe():
    # Recipe: BASS/MzLS − DECam at z = 0.3, E: +0.076 / +0.009 / −0.009 (g, r, z); Sbc: +0.061 / +0.006 / −0.009.
    # Offsets are relative to each system's own r band, so compare colours, which do not depend on it.
    north = sed.magnitude_offsets(0.3, [0, 1], 0.0, "bass-mzls")
    south = sed.magnitude_offsets(0.3, [0, 1], 0.0, "decam")
    diff = north - south
    np.testing.assert_allclose(diff[:, 0] - diff[:, 1], [0.076 - 0.009, 0.061 - 0.006], atol=0.005)
    np.testing.assert_allclose(diff[:, 1] - diff[:, 2], [0.009 + 0.009, 0.006 + 0.009], atol=0.005)


def test_r_offset_is_zero_at_rest_for_any_sed_and_dust():
    # M_r is the rest-frame r magnitude of the dust-reddened SED, so offset_r(z = 0) = 0 by definition.
    t, e = np.meshgrid(np.linspace(0, 3, 7), [0.0, 0.05, 0.3])
    for system in sed.SYSTEMS:
        r = sed.system_bands(system).index("r")
        np.testing.assert_allclose(sed.magnitude_offsets(0.0, t.ravel(), e.ravel(), system)[:, r], 0.0, atol=1e-5)


def test_internal_dust_reddens_and_index_blues():
    z = np.full(4, 0.3)
    g_r = -np.diff(sed.magnitude_offsets(z, 2.0, [0.0, 0.1, 0.2, 0.3], "decam")[:, :2], axis=1).ravel()
    assert np.all(np.diff(g_r) > 0.05)
    g_r_t = -np.diff(sed.magnitude_offsets(z, [0.0, 1.0, 2.0, 3.0], 0.0, "decam")[:, :2], axis=1).ravel()
    assert np.all(np.diff(g_r_t) < 0)


def test_apparent_mags_add_absolute_magnitude_and_distance_modulus():
    z = np.array([0.05, 0.3, 1.2, 2.5])
    mags = sed.apparent_mags(-21.0, z, 0.5, 0.1, "sdss")
    expected = -21.0 + distance_modulus(z)[:, None] + sed.magnitude_offsets(z, 0.5, 0.1, "sdss")
    np.testing.assert_allclose(mags, expected)
    assert mags.shape == (4, 5)


def test_igm_makes_high_redshift_sources_drop_out_in_u():
    u_g = -np.diff(sed.magnitude_offsets([1.0, 3.3], 3.0, 0.0, "sdss")[:, :2], axis=1).ravel()
    assert u_g[1] > u_g[0] + 1.0


def test_system_for_survey_and_errors():
    assert sed.system_for_survey("legacy-dr9-south") == "decam"
    assert sed.system_for_survey("legacy") == "decam"
    assert sed.system_for_survey("legacy-dr9-north") == "bass-mzls"
    assert sed.system_for_survey("sdss") == "sdss"
    assert sed.system_bands("sdss") == ("u", "g", "r", "i", "z")
    with pytest.raises(SkysslError):
        sed.system_for_survey("hsc")
    with pytest.raises(ValueError, match="unknown band system"):
        sed.magnitude_offsets(0.1, 0, 0, "hsc")
    with pytest.raises(ValueError, match="z outside"):
        sed.magnitude_offsets(3.6, 0, 0, "decam")
    with pytest.raises(ValueError, match="sed_t outside"):
        sed.magnitude_offsets(0.5, 3.2, 0, "decam")
    with pytest.raises(ValueError, match="z > 0"):
        sed.apparent_mags(-20.0, 0.0, 0, 0, "decam")


def test_package_tables_are_small():
    data = Path(sed.__file__).parent / "data"
    assert sum(p.stat().st_size for p in data.glob("*.npz")) < 1_000_000


def _build_script():
    path = Path(__file__).parents[2] / "tools" / "build_sim_tables.py"
    spec = importlib.util.spec_from_file_location("build_sim_tables", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_trilinear_interpolation_matches_direct_synthesis_off_the_grid():
    pytest.importorskip("galsim")
    pytest.importorskip("speclite")
    speclite_filters = pytest.importorskip("speclite.filters")
    build = _build_script()
    wave, templates = build.load_cww_templates()
    t, e_int = 1.37, 0.17
    i = int(t)
    sed_flux = (1 - (t - i)) * templates[i] + (t - i) * templates[i + 1]
    sed_flux = sed_flux * 10 ** (-0.4 * build.calzetti_k(wave) * e_int)
    r_rest = build.ab_mag(speclite_filters.load_filter("decam2014-r"), sed_flux[None], wave)
    for z in (0.337, 1.861):
        wave_obs = wave * (1 + z)
        flux_obs = sed_flux / (1 + z) * build.madau_igm_transmission(wave_obs, z)
        direct = [build.ab_mag(speclite_filters.load_filter(f"decam2014-{b}"), flux_obs[None], wave_obs)[0]
                  - r_rest[0] for b in "grz"]
        np.testing.assert_allclose(sed.magnitude_offsets(z, t, e_int, "decam")[0], direct, atol=0.02)
