"""Flips, rotation, size scale, jitter and crop as one affine resample per view.

The authors run four numpy ops one image at a time (flip, rotate the full 152² stamp, rescale it,
crop). All four are affine maps of the pixel grid, so their composition is one affine map: each output
pixel is sampled once, with one bilinear interpolation, by ``affine_grid`` + ``grid_sample`` over the
whole batch. One resample instead of two also blurs the view less (the authors interpolate twice).

Pixel conventions (all in pixel-index units, pixel i covering [i − ½, i + ½]):

- The input centre is the pixel (H//2, W//2), where a cutout service puts the object (pixel 76 of a
  152 px DR9 stamp). Flips, rotation and scale all keep that point fixed.
- The output centre is pixel n//2 of the n-pixel crop. It samples the input centre plus the jitter
  shift, so with no flip, rotation, scale or shift the view is exactly ``images[..., c−n//2 : c−n//2+n]``
  for c = H//2 (W//2 along x) — the authors' centre crop.
- ``grid_sample`` uses ``align_corners=False``: normalised −1/+1 are the outer edges of the first/last
  pixel, the convention under which the map above is written.
- Forward map of an input offset d from the centre: flip F, then rotate R(θ), then scale S, then crop
  at the shifted centre: u = S R F d − shift. ``grid_sample`` needs the inverse, d = F R⁻¹ S⁻¹ (u + shift).
- Offsets are (x, y) = (column, row). R(θ) turns +x towards +y; with rows drawn upwards (north up, as
  :mod:`skyssl.viz.grid` shows sheets) θ > 0 is counter-clockwise. Augmentation draws θ ~ U(0, 2π), so
  the sense matters only for reading a single view.
- Size scale s > 1 magnifies (the object looks bigger); pixel values are kept, as in the authors'
  rescale, so the view keeps the survey's surface brightness and its total flux scales by s².

``mode="one_axis_legacy"`` reproduces the published DR9 behaviour (known bugs 5 and 6): skimage 0.19's
``rescale(..., channel_axis=True)`` on an HWC array rescaled only array axis 0 (here: the rows, y), and
JitterCrop then centred *both* axes at ``round(H·s)//2`` of the rescaled array, which shifts the crop
along the unscaled x axis by ``round(H·s)//2 − W//2`` pixels (−8 … +7 for 152 px and s ∈ [0.9, 1.1]).
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

ScaleMode = Literal["isotropic", "one_axis_legacy"]
Padding = Literal["reflection", "zeros"]


def legacy_centre_offset_px(height_px: int, width_px: int, scale: Tensor) -> Tensor:
    """The x shift of the authors' crop centre after a one-axis rescale (bug 6): round(H·s)//2 − W//2."""
    rescaled_rows = torch.round(height_px * scale)
    return torch.div(rescaled_rows, 2, rounding_mode="floor") - width_px // 2


def inverse_linear_map(flip_x: Tensor, flip_y: Tensor, angle_rad: Tensor, scale_x: Tensor, scale_y: Tensor) -> Tensor:
    """(B, 2, 2) matrix A = F R(θ)⁻¹ S⁻¹ taking an output offset (x, y) to an input offset."""
    cos, sin = torch.cos(angle_rad), torch.sin(angle_rad)
    fx = 1.0 - 2.0 * flip_x.to(cos.dtype)
    fy = 1.0 - 2.0 * flip_y.to(cos.dtype)
    # R(θ)⁻¹ = [[cos, sin], [−sin, cos]]; rows scaled by the flips, columns divided by the scales.
    a00 = fx * cos / scale_x
    a01 = fx * sin / scale_y
    a10 = -fy * sin / scale_x
    a11 = fy * cos / scale_y
    return torch.stack([torch.stack([a00, a01], -1), torch.stack([a10, a11], -1)], -2)


