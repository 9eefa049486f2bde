"""SDSS imaging (Hayat et al. 2021): u, g, r, i, z at 0.396″/px, 107 px stamps, 64 px crops.

Extinction uses Schlafly & Finkbeiner 2011 (R_V = 3.1). SDSS observes the five bands simultaneously,
so one seeing draw per field (0.063 dex, matching the r-band quartiles) is shared by all bands with ±5 % per band, FWHM ∝ λ^−0.2.
The pixel noise follows from the SkyServer 5σ depths through the noise-equivalent area.
Display follows the viewer's `sdss_rgb` defaults.
"""

from skyssl.surveys.base import SFD_EBV_PRIOR, DisplayBand, Survey
from skyssl.surveys.priors import SimultaneousBandConditions

SURVEY = Survey(
    name="sdss",
    description="Sloan Digital Sky Survey imaging (u, g, r, i, z)",
    bands=("u", "g", "r", "i", "z"),
    pixel_scale_arcsec=0.396,
    stamp_size_px=107,
    crop_size_px=64,
    extinction_r=(4.239, 3.303, 2.285, 1.698, 1.263),
    display=(
        DisplayBand(plane=2, scale=1.5),
        DisplayBand(plane=2, scale=2.5),
        DisplayBand(plane=1, scale=1.5),
        DisplayBand(plane=0, scale=1.0),
        DisplayBand(plane=0, scale=0.4),
    ),
    display_offset=0.02,
    conditions=SimultaneousBandConditions(
        fwhm_median_arcsec=(1.60, 1.51, 1.43, 1.37, 1.32),
        m5_mag=(22.3, 23.3, 23.1, 22.3, 20.8),
        seeing_dex=0.063,  # reproduces the SDSS r-band seeing quartiles 1.30 / 1.43 / 1.58″
        band_scatter=0.05,
        noise_shape=0.25,
        fwhm_low_arcsec=0.8,
        fwhm_high_arcsec=3.0,
    ),
    ebv_prior=SFD_EBV_PRIOR,
)

DR12_EXTINCTION_R = (5.155, 3.793, 2.751, 2.086, 1.479)
"""R_b behind the DR12 `extinction_*` columns (SFD98), which the authors' `e_bv` key holds as A_b."""
