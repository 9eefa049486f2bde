"""Differential pixel noise: make a view look as if it had been observed to a shallower depth.

An image already carries sky noise of σ_true (nmgy per pixel). Adding independent Gaussian noise of
√max(0, σ_final² − σ_true²) gives a total of σ_final, because independent variances add. Only a
shallower depth can be simulated: where σ_final ≤ σ_true nothing is added.
"""

from __future__ import annotations

import torch
from torch import Tensor


def added_noise_sigma(sigma_true_nmgy: Tensor, sigma_final_nmgy: Tensor) -> Tensor:
    """√max(0, σ_final² − σ_true²) per sample and band (B, C), in nmgy."""
    return torch.sqrt(torch.clamp(sigma_final_nmgy**2 - sigma_true_nmgy**2, min=0.0))


def add_noise_differential(
    images: Tensor, sigma_true_nmgy: Tensor, sigma_final_nmgy: Tensor, generator: torch.Generator
) -> Tensor:
    """images (B, C, H, W) + N(0, σ_final² − σ_true²) per sample and band; σ in nmgy, shapes (B, C).

    The normal draws come from ``generator`` on its own device (one draw per pixel, always, so the
    stream does not depend on the σ values) and are moved to the images' device; give a generator on
    the images' device to avoid the copy. Same generator state → same noise on the same device.
    """
    sigma = added_noise_sigma(sigma_true_nmgy.to(images.device, images.dtype),
                              sigma_final_nmgy.to(images.device, images.dtype))
    draws = torch.randn(images.shape, generator=generator, device=generator.device, dtype=images.dtype)
    return torch.addcmul(images, draws.to(images.device), sigma[:, :, None, None])
