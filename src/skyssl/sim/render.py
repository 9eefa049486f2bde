"""Render catalogue rows into cutouts: scene → PSF and pixels → noise → artefacts, plus the truth
that only rendering can tell (lens grade and S/N, magnification, realised flux, maskbits).

Row i draws from `default_rng([seed, 1, i])` only, so any row re-renders alone to the same bytes.
"""

from __future__ import annotations

import numpy as np

from skyssl.sim import artefacts, catalog, field, fourier, host, lens_catalog, lens_grade, noise
from skyssl.sim import lens as lenslib
from skyssl.sim.catalog import flux_to_mag
from skyssl.sim.config import SimConfig
from skyssl.sim.cosmology import angular_diameter_distance_mpc
from skyssl.sim.galaxies import ARCSEC_PER_RAD
from skyssl.sim.scene import Components, RenderGrid, Scene
from skyssl.surveys import Survey, get

PAD_PX = 20
PSF_BETA = 3.0
SATURATION_NMGY_PER_PX = 1e4
LAYER_ARTEFACTS = ("bright_star", "satellite_trail")

# Columns written to the store. Truth columns are what a real survey would not know.
OBSERVED_COLUMNS = (
    "object_id", "release", "brickid", "objid", "ra", "dec", "type", "flux", "flux_ivar", "mag", "ebv",
    "mw_transmission", "psfsize", "psfdepth", "nobs", "maskbits", "shape_r", "shape_e1", "shape_e2", "sersic",
    "z_phot_mean", "z_phot_median", "z_phot_std", "z_phot_l68", "z_phot_u68", "z_phot_l95", "z_phot_u95",
    "z_spec", "z_training",
)
TRUTH_COLUMNS = (
    "row", "z_true", "M_r", "is_red", "sed_t", "ebv_int", "bt", "n_bulge", "re_bulge_arcsec", "re_disk_arcsec",
    "q_bulge", "q_disk", "pa_rad", "r_half_arcsec", "flux_true", "sigma_pix_nmgy", "morph_class", "artefact",
    "is_lens", "lens_grade", "lens_sn", "lens_n_images", "lens_mu", *lens_catalog.FLOAT_COLUMNS, "src_flux",
    "src_n_clumps", *lens_catalog.CLUMP_COLUMNS, "gz_num_votes", "gz_smooth_fraction", "gz_featured_fraction",
    "gz_edge_on_fraction", "gz_bar_fraction", "gz_spiral_fraction", "gz_merger_fraction",
)


def render_grid(survey: Survey) -> RenderGrid:
    return RenderGrid(stamp_px=survey.stamp_size_px, pad_px=PAD_PX, pixel_scale_arcsec=survey.pixel_scale_arcsec,
                      oversample=2)


def row_of(cat: dict, i: int) -> dict:
    return {k: v[i] for k, v in cat.items()}


def _lens_layer(row: dict, grid: RenderGrid, cat: dict, i: int) -> tuple[np.ndarray, float]:
    population = lens_catalog.population_row(cat, i)
    lens_params = population.lens_params(0)
    source = population.source_params(0, np.asarray(row["src_flux"], float))
    return lenslib.render_lensed_source(grid, lens_params, source)


