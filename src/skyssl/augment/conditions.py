"""Observing conditions on the training device: the survey priors as torch samplers, and catalogue
columns → the PSF and noise σ an image already has.

The augmentations need two sets of conditions per view: where the image *is* (E_old, σ_true) and where
the view should *go* (E_new, σ_final). The targets come from the survey priors of
:mod:`skyssl.surveys` (the same priors the simulator draws cutouts from), sampled here with torch on a
``torch.Generator`` so that a batch's draws happen on the device and follow its seed. The current
conditions come from the catalogue:

- PSF σ in pixels from ``psfsize`` (FWHM, arcsec): σ = FWHM / (2√(2 ln 2)) / pixel scale;
- pixel noise σ (nmgy) from ``psfdepth`` (nmgy⁻²) and ``psfsize`` through the noise-equivalent area of
  a Gaussian PSF, 1/σ² = psfdepth · 4π σ_psf² (as :func:`skyssl.surveys.priors.sigma_from_psfdepth`).

Missing catalogue values (None, NaN, ±inf, or ≤ 0 — DR9 writes psfdepth = 0 where a band has no
exposures) fall back to a draw from the prior, per sample and band, so one bad column entry never
produces a NaN view. Prior draws are always made for the whole batch, so the random stream (and every
other view parameter) does not depend on how many catalogue values were missing.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from skyssl.surveys import Survey
from skyssl.surveys.priors import (
    FWHM_PER_SIGMA,
    IndependentBandConditions,
    SimultaneousBandConditions,
    TruncatedLognormal,
)

UNIFORM_NOISE_HALF_WIDTH_SIGMAS = 2.0  # SDSS-style priors have no noise bounds: use median·e^(±2 shape)


def _normal_cdf(z: float) -> float:
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


def _z_bounds(prior: TruncatedLognormal) -> tuple[float, float]:
    def to_z(x: float) -> float:
        return -math.inf if x <= prior.loc else math.log((x - prior.loc) / prior.scale) / prior.shape

    return to_z(prior.low), to_z(prior.high)


def uniform(low: Tensor | float, high: Tensor | float, shape: tuple[int, ...], generator: torch.Generator) -> Tensor:
    """U(low, high) draws on the generator's device (float32); low/high broadcast against ``shape``."""
    u = torch.rand(shape, generator=generator, device=generator.device)
    return low + (high - low) * u


def sample_truncated_lognormal(prior: TruncatedLognormal, n: int, generator: torch.Generator) -> Tensor:
    """n draws of loc + scale·exp(shape·Z), Z ~ N(0, 1) truncated so that x ∈ [low, high] (exact inverse CDF).

    Z = Φ⁻¹(U), U ~ U(Φ(z_low), Φ(z_high)), with Φ⁻¹ = ``torch.special.ndtri``; the same distribution as
    :meth:`skyssl.surveys.priors.TruncatedLognormal.sample`.
    """
    z_low, z_high = _z_bounds(prior)
    u = uniform(_normal_cdf(z_low), _normal_cdf(z_high), (n,), generator)
    x = prior.loc + prior.scale * torch.exp(prior.shape * torch.special.ndtri(u))
    return torch.clamp(x, prior.low, prior.high)


def psf_sigma_px_from_fwhm(psfsize_arcsec: Tensor, pixel_scale: float) -> Tensor:
    """Gaussian PSF σ in pixels from a FWHM in arcsec: FWHM / 2.3548 / pixel scale."""
    return psfsize_arcsec / (FWHM_PER_SIGMA * pixel_scale)


def noise_sigma_from_psfdepth(psfdepth: Tensor, psfsize_arcsec: Tensor, pixel_scale: float) -> Tensor:
    """Per-pixel noise σ (nmgy) from DR9 ``psfdepth`` (nmgy⁻²) and ``psfsize`` (FWHM arcsec).

    psfdepth is the inverse variance of a PSF-weighted point-source flux, 1/(σ_pix² · NEA) with the
    noise-equivalent area NEA = 4π σ_psf² pixels, hence σ_pix = 1/√(psfdepth · 4π σ_psf²).
    """
    sigma_psf_px = psf_sigma_px_from_fwhm(psfsize_arcsec, pixel_scale)
    return 1.0 / torch.sqrt(psfdepth * 4.0 * math.pi * sigma_psf_px**2)


def valid_or(values: Tensor | None, fallback: Tensor) -> Tensor:
    """Catalogue values where finite and positive, else the fallback draw (same shape)."""
    if values is None:
        return fallback
    values = values.to(device=fallback.device, dtype=fallback.dtype)
    return torch.where(torch.isfinite(values) & (values > 0), values, fallback)


