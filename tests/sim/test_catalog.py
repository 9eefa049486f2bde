"""The simulated catalogue: reproducible block by block, and statistically like the recipe says.

Numbers checked come from simulation-recipe.md §1 (conditions, depth, extinction), §2.1 (validation of
the galaxy population), §5 (photo-z), §6 (lens rate and θ_E) and §10 (checks the simulator must pass),
and from the 1,615 real DR9 training lenses shipped as package data. Catalogue draws are cheap
(~10 ms per 1024-row block), so the statistics use tens of thousands of rows.
"""

from __future__ import annotations

import hashlib
import itertools
from importlib import resources

import astropy.units as u
import numpy as np
import pytest
from astropy.table import Table

from skyssl import surveys
from skyssl.sim import catalog, classes
from skyssl.sim.catalog import BLOCK_ROWS
from skyssl.sim.config import SimConfig

# simulation-recipe §1.4: DR9 uses the DECam coefficients in g, r, z; SDSS the SF11 (R_V 3.1) ugriz values.
RECIPE_R = {"legacy-dr9-south": (3.214, 2.165, 1.211), "legacy-dr9-north": (3.214, 2.165, 1.211),
            "sdss": (4.239, 3.303, 2.285, 1.698, 1.263)}
LOOK_ALIKES = ("ring", "spiral", "merger", "group", "blue_satellite")


def make_config(survey: str = "legacy", seed: int = 7, lens_rate: float = 1e-2, n: int = 10**6) -> SimConfig:
    return SimConfig(survey=survey, n_objects=n, seed=seed, lens_rate=lens_rate)