def render_row(cat: dict, i: int, survey: Survey, grid: RenderGrid, seed: int) -> tuple[np.ndarray, dict]:
    """One cutout (C, N, N) in nmgy/px and the truth learnt while rendering it."""
    row = row_of(cat, i)
    rng = np.random.default_rng([seed, 1, int(row["row"])])
    n_bands = survey.n_bands
    side = grid.grid_px * grid.oversample
    layer = np.zeros((n_bands, side, side), dtype=np.float32)
    row["arcsec_per_kpc"] = ARCSEC_PER_RAD / (float(angular_diameter_distance_mpc(np.array([row["z_true"]]))[0]) * 1e3)
    comps, realised_flux = host.build_host(row, survey, grid, rng, layer)
    transmission = np.asarray(row["mw_transmission"], float)
    area_scale = (survey.stamp_size_px * survey.pixel_scale_arcsec / (152 * 0.262)) ** 2
    comps = comps.concat(field.neighbours(rng, survey, transmission, area_scale))
    comps = comps.concat(field.stars(rng, survey, transmission, area_scale))
    psf = np.asarray(row["psfsize"], float)
    sigma = np.asarray(row["sigma_pix_nmgy"], float)
    truth = {"flux_true": realised_flux, "lens_grade": "", "lens_sn": np.nan, "lens_n_images": 0, "lens_mu": np.nan}

    if row["is_lens"]:
        arc_layer, mu = _lens_layer(row, grid, cat, i)
        arc_image = fourier.render_noiseless(Scene(Components.empty(n_bands), arc_layer), psf, grid, PSF_BETA)
        verdict = lens_grade.grade_lens(arc_image, sigma, float(row["theta_e_arcsec"]), float(psf[survey.band_index("r")]),
                                        survey.band_index("r"), survey.pixel_scale_arcsec)
        layer += arc_layer
        truth.update(lens_grade=verdict.grade, lens_sn=verdict.sn, lens_n_images=verdict.n_images, lens_mu=mu)

    artefact = str(row["artefact"])
    star_mag, star_sep = np.nan, np.nan
    if artefact == "bright_star":
        star, star_mag = field.bright_star(rng, survey, transmission)
        star_sep = float(np.hypot(star.x_arcsec[0], star.y_arcsec[0]))
        comps = comps.concat(star)
        artefacts.bright_star_layers(grid, float(star.x_arcsec[0]), float(star.y_arcsec[0]), star.flux_nmgy[0], psf,
                                     rng, bands=survey.bands, out=layer)
    elif artefact == "satellite_trail":
        artefacts.satellite_trail(grid, rng, n_bands, out=layer)

    uses_layer = row["is_lens"] or artefact in LAYER_ARTEFACTS or str(row["morph_class"]) in host.LAYER_CLASSES
    image = fourier.render_noiseless(Scene(comps, layer if uses_layer else None), psf, grid, PSF_BETA)
    image = noise.add_noise(image, sigma, rng, noise.effective_gain(survey, sigma))
    saturated = np.zeros(n_bands, bool)
    no_data = np.zeros(n_bands, bool)
    if artefact == "bright_star":
        image, mask = artefacts.saturate(image, SATURATION_NMGY_PER_PX, bleed=True, return_mask=True)
        saturated = mask.reshape(n_bands, -1).any(axis=1)
    elif artefact == "masked":
        image, mask = artefacts.apply_masked_region(image, rng)
        c = survey.stamp_size_px // 2
        no_data = mask[:, c, c]
    elif artefact == "noise_step":
        image = artefacts.apply_noise_step(image, sigma, rng)
    truth["maskbits"] = int(artefacts.maskbits_for(survey.bands, star_mag=np.array(star_mag),
                                                   star_separation_arcsec=np.array(star_sep),
                                                   saturated=saturated, no_data=no_data))
    truth["nobs"] = np.where(no_data, 0, np.asarray(row["nobs"])).astype(np.int16)
    return image, truth


def render_rows(config: SimConfig, start: int, stop: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Images (n, C, N, N) in the store dtype and the store columns of rows [start, stop)."""
    survey = get(config.survey)
    grid = render_grid(survey)
    cat = catalog.draw_rows(config, start, stop)
    n = stop - start
    images = np.empty((n, survey.n_bands, survey.stamp_size_px, survey.stamp_size_px), dtype=config.image_dtype)
    found: dict[str, list] = {}
    for i in range(n):
        image, truth = render_row(cat, i, survey, grid, config.seed)
        images[i] = image
        for key, value in truth.items():
            found.setdefault(key, []).append(value)
    return images, store_columns(cat, {k: np.asarray(v) for k, v in found.items()})


def store_columns(cat: dict, found: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Merge render-time truth into the catalogue and keep the columns a store carries."""
    cat = dict(cat)
    ratio = found["flux_true"] / np.where(cat["flux_true"] > 0, cat["flux_true"], 1.0)
    cat["flux"] = cat["flux"] * ratio
    cat["mag"] = flux_to_mag(cat["flux"])
    cat.update(found)
    cat["lens_grade"] = np.asarray(cat["lens_grade"]).astype(str)
    return {name: cat[name] for name in (*OBSERVED_COLUMNS, *TRUTH_COLUMNS)}