def sample_prior_conditions(survey: Survey, n: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """(PSF σ px, pixel noise σ nmgy), each (n, C), drawn from the survey's condition priors."""
    cond = survey.conditions
    if isinstance(cond, IndependentBandConditions):
        psf = torch.stack([sample_truncated_lognormal(p, n, generator) for p in cond.psf_sigma_px], 1)
        noise = torch.stack([sample_truncated_lognormal(p, n, generator) for p in cond.noise_sigma_nmgy], 1)
        return psf, noise
    if isinstance(cond, SimultaneousBandConditions):
        device = generator.device
        medians = torch.tensor(cond.fwhm_median_arcsec, device=device)
        field = 10.0 ** (cond.seeing_dex * torch.randn((n, 1), generator=generator, device=device))
        per_band = 1.0 + cond.band_scatter * torch.randn((n, medians.numel()), generator=generator, device=device)
        fwhm = torch.clamp(medians * field * per_band, cond.fwhm_low_arcsec, cond.fwhm_high_arcsec)
        scatter = torch.exp(cond.noise_shape * torch.randn((n, medians.numel()), generator=generator, device=device))
        noise = median_noise_sigma_nmgy(survey).to(device) * scatter
        return psf_sigma_px_from_fwhm(fwhm, survey.pixel_scale_arcsec), noise
    raise TypeError(f"no torch sampler for conditions of type {type(cond).__name__}")


def uniform_bounds(survey: Survey) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """(psf_low, psf_high, noise_low, noise_high) per band for the authors' uniform σ_final draws.

    For truncated-lognormal priors these are the truncation bounds — exactly the authors' DR9 ranges,
    e.g. PSF σ U(1.3233, 5) px and noise U(0.001094, 0.013) nmgy in g. Priors without noise bounds
    (SDSS) use the FWHM clip range and median·exp(±2·shape) for the noise.
    """
    cond = survey.conditions
    if isinstance(cond, IndependentBandConditions):
        psf = cond.psf_sigma_px
        noise = cond.noise_sigma_nmgy
        return (torch.tensor([p.low for p in psf]), torch.tensor([p.high for p in psf]),
                torch.tensor([p.low for p in noise]), torch.tensor([p.high for p in noise]))
    if isinstance(cond, SimultaneousBandConditions):
        n_bands = len(cond.fwhm_median_arcsec)
        to_px = 1.0 / (FWHM_PER_SIGMA * survey.pixel_scale_arcsec)
        median = median_noise_sigma_nmgy(survey)
        spread = math.exp(UNIFORM_NOISE_HALF_WIDTH_SIGMAS * cond.noise_shape)
        return (torch.full((n_bands,), cond.fwhm_low_arcsec * to_px), torch.full((n_bands,), cond.fwhm_high_arcsec * to_px),
                median / spread, median * spread)
    raise TypeError(f"no uniform bounds for conditions of type {type(cond).__name__}")


def sample_uniform_conditions(survey: Survey, n: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """(PSF σ px, pixel noise σ nmgy), each (n, C), uniform within :func:`uniform_bounds`."""
    psf_low, psf_high, noise_low, noise_high = (b.to(generator.device) for b in uniform_bounds(survey))
    psf = uniform(psf_low, psf_high, (n, psf_low.numel()), generator)
    noise = uniform(noise_low, noise_high, (n, noise_low.numel()), generator)
    return psf, noise


def median_noise_sigma_nmgy(survey: Survey) -> Tensor:
    """The survey's typical pixel noise per band (C,), in nmgy: the prior medians."""
    cond = survey.conditions
    if isinstance(cond, IndependentBandConditions):
        return torch.tensor([p.median for p in cond.noise_sigma_nmgy])
    if isinstance(cond, SimultaneousBandConditions):
        m5 = torch.tensor(cond.m5_mag, dtype=torch.float64)
        fwhm = torch.tensor(cond.fwhm_median_arcsec, dtype=torch.float64)
        flux5_nmgy = 10.0 ** (-0.4 * (m5 - 22.5))
        nea = 4.0 * math.pi * psf_sigma_px_from_fwhm(fwhm, survey.pixel_scale_arcsec) ** 2
        return (flux5_nmgy / (5.0 * torch.sqrt(nea))).float()
    raise TypeError(f"no median noise for conditions of type {type(cond).__name__}")


def sample_ebv_prior(survey: Survey, n: int, generator: torch.Generator) -> Tensor:
    """E(B−V) (mag) from the survey's dust prior (SFD over the footprint)."""
    return sample_truncated_lognormal(survey.ebv_prior, n, generator)
