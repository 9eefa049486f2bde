"""The target galaxy of a cutout: bulge and disk as analytic components, rare features as layers.

Every feature that belongs to the galaxy (arms, bar, ring, clumps, shells, dust lane) takes its light
from the galaxy's own budget, so the rendered galaxy still sums to the catalogue's `flux_true`;
companions (mergers, groups, blue satellites) are separate objects and add light. Feature colours are
tilted bluer than the host where the recipe says so (arms, clumps, rings, satellites).
"""

from __future__ import annotations

import numpy as np

from skyssl.sim import morphology as mo
from skyssl.sim import morphology_edge_on as eo
from skyssl.sim import morphology_tidal as td
from skyssl.sim import sed
from skyssl.sim.scene import SERSIC, Components, RenderGrid
from skyssl.surveys import Survey

R_HALF_PER_H = 1.6783  # exponential disk: r_half = 1.678 h
# Classes whose features are drawn into the real-space layer (the others are purely analytic).
# Classes with light bluer than the host (arms, clumps, rings, blue satellites).
TILTED_CLASSES = ("spiral", "barred_spiral", "clumpy", "ring", "collisional_ring", "blue_satellite")
LAYER_CLASSES = ("edge_on", "spiral", "barred_spiral", "clumpy", "ring", "collisional_ring", "shells", "merger")


def blue_tilt(survey: Survey, z: float) -> np.ndarray:
    """Per-band weights (r = 1) that make a feature's light as blue as an Im galaxy's relative to an E's."""
    system = sed.system_for_survey(survey.name)
    offsets = sed.magnitude_offsets(np.array([z, z]), np.array([3.0, 0.0]), np.array([0.05, 0.0]), system)
    diff = offsets[0] - offsets[1]
    diff = diff - diff[survey.band_index("r")]
    return 10 ** (-0.4 * diff)


def _sersic(n, r_half, q, pa, x, y, flux) -> Components:
    return Components(np.array([SERSIC], np.int8), np.array([n], float), np.array([r_half], float),
                      np.array([q], float), np.array([pa], float), np.array([x], float), np.array([y], float),
                      np.asarray(flux, float)[None, :])


