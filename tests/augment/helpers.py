"""Analytic sources and moment measurements shared by the augmentation tests."""

from __future__ import annotations

import torch

from skyssl.augment.draws import ViewDraws


def gaussian_source(size_px: int, sigma_px: float, n_bands: int = 3, batch: int = 1,
                    centre: tuple[float, float] | None = None, dtype=torch.float64) -> torch.Tensor:
    """(batch, n_bands, size, size) round Gaussian of unit total flux centred on pixel size//2."""
    cx, cy = centre if centre is not None else (size_px // 2, size_px // 2)
    idx = torch.arange(size_px, dtype=dtype)
    yy, xx = torch.meshgrid(idx, idx, indexing="ij")
    profile = torch.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * sigma_px**2))
    profile = profile / profile.sum()
    return profile.expand(batch, n_bands, size_px, size_px).clone()


def moments(image: torch.Tensor) -> tuple[float, float, float, float]:
    """(centroid x, centroid y, variance x, variance y) of one 2-D image, in pixels."""
    idx = torch.arange(image.shape[-1], dtype=image.dtype)
    total = image.sum()
    mx = float((image.sum(0) * idx).sum() / total)
    my = float((image.sum(1) * idx).sum() / total)
    vx = float((image.sum(0) * (idx - mx) ** 2).sum() / total)
    vy = float((image.sum(1) * (idx - my) ** 2).sum() / total)
    return mx, my, vx, vy


def fixed_draws(batch: int, n_bands: int, **values) -> ViewDraws:
    """Identity view parameters (no flip, 0°, s = 1, no shift, no reddening, σ_final = σ_true = 1)."""
    defaults = {
        "ebv_old_mag": torch.zeros(batch), "ebv_new_mag": torch.zeros(batch),
        "flip_x": torch.zeros(batch, dtype=torch.bool), "flip_y": torch.zeros(batch, dtype=torch.bool),
        "angle_rad": torch.zeros(batch), "scale": torch.ones(batch), "shift_px": torch.zeros(batch, 2),
        "psf_true_px": torch.ones(batch, n_bands), "psf_final_px": torch.ones(batch, n_bands),
        "noise_true_nmgy": torch.full((batch, n_bands), 0.01), "noise_final_nmgy": torch.full((batch, n_bands), 0.01),
    }
    for name, value in values.items():
        defaults[name] = torch.as_tensor(value, dtype=defaults[name].dtype).expand_as(defaults[name]).clone()
    return ViewDraws(**defaults)
