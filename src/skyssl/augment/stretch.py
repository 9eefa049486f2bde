"""Network-input transforms: nanomaggies → the numbers the encoder sees.

These are not display RGB (that is :mod:`skyssl.viz.rgb`, for people); changing a sheet's look must
never change a model's input, so the two live apart and have different names.

- :func:`asinh_stretch` (our default): asinh(x / a_b) per band. Linear with unit slope in units of a_b
  for |x| ≲ a_b and logarithmic above, so the sky (a_b ≈ the survey's typical pixel noise) keeps its
  noise texture, faint structure is visible and bright cores are compressed instead of clipped.
  Negative sky stays negative (asinh is odd), so no information is thrown away.
- :func:`legacy_torgb`: the authors' ToRGB exactly as coded in the DR9 release (§4.1 of the reference;
  known bug 7): nearly linear, negative sky zeroed and cores clipped at ≈0.16–0.45 nmgy/px. Offered
  for the ``paper_faithful`` profile and for running the published DR9 checkpoints.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

LEGACY_TORGB_SCALES = {"g": 6.0, "r": 3.4, "z": 2.2}
LEGACY_TORGB_PLANES = {"g": 2, "r": 1, "z": 0}  # output channel order z, r, g
LEGACY_TORGB_OFFSET = 0.03
LEGACY_TORGB_Q = 20.0
ZERO_INTENSITY = 1e-6  # as in the viewer mapping: I = 0 would divide by zero


def asinh(values: Tensor) -> Tensor:
    """asinh(v) = sign(v)·ln(|v| + √(v² + 1)), to ~4·10⁻⁷ absolute in float32.

    The same function as ``torch.asinh``, written with vectorised log and sqrt because the CPU kernel
    of ``torch.asinh`` is 4–7× slower here (it was the single largest cost of a CPU batch). The absolute
    error is that of ``torch.asinh``; only the relative error of |v| < 10⁻⁴ is worse, which a network
    input does not see. Valid for |v| < 10¹⁹ (v² must not overflow), far beyond any nmgy/noise ratio.
    """
    magnitude = values.abs()
    return magnitude.square().add_(1.0).sqrt_().add_(magnitude).log_().copysign_(values)


def asinh_stretch(images: Tensor, scale_per_band: Sequence[float] | Tensor) -> Tensor:
    """asinh(x_b / a_b) for images (B, C, H, W) in nmgy and softening scales a_b (C,) in nmgy."""
    scale = torch.as_tensor(scale_per_band, dtype=images.dtype, device=images.device)
    if scale.shape != (images.shape[1],):
        raise ValueError(f"{tuple(scale.shape)} asinh scales for images with {images.shape[1]} bands")
    return asinh(images / scale[None, :, None, None])


def legacy_torgb(images: Tensor) -> Tensor:
    """The DR9 release's ToRGB on g, r, z images (B, 3, H, W) → (B, 3, H, W) in channel order z, r, g.

    As coded: with scales s = (6.0, 3.4, 2.2) for (g, r, z), m = 0.03 and Q = 20,
    I = mean_b max(0, x_b s_b + m), f = asinh(Q I)/√Q, out_b = clip(x_b (s_b + m f/I), 0, 1), and band
    b goes to plane g → 2, r → 1, z → 0. Since f/I ≈ √Q for small I this is ≈ clip((1.02–1.06) s_b x_b).
    """
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"legacy ToRGB needs g, r, z images (B, 3, H, W), not {tuple(images.shape)}")
    bands = ("g", "r", "z")
    scales = torch.tensor([LEGACY_TORGB_SCALES[b] for b in bands], dtype=images.dtype, device=images.device)
    scales = scales[None, :, None, None]
    intensity = torch.clamp(images * scales + LEGACY_TORGB_OFFSET, min=0.0).mean(dim=1, keepdim=True)
    intensity = torch.where(intensity == 0, torch.full_like(intensity, ZERO_INTENSITY), intensity)
    ratio = asinh(LEGACY_TORGB_Q * intensity) / math.sqrt(LEGACY_TORGB_Q) / intensity
    planes = torch.clamp(images * (scales + LEGACY_TORGB_OFFSET * ratio), 0.0, 1.0)
    order = [bands.index(b) for b in sorted(bands, key=LEGACY_TORGB_PLANES.__getitem__)]
    return planes[:, order]