def draw_blocks(config: SimConfig, n_blocks: int, first: int = 0) -> dict[str, np.ndarray]:
    parts = [catalog.draw_block(config, b) for b in range(first, first + n_blocks)]
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def digest(cat: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for name in sorted(cat):
        h.update(name.encode())
        h.update(np.ascontiguousarray(cat[name]).tobytes())
    return h.hexdigest()


def true_mags(cat: dict[str, np.ndarray]) -> np.ndarray:
    """Noiseless observed (reddened) AB magnitudes, (n, C)."""
    return 22.5 - 2.5 * np.log10(cat["flux_true"])


@pytest.fixture(scope="module")
def legacy() -> dict[str, np.ndarray]:
    """24 blocks (24,576 rows) of the default DR9-south preset at the eval lens rate."""
    return draw_blocks(make_config(), 24)


# ------------------------------------------------------------------ determinism


def test_row_ranges_are_slices_of_a_bigger_draw():
    config = make_config(seed=3)
    big = catalog.draw_rows(config, 0, 2 * BLOCK_ROWS + 300)
    for start, stop in ((0, 1), (5, 40), (1000, 1100), (1023, 1025), (2047, 2 * BLOCK_ROWS + 300)):
        part = catalog.draw_rows(config, start, stop)
        assert set(part) == set(big)
        np.testing.assert_array_equal(part["row"], np.arange(start, stop))
        for name, values in part.items():
            assert values.shape[0] == stop - start, name
            assert values.tobytes() == big[name][start:stop].tobytes(), (name, start, stop)


def test_rows_do_not_depend_on_the_run_size():
    small = catalog.draw_rows(make_config(seed=3, n=50), 10, 20)
    large = catalog.draw_rows(make_config(seed=3, n=10**5), 10, 20)
    assert digest(small) == digest(large)


def test_same_seed_same_bytes_different_seed_different():
    first = catalog.draw_block(make_config(seed=11), 2)
    again = catalog.draw_block(make_config(seed=11), 2)
    other = catalog.draw_block(make_config(seed=12), 2)
    assert digest(first) == digest(again)
    assert digest(first) != digest(other)
    assert not np.any(first["z_true"] == other["z_true"])
    assert not np.any(first["ra"] == other["ra"])
    # ids keep the seed in the top bits and the generator row below
    np.testing.assert_array_equal(first["object_id"] >> 40, 11)
    np.testing.assert_array_equal(first["object_id"] & ((1 << 40) - 1), np.arange(2 * BLOCK_ROWS, 3 * BLOCK_ROWS))
    assert np.intersect1d(first["object_id"], other["object_id"]).size == 0


def test_blocks_differ_from_each_other():
    a, b = catalog.draw_block(make_config(), 0), catalog.draw_block(make_config(), 1)
    assert not np.any(a["z_true"] == b["z_true"])


# ------------------------------------------------------------------ population statistics (recipe §2.1, §10.6)


def test_population_statistics_match_the_recipe_validation(legacy):
    assert 0.25 <= np.median(legacy["z_true"]) <= 0.45
    assert 0.5 <= np.median(legacy["shape_r"]) <= 1.2
    np.testing.assert_array_equal(legacy["shape_r"], legacy["r_half_arcsec"])
    assert 0.5 <= np.mean(legacy["is_red"]) <= 0.75
    mag = legacy["mag"]
    near = np.abs(legacy["z_true"] - 0.3) < 0.025
    red, blue = near & legacy["is_red"], near & ~legacy["is_red"]
    assert red.sum() > 300 and blue.sum() > 100
    red_gr = np.median(mag[red, 0] - mag[red, 1])
    assert 1.5 <= red_gr <= 1.8
    assert np.median(mag[blue, 0] - mag[blue, 1]) < red_gr - 0.3


def test_main_sample_is_cut_at_z_20(legacy):
    mag_z = true_mags(legacy)[:, 2]
    assert mag_z.max() < 20.0
    assert np.mean(mag_z > 19.0) > 0.3  # most galaxies sit near the limit, as in any flux-limited sample


def test_observing_conditions_match_the_dr9_priors(legacy):
    """psfsize medians (recipe §1.2: 1.48/1.33/1.24″), psfdepth from the NEA relation, 5σ depths (§1.3)."""
    np.testing.assert_allclose(np.median(legacy["psfsize"], axis=0), [1.48, 1.33, 1.24], atol=0.03)
    sigma_psf_px = legacy["psfsize"] / 2.3548 / 0.262
    expected = 1.0 / (4 * np.pi * legacy["sigma_pix_nmgy"] ** 2 * sigma_psf_px**2)
    np.testing.assert_allclose(legacy["psfdepth"], expected, rtol=1e-3)
    depth_mag = -2.5 * (np.log10(5 / np.sqrt(legacy["psfdepth"])) - 9)
    np.testing.assert_allclose(np.median(depth_mag, axis=0), [24.71, 24.44, 23.44], atol=0.05)
    assert 0.03 <= np.median(legacy["ebv"]) <= 0.04  # SFD prior median 0.035


def test_sdss_preset_is_the_bright_spectroscopic_sample():
    cat = draw_blocks(make_config(survey="sdss", lens_rate=0.0), 4)
    assert cat["flux_true"].shape == (4 * BLOCK_ROWS, 5)
    assert true_mags(cat)[:, 2].max() < 17.77
    assert np.median(cat["z_true"]) < 0.2
    assert not cat["is_lens"].any()


# ------------------------------------------------------------------ identities (recipe §10.3)


@pytest.mark.parametrize("preset", ["legacy", "legacy-north", "sdss"])
def test_mw_transmission_is_the_extinction_law(preset):
    config = make_config(survey=preset)
    survey = surveys.get(config.survey)
    assert survey.extinction_r == RECIPE_R[survey.name]
    cat = catalog.draw_block(config, 0)
    extinction = u.Magnitude(np.asarray(RECIPE_R[survey.name])[None, :] * cat["ebv"][:, None])
    np.testing.assert_allclose(cat["mw_transmission"], extinction.physical.value, rtol=1e-12)
    assert np.all((cat["mw_transmission"] > 0) & (cat["mw_transmission"] <= 1))
    # images are stored reddened: the bluest band loses the most light
    assert np.all(np.diff(cat["mw_transmission"], axis=1) >= 0)


def test_magnitudes_and_fluxes_are_consistent(legacy):
    flux, mag = legacy["flux"], legacy["mag"]
    positive = flux > 0
    oracle = (flux[positive] * u.nmgy).to(u.mag(u.mgy)).value
    np.testing.assert_allclose(mag[positive], oracle, rtol=0, atol=1e-9)
    assert np.all(np.isnan(mag[~positive]))
    assert np.all(legacy["flux_true"] > 0) and np.all(legacy["flux_ivar"] > 0)
    # measured fluxes scatter around the truth by exactly their quoted errors
    pull = (flux - legacy["flux_true"]) * np.sqrt(legacy["flux_ivar"])
    assert np.all(np.abs(pull.mean(axis=0)) < 0.05)
    np.testing.assert_allclose(pull.std(axis=0), 1.0, atol=0.03)


# ------------------------------------------------------------------ lenses (recipe §6, §10.6)


@pytest.mark.parametrize(("rate", "n_blocks"), [(0.0, 8), (1e-3, 100), (1e-2, 16)])
def test_lens_rate_within_poisson_error(rate, n_blocks):
    cat = draw_blocks(make_config(seed=21, lens_rate=rate), n_blocks)
    n_lens = int(cat["is_lens"].sum())
    expected = rate * cat["is_lens"].size
    if rate == 0:
        assert n_lens == 0
    else:
        assert abs(n_lens - expected) <= 3 * np.sqrt(expected), (n_lens, expected)
    lens = cat["is_lens"]
    assert np.all(np.isfinite(cat["theta_e_arcsec"][lens])) and np.all(np.isnan(cat["theta_e_arcsec"][~lens]))
    assert np.all(cat["src_flux"][~lens] == 0)


@pytest.fixture(scope="module")
def lens_rich() -> dict[str, np.ndarray]:
    """~4,000 lenses: the maximum lens rate over 8 blocks."""
    return draw_blocks(make_config(seed=5, lens_rate=0.5), 8)


def test_lens_einstein_radii_and_sources(lens_rich):
    lens = lens_rich["is_lens"]
    assert lens.sum() > 3000
    assert 1.2 <= np.median(lens_rich["theta_e_arcsec"][lens]) <= 1.6
    assert np.all(lens_rich["z_s"][lens] > lens_rich["z_true"][lens])
    assert np.all(lens_rich["src_flux"][lens] > 0)
    assert np.all(lens_rich["is_red"][lens])
    assert set(np.unique(lens_rich["morph_class"][lens])) <= set(catalog.LENS_HOST_CLASSES)
    assert true_mags(lens_rich)[lens, 2].max() < 20.0


def test_lens_hosts_resemble_the_real_dr9_training_lenses(lens_rich):
    with resources.files("skyssl.sim.data").joinpath("dr9_training_lenses.tsv").open() as handle:
        real = Table.read(handle.read(), format="ascii.tab")
    assert len(real) == 1615
    g, r, z = (np.asarray(real[f"mag_{b}"], float) for b in "grz")
    lens = lens_rich["is_lens"]
    mag = lens_rich["mag"][lens]
    sim = {"mag_z": mag[:, 2], "g-r": mag[:, 0] - mag[:, 1], "r-z": mag[:, 1] - mag[:, 2],
           "z_phot_mean": lens_rich["z_phot_mean"][lens]}
    ref = {"mag_z": z, "g-r": g - r, "r-z": r - z, "z_phot_mean": np.asarray(real["z_phot_mean"], float)}
    tolerance = {"mag_z": 0.3, "g-r": 0.3, "r-z": 0.3, "z_phot_mean": 0.1}
    for name, tol in tolerance.items():
        sim_median, real_median = np.nanmedian(sim[name]), np.nanmedian(ref[name])
        assert abs(sim_median - real_median) <= tol, (name, sim_median, real_median)


# ------------------------------------------------------------------ classes, Galaxy Zoo, photo-z


def test_morphology_and_artefact_classes(legacy):
    morph = legacy["morph_class"]
    assert set(np.unique(morph)) <= set(classes.MORPH_CLASSES)
    for name in LOOK_ALIKES:
        assert np.sum(morph == name) >= 20, name
    assert np.all(morph[~legacy["is_red"]] != "elliptical")
    artefact = legacy["artefact"]
    assert set(np.unique(artefact)) <= set(classes.ARTEFACTS)
    n = artefact.size
    for name, rate in classes.ARTEFACT_RATES.items():
        assert abs(np.sum(artefact == name) - rate * n) <= 4 * np.sqrt(rate * n), name


def test_galaxy_zoo_vote_fractions(legacy):
    names = [k for k in legacy if k.startswith("gz_") and k.endswith("_fraction")]
    assert len(names) == 6
    votes = legacy["gz_num_votes"]
    assert np.all(votes >= 1)
    for name in names:
        values = legacy[name]
        assert np.all((values >= 0) & (values <= 1)), name
        np.testing.assert_allclose(values * votes, np.round(values * votes), atol=1e-9)  # k of N votes
    np.testing.assert_allclose(legacy["gz_smooth_fraction"] + legacy["gz_featured_fraction"], 1.0, atol=1e-12)
    morph = legacy["morph_class"]
    featured = legacy["gz_featured_fraction"]
    assert featured[morph == "spiral"].mean() > featured[morph == "elliptical"].mean() + 0.2


def test_photoz_columns_are_ordered_and_realistic(legacy):
    order = ("z_phot_l95", "z_phot_l68", "z_phot_mean", "z_phot_u68", "z_phot_u95")
    for lower, upper in itertools.pairwise(order):
        assert np.all(legacy[lower] <= legacy[upper]), (lower, upper)
    assert np.all(legacy["z_phot_l95"] >= 0) and np.all(legacy["z_phot_std"] > 0)
    dz = (legacy["z_phot_mean"] - legacy["z_true"]) / (1 + legacy["z_true"])
    nmad = 1.4826 * np.median(np.abs(dz - np.median(dz)))
    assert 0.015 <= nmad <= 0.07
    assert 0.01 <= np.mean(np.abs(dz) > 0.15) <= 0.08  # 3 % catastrophic outliers plus the tails
    has_spec = legacy["z_spec"] != -99.0
    assert 0.05 < has_spec.mean() < 0.9
    np.testing.assert_allclose(legacy["z_spec"][has_spec], legacy["z_true"][has_spec], atol=1e-3)
    training = legacy["z_training"] != -99.0
    assert np.all(has_spec[training]) and 0.3 < training.sum() / has_spec.sum() < 0.7
