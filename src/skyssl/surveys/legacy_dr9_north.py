"""DESI Legacy Imaging Surveys DR9 north (BASS g, r and MzLS z): 0.262″/px, 152 px stamps.

DR9 treats BASS/MzLS extinction as DECam's, so the coefficients equal the south's. No published fit of
north conditions exists in the authors' work; the PSF priors reuse the south's lognormal shapes with
medians moved to the typical BASS (≈1.7″ in g, r) and MzLS (≈1.15″ in z) seeing — an approximation,
flagged as such. Noise and E(B−V) priors are the south's.
"""

from skyssl.surveys.base import SFD_EBV_PRIOR, DisplayBand, Survey
from skyssl.surveys.legacy_dr9_south import NOISE_SIGMA_NMGY
from skyssl.surveys.priors import IndependentBandConditions, TruncatedLognormal

_PX = 0.262
_SIGMA_PER_FWHM_PX = 1.0 / (2.3548 * _PX)

PSF_SIGMA_PX = (
    TruncatedLognormal(0.2109966, 1.0807153, 1.70 * _SIGMA_PER_FWHM_PX - 1.0807153, low=1.3233, high=5.0),
    TruncatedLognormal(0.3008485, 1.2394326, 1.65 * _SIGMA_PER_FWHM_PX - 1.2394326, low=1.2667, high=4.5),
    TruncatedLognormal(0.3471172, 1.1928363, 1.15 * _SIGMA_PER_FWHM_PX - 1.1928363, low=1.2126, high=4.25),
)

SURVEY = Survey(
    name="legacy-dr9-north",
    description="DESI Legacy Imaging Surveys DR9 north (BASS g, r; MzLS z)",
    bands=("g", "r", "z"),
    pixel_scale_arcsec=_PX,
    stamp_size_px=152,
    crop_size_px=96,
    extinction_r=(3.214, 2.165, 1.211),
    display=(DisplayBand(plane=2, scale=6.0), DisplayBand(plane=1, scale=3.4), DisplayBand(plane=0, scale=2.2)),
    display_offset=0.03,
    conditions=IndependentBandConditions(psf_sigma_px=PSF_SIGMA_PX, noise_sigma_nmgy=NOISE_SIGMA_NMGY),
    ebv_prior=SFD_EBV_PRIOR,
)
