"""DESI Legacy Imaging Surveys DR9 south (DECam): g, r, z at 0.262″/px, 152 px stamps.

Priors are Stein et al.'s lognormal fits over 43 M z < 20 galaxies (PSF σ in pixels, pixel noise in
nmgy), truncated to the observed ranges. Extinction uses the DR9 coefficients (Schlafly recomputation
for DECam). Display follows the viewer's `dr2_rgb`.
"""

from skyssl.surveys.base import SFD_EBV_PRIOR, DisplayBand, Survey
from skyssl.surveys.priors import IndependentBandConditions, TruncatedLognormal

PSF_SIGMA_PX = (
    TruncatedLognormal(0.2109966, 1.0807153, 1.3153171, low=1.3233, high=5.0),
    TruncatedLognormal(0.3008485, 1.2394326, 0.9164757, low=1.2667, high=4.5),
    TruncatedLognormal(0.3471172, 1.1928363, 0.8233702, low=1.2126, high=4.25),
)
NOISE_SIGMA_NMGY = (
    TruncatedLognormal(0.2264926, -0.0006735, 0.0037602, low=0.001094, high=0.013),
    TruncatedLognormal(0.2431146, -0.0023663, 0.0067417, low=0.001094, high=0.018),
    TruncatedLognormal(0.1334844, -0.0143416, 0.0260779, low=0.001094, high=0.061),
)

SURVEY = Survey(
    name="legacy-dr9-south",
    description="DESI Legacy Imaging Surveys DR9 south (DECam g, r, z)",
    bands=("g", "r", "z"),
    pixel_scale_arcsec=0.262,
    stamp_size_px=152,
    crop_size_px=96,
    extinction_r=(3.214, 2.165, 1.211),
    display=(DisplayBand(plane=2, scale=6.0), DisplayBand(plane=1, scale=3.4), DisplayBand(plane=0, scale=2.2)),
    display_offset=0.03,
    conditions=IndependentBandConditions(psf_sigma_px=PSF_SIGMA_PX, noise_sigma_nmgy=NOISE_SIGMA_NMGY),
    ebv_prior=SFD_EBV_PRIOR,
)