def view_theta(
    linear: Tensor, shift_px: Tensor, in_hw: tuple[int, int], out_px: int
) -> Tensor:
    """(B, 2, 3) ``affine_grid`` matrix: output normalised (x, y) → input normalised (x, y).

    Output pixel j has normalised coordinate g = (2j + 1)/n − 1, so its offset from the output centre
    is u = (n/2) g + (n − 1)/2 − n//2. The input index is i = c + A (u + shift), and its normalised
    coordinate (2i + 1)/W − 1 (per axis; W for x, H for y).
    """
    height, width = in_hw
    dtype, device = linear.dtype, linear.device
    half_out = out_px / 2.0
    base_offset = (out_px - 1) / 2.0 - out_px // 2
    centre = torch.tensor([width // 2, height // 2], dtype=dtype, device=device)
    to_norm = torch.tensor([2.0 / width, 2.0 / height], dtype=dtype, device=device)
    norm_offset = torch.tensor([1.0 / width - 1.0, 1.0 / height - 1.0], dtype=dtype, device=device)
    offset = base_offset + shift_px.to(dtype)  # (B, 2): input-side u at g = 0, before A
    index_at_zero = centre + torch.einsum("bij,bj->bi", linear, offset)
    theta_linear = to_norm[None, :, None] * linear * half_out
    theta_shift = to_norm * index_at_zero + norm_offset
    return torch.cat([theta_linear, theta_shift[:, :, None]], dim=2)


def affine_grid_2d(theta: Tensor, out_px: int) -> Tensor:
    """``F.affine_grid(theta, (B, C, n, n), align_corners=False)``, built by broadcasting.

    The same numbers (tested equal): g = θ · (x, y, 1) at the output pixel centres x, y = (2j + 1)/n − 1.
    ``affine_grid`` forms them with a batched (n², 3) × (3, 2) matrix product, which on a CPU costs as
    much as the bilinear sampling itself; an outer sum of two length-n vectors per output axis does not.
    """
    base = (2.0 * torch.arange(out_px, dtype=theta.dtype, device=theta.device) + 1.0) / out_px - 1.0
    grid = torch.empty((theta.shape[0], out_px, out_px, 2), dtype=theta.dtype, device=theta.device)
    for k in (0, 1):  # one full-size pass per output coordinate: (row term) + (column term + offset)
        column_part = theta[:, k, 0, None] * base[None, :] + theta[:, k, 2, None]  # (B, n) over x
        row_part = theta[:, k, 1, None] * base[None, :]  # (B, n) over y
        torch.add(row_part[:, :, None], column_part[:, None, :], out=grid[..., k])
    return grid


def affine_views(
    images: Tensor,
    flip_x: Tensor,
    flip_y: Tensor,
    angle_rad: Tensor,
    scale: Tensor,
    shift_px: Tensor,
    out_px: int,
    mode: ScaleMode = "isotropic",
    padding: Padding = "reflection",
) -> Tensor:
    """Flip, rotate, size-scale, jitter and crop a batch in one bilinear resample → (B, C, n, n).

    images (B, C, H, W); flip_x / flip_y (B,) bool (mirror x → −x / y → −y about the centre pixel);
    angle_rad (B,); scale (B,) magnification; shift_px (B, 2) as (x, y) in output pixels; out_px = n.
    ``padding``: what is sampled beyond the stamp — ``reflection`` (mirror about the stamp edge, so sky
    noise continues; our default) or ``zeros`` (the authors' constant-0 rotation fill).
    See the module notes for the exact pixel conventions.
    """
    if images.ndim != 4:
        raise ValueError(f"affine_views needs images (B, C, H, W), not {tuple(images.shape)}")
    if mode not in ("isotropic", "one_axis_legacy"):
        raise ValueError(f"size scale mode must be 'isotropic' or 'one_axis_legacy', not {mode!r}")
    height, width = images.shape[-2:]
    work = torch.float64 if images.device.type in ("cpu", "cuda") else torch.float32
    scale = scale.to(device=images.device, dtype=work)
    shift = shift_px.to(device=images.device, dtype=work)
    if mode == "one_axis_legacy":
        scale_x, scale_y = torch.ones_like(scale), scale
        shift = shift + torch.stack([legacy_centre_offset_px(height, width, scale), torch.zeros_like(scale)], -1)
    else:
        scale_x = scale_y = scale
    linear = inverse_linear_map(flip_x.to(images.device), flip_y.to(images.device),
                                angle_rad.to(device=images.device, dtype=work), scale_x, scale_y)
    theta = view_theta(linear, shift, (height, width), out_px)
    grid = affine_grid_2d(theta.to(images.dtype), out_px)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode=padding, align_corners=False)


def centre_crop(images: Tensor, out_px: int) -> Tensor:
    """The unshifted crop ``images[..., c−n//2 : c−n//2+n]`` (c = H//2, W//2) — what every view centres on."""
    height, width = images.shape[-2:]
    if out_px > height or out_px > width:
        raise ValueError(f"crop of {out_px} px does not fit images of {height}×{width} px")
    top, left = height // 2 - out_px // 2, width // 2 - out_px // 2
    return images[..., top : top + out_px, left : left + out_px]
