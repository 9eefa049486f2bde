"""Galactic reddening as an augmentation: re-observe the object behind a different dust column.

A source seen through E(B−V) = E in band b is dimmed by the transmission T_b(E) = 10^(−0.4 R_b E).
Replacing the dust of the original observation (E_old) by another (E_new) therefore multiplies the
band by T_b(E_new)/T_b(E_old) = 10^(−0.4 R_b (E_new − E_old)). The factor is a per-sample, per-band
constant, so it commutes with every linear spatial op (resampling, blur, crop); the pipeline applies it
on the small crop rather than the full stamp.
"""

from __future__ import annotations

import torch
from torch import Tensor


def reddening_factor(ebv_old_mag: Tensor, ebv_new_mag: Tensor, extinction_r: Tensor) -> Tensor:
    """T(E_new)/T(E_old) per sample and band, shape (B, C): 10^(−0.4 R (E_new − E_old))."""
    delta_mag = ebv_new_mag[:, None] - ebv_old_mag[:, None]
    return torch.pow(10.0, -0.4 * extinction_r[None, :] * delta_mag)


def redden(images: Tensor, ebv_old_mag: Tensor, ebv_new_mag: Tensor, extinction_r: Tensor) -> Tensor:
    """images (B, C, H, W) · 10^(−0.4 R_b (E_new − E_old)); E in mag (B,), R_b = A_b/E(B−V) (C,).

    E_new > E_old dims (and reddens, since R falls with wavelength); E_new < E_old brightens, i.e. a
    partial dereddening. Works on any device and float dtype; the factor is computed in the image dtype.
    """
    extinction_r = torch.as_tensor(extinction_r, dtype=images.dtype, device=images.device)
    factor = reddening_factor(ebv_old_mag.to(images), ebv_new_mag.to(images), extinction_r)
    return images * factor[:, :, None, None]
