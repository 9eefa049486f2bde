"""Each pure kernel against a slow numpy/scipy reference written from its documented definition."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy import ndimage

from skyssl.augment import affine_views, asinh_stretch, blur_differential, centre_crop, legacy_torgb, redden
from skyssl.augment.blur import gaussian_kernels_1d, noise_retention
from skyssl.augment.geometry import affine_grid_2d, view_theta
from skyssl.augment.stretch import asinh

RNG = np.random.default_rng(7)


def reference_view(image, flip_x, flip_y, angle, scale, shift, out_px, mode, padding):
    """One view of one (C, H, W) image, pixel by pixel from the module's stated map.

    Output offset u = j − n//2 (x, y); input offset d = F R(θ)⁻¹ S⁻¹ (u + shift); input index
    c + d with c = (W//2, H//2); bilinear interpolation; 'reflect' = mirror about the pixel edges.
    """
    _, height, width = image.shape
    sx, sy = (1.0, scale) if mode == "one_axis_legacy" else (scale, scale)
    dx_extra = round(height * scale) // 2 - width // 2 if mode == "one_axis_legacy" else 0
    j = np.arange(out_px) - out_px // 2
    ux, uy = np.meshgrid(j + shift[0] + dx_extra, j + shift[1], indexing="xy")
    vx, vy = ux / sx, uy / sy
    cos, sin = math.cos(angle), math.sin(angle)
    dx, dy = cos * vx + sin * vy, -sin * vx + cos * vy
    dx, dy = (-dx if flip_x else dx), (-dy if flip_y else dy)
    coords = [dy + height // 2, dx + width // 2]
    scipy_mode = "reflect" if padding == "reflection" else "grid-constant"
    return np.stack([ndimage.map_coordinates(plane, coords, order=1, mode=scipy_mode) for plane in image])


def test_redden_matches_numpy():
    images = RNG.normal(1.0, 0.3, size=(4, 3, 8, 8))
    e_old, e_new, r = RNG.uniform(0, 0.2, 4), RNG.uniform(0, 1, 4), np.array([3.214, 2.165, 1.211])
    expected = images * 10 ** (-0.4 * r[None, :, None, None] * (e_new - e_old)[:, None, None, None])
    out = redden(torch.tensor(images), torch.tensor(e_old), torch.tensor(e_new), torch.tensor(r))
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)


@pytest.mark.parametrize("mode", ["isotropic", "one_axis_legacy"])
@pytest.mark.parametrize("padding", ["reflection", "zeros"])
def test_affine_views_match_the_pixel_map(mode, padding):
    images = RNG.normal(size=(4, 2, 41, 37))
    flip_x, flip_y = np.array([0, 1, 0, 1], bool), np.array([0, 0, 1, 1], bool)
    angle, scale = RNG.uniform(0, 2 * np.pi, 4), RNG.uniform(0.8, 1.2, 4)
    shift = RNG.integers(-5, 6, (4, 2)).astype(float)
    out = affine_views(torch.tensor(images), torch.tensor(flip_x), torch.tensor(flip_y), torch.tensor(angle),
                       torch.tensor(scale), torch.tensor(shift), out_px=30, mode=mode, padding=padding)
    for b in range(4):
        expected = reference_view(images[b], flip_x[b], flip_y[b], angle[b], scale[b], shift[b], 30, mode, padding)
        np.testing.assert_allclose(out[b].numpy(), expected, atol=1e-9)


@pytest.mark.parametrize("out_px", [96, 95])
@pytest.mark.parametrize("dtype, atol", [(torch.float64, 1e-10), (torch.float32, 1e-4)])
def test_no_flip_rotation_scale_or_shift_is_the_centre_crop(out_px, dtype, atol):
    """Exact in float64; in float32, grid_sample's own coordinate rounding (~2e-5 px at 152 px) remains."""
    images = torch.tensor(RNG.normal(size=(3, 3, 152, 152)), dtype=dtype)
    zeros, false = torch.zeros(3), torch.zeros(3, dtype=torch.bool)
    out = affine_views(images, false, false, zeros, torch.ones(3), torch.zeros(3, 2), out_px=out_px)
    start = 76 - out_px // 2
    crop = centre_crop(images, out_px)
    assert torch.equal(crop, images[..., start : start + out_px, start : start + out_px])
    torch.testing.assert_close(out, crop, rtol=0, atol=atol)


def test_integer_shift_moves_the_crop_by_whole_pixels():
    images = torch.tensor(RNG.normal(size=(1, 1, 60, 60)))
    false = torch.zeros(1, dtype=torch.bool)
    out = affine_views(images, false, false, torch.zeros(1), torch.ones(1), torch.tensor([[3.0, -2.0]]), out_px=20)
    torch.testing.assert_close(out[0, 0], images[0, 0, 30 - 10 - 2 : 30 + 10 - 2, 30 - 10 + 3 : 30 + 10 + 3])


def test_grid_equals_torch_affine_grid():
    linear = torch.randn(6, 2, 2, dtype=torch.float64)
    theta = view_theta(linear, torch.randn(6, 2, dtype=torch.float64), (152, 140), 96)
    expected = F.affine_grid(theta, [6, 1, 96, 96], align_corners=False)
    torch.testing.assert_close(affine_grid_2d(theta, 96), expected, rtol=0, atol=1e-12)


def test_blur_matches_scipy_gaussian_filter_per_sample_and_band():
    images = RNG.normal(size=(3, 2, 40, 44))
    sigma_true = RNG.uniform(0.5, 2.0, (3, 2))
    sigma_final = sigma_true + RNG.uniform(0.3, 2.0, (3, 2))
    sigma_final[1, 0] = sigma_true[1, 0] - 0.2  # would need sharpening: left alone
    out = blur_differential(torch.tensor(images), torch.tensor(sigma_true), torch.tensor(sigma_final))
    sigma_aug = np.sqrt(np.maximum(sigma_final**2 - sigma_true**2, 0.0))
    radius = math.ceil(4 * sigma_aug.max())
    for b in range(3):
        for c in range(2):
            if sigma_aug[b, c] == 0:
                assert torch.equal(out[b, c], torch.tensor(images[b, c], dtype=out.dtype))
                continue
            expected = ndimage.gaussian_filter(images[b, c], sigma_aug[b, c], mode="mirror", radius=radius)
            np.testing.assert_allclose(out[b, c].numpy(), expected, atol=2e-6)


def test_blur_valid_mode_keeps_only_fully_supported_pixels():
    images = torch.tensor(RNG.normal(size=(2, 1, 30, 30)))
    sigma = torch.full((2, 1), 1.5, dtype=torch.float64)
    kernels = gaussian_kernels_1d(sigma, 6)
    from skyssl.augment.blur import separable_blur
    valid = separable_blur(images, kernels, padding="valid")
    same = separable_blur(images, kernels, padding="reflect")
    assert valid.shape[-2:] == (18, 18)
    torch.testing.assert_close(valid, same[..., 6:-6, 6:-6])


def test_noise_retention_is_the_white_noise_sigma_ratio():
    kernels = gaussian_kernels_1d(torch.tensor([[0.0, 1.0, 2.5]], dtype=torch.float64), 12)
    k = kernels[0].numpy()
    expected = [np.sqrt((np.outer(row, row) ** 2).sum()) for row in k]
    np.testing.assert_allclose(noise_retention(kernels)[0].numpy(), expected, rtol=1e-12)
    assert noise_retention(kernels)[0, 0] == 1.0


def test_asinh_stretch_matches_numpy():
    images = RNG.normal(0, 0.05, (2, 3, 5, 5)) * 10 ** RNG.uniform(-3, 3, (2, 3, 5, 5))
    scale = np.array([0.003, 0.004, 0.012])
    out = asinh_stretch(torch.tensor(images, dtype=torch.float32), scale)
    np.testing.assert_allclose(out.numpy(), np.arcsinh(images / scale[None, :, None, None]), atol=1e-6, rtol=1e-6)
    values = torch.tensor([-1e6, -3.0, -1e-6, 0.0, 1e-8, 0.5, 40.0], dtype=torch.float64)
    np.testing.assert_allclose(asinh(values).numpy(), np.arcsinh(values.numpy()), atol=1e-15, rtol=1e-8)


def test_legacy_torgb_is_the_released_formula():
    images = RNG.normal(0.02, 0.1, (2, 3, 6, 6)).astype(np.float32)
    images[0, :, 0, 0] = -1.0  # every band negative: I = 0 → the viewer's 1e-6
    scales = np.array([6.0, 3.4, 2.2])  # g, r, z
    x = images * scales[None, :, None, None] + 0.03
    intensity = np.maximum(x, 0).mean(axis=1, keepdims=True)
    intensity[intensity == 0] = 1e-6
    fi = np.arcsinh(20 * intensity) / np.sqrt(20)
    rgb = np.clip(images * (scales[None, :, None, None] + 0.03 * fi / intensity), 0, 1)
    expected = rgb[:, [2, 1, 0]]  # planes: z → 0, r → 1, g → 2
    np.testing.assert_allclose(legacy_torgb(torch.tensor(images)).numpy(), expected, atol=1e-6)
    faint = 1e-4
    gain = legacy_torgb(torch.full((1, 3, 1, 1), faint)) / (faint * torch.tensor([2.2, 3.4, 6.0])[None, :, None, None])
    assert ((gain > 1.02) & (gain < 1.06)).all()  # ≈ (1.02–1.06)·s_b·x_b for faint pixels
