"""The random parameters of a batch of views, drawn in one fixed order from one generator.

Every parameter is drawn for every view whether or not its op is in the spec, and always in the order
below, so the same seed gives the same rotation whether or not blur is switched on, and the random
stream never depends on the data (e.g. on how many catalogue values were missing). Ops that are off
simply ignore their parameters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from skyssl.augment import conditions as cond
from skyssl.augment.spec import AugmentConfig
from skyssl.surveys import Survey


@dataclass(frozen=True)
class ViewDraws:
    """Per-view parameters on the generator's device; (B,) unless marked (B, C) or (B, 2)."""

    ebv_old_mag: Tensor
    ebv_new_mag: Tensor
    flip_x: Tensor
    flip_y: Tensor
    angle_rad: Tensor
    scale: Tensor
    shift_px: Tensor  # (B, 2) integer-valued, (x, y)
    psf_true_px: Tensor  # (B, C)
    psf_final_px: Tensor  # (B, C)
    noise_true_nmgy: Tensor  # (B, C)
    noise_final_nmgy: Tensor  # (B, C)

    def to(self, device: torch.device) -> ViewDraws:
        return ViewDraws(**{name: getattr(self, name).to(device) for name in self.__dataclass_fields__})


def catalog_conditions(
    survey: Survey, psfsize: Tensor | None, psfdepth: Tensor | None, psf_prior: Tensor, noise_prior: Tensor
) -> tuple[Tensor, Tensor]:
    """σ_true (PSF px, noise nmgy) from ``psfsize``/``psfdepth``, each value falling back to its prior draw."""
    device, pixel_scale = psf_prior.device, survey.pixel_scale_arcsec
    if psfsize is None:
        return psf_prior, noise_prior
    psfsize = psfsize.to(device=device, dtype=torch.float32)
    psf_true = cond.valid_or(cond.psf_sigma_px_from_fwhm(psfsize, pixel_scale), psf_prior)
    if psfdepth is None:
        return psf_true, noise_prior
    noise = cond.noise_sigma_from_psfdepth(psfdepth.to(device=device, dtype=torch.float32), psfsize, pixel_scale)
    return psf_true, cond.valid_or(noise, noise_prior)


def draw_views(
    config: AugmentConfig,
    survey: Survey,
    batch: int,
    generator: torch.Generator,
    ebv: Tensor | None = None,
    psfsize: Tensor | None = None,
    psfdepth: Tensor | None = None,
) -> ViewDraws:
    """Draw the parameters of ``batch`` views; catalogue columns may be None (→ prior draws).

    E_old and σ_true come from the catalogue when the config says ``catalog`` (falling back to prior
    draws per value, see :mod:`skyssl.augment.conditions`), else from the priors (the authors'
    behaviour). E_new is the dust prior or U(0, ebv_uniform_max_mag); σ_final the condition priors or
    uniform within their bounds. Flips are fair coins, θ ~ U(0, 2π), s ~ U(scale_range), and the jitter
    is an integer in [−jitter_px, jitter_px] per axis (zero for a centre crop ``cc``).
    """
    device = generator.device
    ebv_prior_old = cond.sample_ebv_prior(survey, batch, generator)
    ebv_prior_new = cond.sample_ebv_prior(survey, batch, generator)
    ebv_uniform_new = cond.uniform(0.0, config.ebv_uniform_max_mag, (batch,), generator)
    flips = torch.rand((batch, 2), generator=generator, device=device) < 0.5
    angle = cond.uniform(0.0, 2.0 * math.pi, (batch,), generator)
    low, high = config.scale_range
    scale = cond.uniform(low, high, (batch,), generator)
    shift = torch.randint(-config.jitter_px, config.jitter_px + 1, (batch, 2), generator=generator,
                          device=device).to(torch.float32)
    psf_prior_true, noise_prior_true = cond.sample_prior_conditions(survey, batch, generator)
    psf_prior_final, noise_prior_final = cond.sample_prior_conditions(survey, batch, generator)
    psf_uniform_final, noise_uniform_final = cond.sample_uniform_conditions(survey, batch, generator)

    if config.ebv_old == "catalog" and ebv is not None:  # E(B−V) = 0 is valid; NaN or < 0 falls back
        ebv = ebv.to(device=device, dtype=ebv_prior_old.dtype)
        ebv_old = torch.where(torch.isfinite(ebv) & (ebv >= 0), ebv, ebv_prior_old)
    else:
        ebv_old = ebv_prior_old
    if config.sigma_true == "catalog":
        psf_true, noise_true = catalog_conditions(survey, psfsize, psfdepth, psf_prior_true, noise_prior_true)
    else:
        psf_true, noise_true = psf_prior_true, noise_prior_true
    uniform_final = config.sigma_final == "uniform"
    return ViewDraws(
        ebv_old_mag=ebv_old,
        ebv_new_mag=ebv_uniform_new if config.ebv_new == "uniform" else ebv_prior_new,
        flip_x=flips[:, 0],
        flip_y=flips[:, 1],
        angle_rad=angle,
        scale=scale,
        shift_px=shift if config.has("jc") else torch.zeros_like(shift),
        psf_true_px=psf_true,
        psf_final_px=psf_uniform_final if uniform_final else psf_prior_final,
        noise_true_nmgy=noise_true,
        noise_final_nmgy=noise_uniform_final if uniform_final else noise_prior_final,
    )
