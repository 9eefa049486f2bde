"""Lens truth columns for a block of catalogue rows: which rows are lenses and what they lens.

Non-lens rows get neutral values (NaN for continuous truth, 0 for counts) so every row has every
column. Source fluxes follow from the source's r magnitude and its SED colours at z_s, dimmed by the
same Galactic transmission as the deflector.
"""

from __future__ import annotations

import numpy as np

from skyssl.sim import lens_population, sed
from skyssl.sim.lens_population import MAX_CLUMPS
from skyssl.surveys import ZERO_POINT_MAG, Survey

FLOAT_COLUMNS = (
    "theta_e_arcsec", "q_lens", "phi_lens_rad", "gamma1", "gamma2", "gamma_ext", "z_s", "sigma_v_kms",
    "src_mag_r", "src_re_arcsec", "src_q", "src_pa_rad", "src_sersic_n", "src_x_arcsec", "src_y_arcsec",
    "src_sed_t", "src_ebv_int",
)
CLUMP_COLUMNS = ("src_clump_dx_arcsec", "src_clump_dy_arcsec", "src_clump_sigma_arcsec", "src_clump_flux_frac")


def source_flux_nmgy(survey: Survey, src_mag_r, z_s, sed_t, ebv_int, transmission) -> np.ndarray:
    """Observed unlensed source flux per band (n, C): r magnitude plus the SED's colours at z_s."""
    offsets = sed.magnitude_offsets(z_s, sed_t, ebv_int, sed.system_for_survey(survey.name))
    mags = np.asarray(src_mag_r)[:, None] + offsets - offsets[:, [survey.band_index("r")]]
    return 10 ** (-0.4 * (mags - ZERO_POINT_MAG)) * transmission


def catalog_columns(rng: np.random.Generator, cat: dict, survey: Survey) -> dict[str, np.ndarray]:
    n = cat["z_true"].size
    out: dict[str, np.ndarray] = {name: np.full(n, np.nan) for name in FLOAT_COLUMNS}
    out.update({name: np.full((n, MAX_CLUMPS), np.nan) for name in CLUMP_COLUMNS})
    out["src_n_clumps"] = np.zeros(n, np.int16)
    out["src_flux"] = np.zeros((n, survey.n_bands))
    idx = np.flatnonzero(cat["is_lens"])
    if idx.size == 0:
        return out
    population = lens_population.sample_lens_population(
        rng, cat["z_true"][idx], abs_mag_r=cat["M_r"][idx], q_light=cat["q_bulge"][idx],
        pa_light_rad=cat["pa_rad"][idx],
    )
    columns = population.columns()
    for name in (*FLOAT_COLUMNS, *CLUMP_COLUMNS):
        out[name][idx] = columns[name]
    out["src_n_clumps"][idx] = columns["src_n_clumps"]
    out["src_flux"][idx] = source_flux_nmgy(
        survey, columns["src_mag_r"], columns["z_s"], columns["src_sed_t"], columns["src_ebv_int"],
        cat["mw_transmission"][idx],
    )
    return out


def population_row(cat: dict, i: int) -> lens_population.LensPopulation:
    """Row i of the catalogue as a one-lens population (for the renderer)."""
    fields = lens_population.LensPopulation.__dataclass_fields__
    values = {}
    for name in fields:
        if name in cat:
            values[name] = np.asarray(cat[name][i : i + 1])
        elif name == "z_l":
            values[name] = np.asarray(cat["z_true"][i : i + 1])
        elif name == "sigma_v_light_kms":
            values[name] = np.asarray(cat["sigma_v_kms"][i : i + 1])
        elif name == "phi_ext_rad":
            values[name] = np.asarray([0.5 * np.arctan2(cat["gamma2"][i], cat["gamma1"][i])])
    return lens_population.LensPopulation(**values)