def _split(flux: np.ndarray, fraction: float, tilt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Move `fraction` of the r-band light (tilted per band) out of `flux`, never more than 90 % per band."""
    taken = np.minimum(fraction * flux * tilt, 0.9 * flux)
    return flux - taken, taken


def build_host(row: dict, survey: Survey, grid: RenderGrid, rng: np.random.Generator,
               layer: np.ndarray) -> tuple[Components, np.ndarray]:
    """Components of the target (added to `layer` in place for real-space features), realised flux (C,)."""
    flux = np.asarray(row["flux_true"], float)
    bt, pa = float(row["bt"]), float(row["pa_rad"])
    bulge_flux, disk_flux = bt * flux, (1 - bt) * flux
    re_d, q_d = float(row["re_disk_arcsec"]), float(row["q_disk"])
    h = re_d / R_HALF_PER_H
    klass = str(row["morph_class"])
    tilt = blue_tilt(survey, float(row["z_true"])) if klass in TILTED_CLASSES else np.ones_like(flux)
    comps = _sersic(row["n_bulge"], row["re_bulge_arcsec"], row["q_bulge"], pa, 0.0, 0.0, bulge_flux)
    realised = flux.copy()

    if klass == "edge_on":
        edge, realised_disk = eo.edge_on_disk(grid, 0.0, 0.0, h, pa, disk_flux, rng=rng, bands=survey.bands)
        layer += edge
        realised = bulge_flux + realised_disk
        return comps, realised
    if klass in ("spiral", "barred_spiral"):
        params = mo.draw_spiral_params(rng)
        if klass == "barred_spiral":
            bar_params = mo.draw_bar_params(rng)
            params = mo.align_arms_to_bar(params, bar_params)
            disk_flux, bar_flux = _split(disk_flux, 0.15, np.ones_like(flux))
            mo.bar(grid, 0.0, 0.0, h, q_d, pa, bar_flux, params=bar_params, out=layer)
        smooth, arms = _split(disk_flux, mo.spiral_arm_fraction(params.amplitude), tilt)
        mo.spiral_disk(grid, 0.0, 0.0, h, q_d, pa, smooth, arms, params=params, out=layer)
        return comps, realised
    if klass == "clumpy":
        disk_flux, clump_flux = _split(disk_flux, 0.25, tilt)
        mo.clumps(grid, 0.0, 0.0, h, q_d, pa, clump_flux, rng=rng, out=layer)
    elif klass in ("ring", "collisional_ring"):
        disk_flux, ring_flux = _split(disk_flux, 0.5, tilt)
        mo.ring(grid, 0.0, 0.0, float(row["r_half_arcsec"]), q_d, pa, ring_flux, rng=rng,
                collisional=klass == "collisional_ring", out=layer)
    elif klass == "shells":
        bulge_flux, shell_flux = _split(bulge_flux, rng.uniform(0.01, 0.03), np.ones_like(flux))
        comps = _sersic(row["n_bulge"], row["re_bulge_arcsec"], row["q_bulge"], pa, 0.0, 0.0, bulge_flux)
        td.shells(grid, 0.0, 0.0, float(row["r_half_arcsec"]), float(row["q_bulge"]), pa, shell_flux,
                  rng=rng, out=layer)
    comps = comps.concat(_sersic(1.0, re_d, q_d, pa, 0.0, 0.0, disk_flux))
    comps = comps.concat(companions(row, survey, grid, rng, layer, flux, tilt))
    return comps, realised


def companions(row: dict, survey: Survey, grid: RenderGrid, rng: np.random.Generator, layer: np.ndarray,
               flux: np.ndarray, tilt: np.ndarray) -> Components:
    """Separate objects that make the cutout look like a merger, a group or a lens (look-alikes)."""
    klass = str(row["morph_class"])
    r_half = float(row["r_half_arcsec"])
    out = Components.empty(survey.n_bands)
    if klass == "merger":
        sep = rng.uniform(1.0, 4.0) * max(r_half, 0.8)
        angle = rng.uniform(0, 2 * np.pi)
        ratio = rng.uniform(0.25, 1.0)
        out = _sersic(rng.choice([1.0, 4.0]), r_half * np.sqrt(ratio), rng.uniform(0.4, 1.0), rng.uniform(0, np.pi),
                      sep * np.cos(angle), sep * np.sin(angle), ratio * flux)
        params = td.draw_tail_params(rng)
        tail_r = td.tail_flux_nmgy(params, r_half)
        tail_flux = tail_r * flux / max(flux[survey.band_index("r")], 1e-12)
        td.tidal_tails(grid, 0.0, 0.0, r_half, float(row["pa_rad"]), tail_flux, params=params, out=layer)
    elif klass == "group":
        n_sat = int(rng.integers(2, 7))
        arcsec_per_kpc = float(row.get("arcsec_per_kpc", 0.2))
        radius = np.minimum(rng.uniform(0.05, 1.0, n_sat) * 200.0 * arcsec_per_kpc, 18.0)
        angle = rng.uniform(0, 2 * np.pi, n_sat)
        dmag = rng.uniform(0.5, 3.0, n_sat)
        for k in range(n_sat):
            out = out.concat(_sersic(4.0, r_half * 10 ** (-0.1 * dmag[k]), rng.uniform(0.5, 1.0), rng.uniform(0, np.pi),
                                     radius[k] * np.cos(angle[k]), radius[k] * np.sin(angle[k]),
                                     flux * 10 ** (-0.4 * dmag[k])))
    elif klass == "blue_satellite":
        sep, angle = rng.uniform(1.0, 3.0), rng.uniform(0, 2 * np.pi)
        dmag = rng.uniform(2.0, 4.0)
        out = _sersic(1.0, rng.uniform(0.2, 0.5), rng.uniform(0.3, 0.8), angle + np.pi / 2 + rng.normal(0, 0.3),
                      sep * np.cos(angle), sep * np.sin(angle), flux * tilt * 10 ** (-0.4 * dmag))
    return out
