"""Where real-space layers are drawn: windows, frames, Gaussian chains and normalised placement.

Every layer in :mod:`skyssl.sim.morphology` and :mod:`skyssl.sim.artefacts` is an array
(C, G·os, G·os) in nmgy per sub-pixel on the padded, oversampled grid of a `RenderGrid` (see
:mod:`skyssl.sim.scene` for the conventions). A feature's light sits in a small part of that grid, so
its profile is evaluated only on the axis-aligned window that holds its truncation ellipse and then
added into the layer — that, float32 arithmetic and separable products for sums of Gaussians keep each
layer at ≲ 1 ms on a 192-pixel grid at os = 2 (a disk filling the whole grid: ~1.3 ms).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from skyssl.sim.scene import RenderGrid

DEFAULT_BANDS = {3: ("g", "r", "z"), 5: ("u", "g", "r", "i", "z")}
"""The band list assumed from a band count when a caller gives none (Legacy Surveys, SDSS)."""

BAND_WAVELENGTH_AA = {"u": 3550.0, "g": 4750.0, "r": 6300.0, "i": 7500.0, "z": 9000.0}
"""Effective wavelengths shared by DECam/BASS/MzLS and SDSS filters of the same name (within ~3 %),
for layers whose strength scales smoothly with wavelength (dust lanes, stellar wings)."""


def default_bands(n_bands: int, bands: tuple[str, ...] | None = None) -> tuple[str, ...]:
    """`bands` if given, else the DR9 (3) or SDSS (5) band names; other counts must be explicit."""
    if bands is not None:
        if len(bands) != n_bands:
            raise ValueError(f"{len(bands)} band names for {n_bands} bands")
        return tuple(bands)
    if n_bands not in DEFAULT_BANDS:
        raise ValueError(f"no default band names for {n_bands} bands; pass bands=")
    return DEFAULT_BANDS[n_bands]


def band_wavelengths_aa(bands: tuple[str, ...]) -> np.ndarray:
    """Effective wavelength (Å) of each named band; unknown names fail loudly."""
    unknown = [b for b in bands if b not in BAND_WAVELENGTH_AA]
    if unknown:
        raise ValueError(f"no effective wavelength for band(s) {unknown}; known: {sorted(BAND_WAVELENGTH_AA)}")
    return np.array([BAND_WAVELENGTH_AA[b] for b in bands])


def resolve_params(params, rng: np.random.Generator | None, draw):
    """`params` if given, else `draw(rng)`: renderers take a drawn record or the rng to draw one."""
    if params is not None:
        return params
    if rng is None:
        raise ValueError("pass either params or an rng to draw them from")
    return draw(rng)


def subpixel_arcsec(grid: RenderGrid) -> float:
    """Side of one sub-pixel of the oversampled grid, arcsec."""
    return grid.pixel_scale_arcsec / grid.oversample


LAYER_DTYPE = np.float32
"""Layers are float32: the Fourier renderer bins them in float64 and transforms in float32, and half
the bytes halves the cost of touching a fresh (C, 384, 384) array, which dominates the cheap layers."""


def empty_layer(grid: RenderGrid, n_bands: int) -> np.ndarray:
    """A zero layer (C, G·os, G·os) in nmgy per sub-pixel."""
    m = grid.grid_px * grid.oversample
    return np.zeros((n_bands, m, m), dtype=LAYER_DTYPE)


def target_layer(grid: RenderGrid, n_bands: int, out: np.ndarray | None) -> np.ndarray:
    """`out` (checked) to add into, or a fresh zero layer — every renderer's `out=` convention.

    Adding several features into one cutout's layer avoids allocating and summing a full
    (C, G·os, G·os) array per feature; without `out` the renderers are pure.
    """
    if out is None:
        return empty_layer(grid, n_bands)
    m = grid.grid_px * grid.oversample
    if out.shape != (n_bands, m, m):
        raise ValueError(f"out has shape {out.shape}, expected ({n_bands}, {m}, {m})")
    return out


def rotation(angle_rad: float) -> np.ndarray:
    """The 2×2 matrix taking sky offsets (dx, dy) into a frame whose +x axis lies at `angle_rad`."""
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    return np.array([[c, s], [-s, c]])


def disk_matrix(q: float, pa_rad: float) -> np.ndarray:
    """Sky offsets → area-preserving disk-plane coordinates (u, v) of a disk with axis ratio q.

    u = √q·x′, v = y′/√q in the frame of the major axis, so √(u² + v²) is the circularised radius of
    :mod:`skyssl.sim.scene` and the azimuth atan2(v, u) is the angle in the (face-on) disk plane.
    The map has unit Jacobian, so sums over sub-pixels need no correction.
    """
    sq = np.sqrt(q)
    return np.diag([sq, 1.0 / sq]) @ rotation(pa_rad)


def to_sky(matrix: np.ndarray, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Frame coordinates back to sky offsets (dx, dy), the inverse of `matrix`."""
    inv = np.linalg.inv(matrix)
    return inv[0, 0] * u + inv[0, 1] * v, inv[1, 0] * u + inv[1, 1] * v


@dataclass(frozen=True)
class Window:
    """An axis-aligned block of the oversampled grid and its sub-pixel offsets from a centre."""

    rows: slice
    cols: slice
    dx_arcsec: np.ndarray  # (1, nx)
    dy_arcsec: np.ndarray  # (ny, 1)

    @property
    def is_empty(self) -> bool:
        return self.dx_arcsec.size == 0 or self.dy_arcsec.size == 0


def window(grid: RenderGrid, x_arcsec: float, y_arcsec: float, half_width_arcsec: float,
           half_height_arcsec: float) -> Window:
    """The sub-pixels whose centres lie within the box centre ± half sizes, clipped to the grid."""
    c = grid.subpixel_centres_arcsec()
    c0, c1 = np.searchsorted(c, [x_arcsec - half_width_arcsec, x_arcsec + half_width_arcsec])
    r0, r1 = np.searchsorted(c, [y_arcsec - half_height_arcsec, y_arcsec + half_height_arcsec])
    return Window(slice(r0, r1), slice(c0, c1), (c[c0:c1] - x_arcsec)[None, :],
                  (c[r0:r1] - y_arcsec)[:, None])


def frame(grid: RenderGrid, x_arcsec: float, y_arcsec: float, matrix: np.ndarray,
          half_axes: tuple[float, float]) -> tuple[Window, np.ndarray, np.ndarray]:
    """The window holding the ellipse (u/a)² + (v/b)² ≤ 1 and the frame coordinates (u, v) on it.

    (u, v) = matrix · (dx, dy). The ellipse's bounding box follows from the rows of the inverse map,
    so a thin, tilted feature gets a tight window rather than a square around its longest axis.
    (u, v) are float32 (errors ~1e-6″): single-precision transcendentals are SIMD-vectorised and several
    times faster, and the layer itself is accumulated in float64.
    """
    a, b = half_axes
    inv = np.linalg.inv(np.diag([1.0 / a, 1.0 / b]) @ matrix)
    win = window(grid, x_arcsec, y_arcsec, float(np.hypot(*inv[0])), float(np.hypot(*inv[1])))
    dx, dy = win.dx_arcsec.astype(np.float32), win.dy_arcsec.astype(np.float32)
    (m00, m01), (m10, m11) = matrix.tolist()  # Python floats keep the float32 arrays float32
    return win, m00 * dx + m01 * dy, m10 * dx + m11 * dy


def add_normalised(layer: np.ndarray, win: Window, profile: np.ndarray, flux_nmgy: np.ndarray) -> None:
    """layer[:, window] += flux_b · profile / Σ profile — the layer's own buffer, filled in place.

    Normalising the sampled profile on the grid makes the layer's sum equal the flux to float32
    rounding (~1e-7), whatever the truncation or the sampling; a profile that misses the grid
    entirely adds nothing.
    """
    total = float(profile.sum(dtype=np.float64))
    if total <= 0.0 or win.is_empty:
        return
    scale = np.asarray(flux_nmgy, dtype=np.float64) / total
    profile = profile.astype(layer.dtype, copy=False)
    for b in range(layer.shape[0]):  # per band (C ≤ 5): no (C, ny, nx) float64 temporary
        if scale[b] != 0.0:
            layer[b, win.rows, win.cols] += float(scale[b]) * profile


def _axis_gaussians(centres_arcsec: np.ndarray, mu: np.ndarray, sigma: np.ndarray,
                    step_arcsec: float) -> np.ndarray:
    """(k, n) 1-D unit-flux Gaussians integrated over sub-pixels of width `step_arcsec`.

    Wide Gaussians (σ ≥ one sub-pixel) are sampled at the centres with the sub-pixel box folded into
    the variance (σ² + step²/12), which is exact to ~1e-9 in flux; narrower ones use the exact erf
    difference so that a 0.1″ spike or clump keeps its flux on a 0.13″ sub-pixel.
    """
    d = centres_arcsec[None, :] - mu[:, None]
    out = np.empty_like(d)
    wide = sigma >= step_arcsec
    if wide.any():
        s_eff = np.sqrt(sigma[wide] ** 2 + step_arcsec**2 / 12.0)[:, None]
        z2 = (d[wide] / s_eff) ** 2
        # zero beyond 8σ (1e-14 of peak): denormal tails would slow the matrix product ~100×
        out[wide] = np.where(z2 < 64.0, np.exp(-0.5 * np.minimum(z2, 64.0)), 0.0) * (
            step_arcsec / (np.sqrt(2 * np.pi) * s_eff))
    if not wide.all():
        s, half = sigma[~wide][:, None], 0.5 * step_arcsec
        z = d[~wide] / s
        mass = special.ndtr(z + half / s) - special.ndtr(z - half / s)
        out[~wide] = np.where(np.abs(z) < 8.0 + half / s, mass, 0.0)
    return out


def gaussian_blobs(grid: RenderGrid, x_arcsec: np.ndarray, y_arcsec: np.ndarray, sigma_arcsec: np.ndarray,
                   weight: np.ndarray) -> tuple[Window, np.ndarray]:
    """Σ_k w_k · round Gaussian_k on the window covering all blobs (±5σ), as (window, profile).

    A round Gaussian is separable, so the sum is one matrix product (ny × k)·(k × nx) — a chain of a
    hundred nodes along a tidal tail costs a fraction of a millisecond.
    Each blob carries w_k of the total where it lies fully on the grid.
    """
    x, y = np.atleast_1d(x_arcsec).astype(float), np.atleast_1d(y_arcsec).astype(float)
    sigma = np.broadcast_to(np.asarray(sigma_arcsec, dtype=float), x.shape)
    weight = np.broadcast_to(np.asarray(weight, dtype=float), x.shape)
    reach = 5.0 * sigma
    x0, x1 = float(np.min(x - reach)), float(np.max(x + reach))
    y0, y1 = float(np.min(y - reach)), float(np.max(y + reach))
    win = window(grid, 0.5 * (x0 + x1), 0.5 * (y0 + y1), 0.5 * (x1 - x0), 0.5 * (y1 - y0))
    if win.is_empty:
        return win, np.zeros((win.dy_arcsec.size, win.dx_arcsec.size))
    cx = win.dx_arcsec[0] + 0.5 * (x0 + x1)
    cy = win.dy_arcsec[:, 0] + 0.5 * (y0 + y1)
    step = subpixel_arcsec(grid)
    gx = _axis_gaussians(cx, x, sigma, step)
    gy = _axis_gaussians(cy, y, sigma, step)
    # einsum's own loop, not BLAS: these products are small (k ≲ 200, window ≲ 384²), and a threaded
    # BLAS call on a busy machine can stall for a scheduler slice (~30 ms) instead of taking ~0.1 ms
    return win, np.einsum("ki,kj->ij", gy * weight[:, None], gx)


def resample_track(x_arcsec: np.ndarray, y_arcsec: np.ndarray, sigma_arcsec: np.ndarray,
                   line_density: np.ndarray, spacing_per_sigma: float = 1.0) -> tuple[np.ndarray, ...]:
    """Nodes of a Gaussian chain along a finely sampled track, spaced ≤ `spacing_per_sigma`·σ.

    Round Gaussians spaced by d ≤ σ sum to a smooth ridge (ripple 2·exp(−2π²σ²/d²) ≤ 1e-8), so a chain is a
    cheap stand-in for a curved line profile. Returns (x, y, σ, weight) with weights ∝ line density
    × arc length per node, summing to 1.
    """
    seg = np.hypot(np.diff(x_arcsec), np.diff(y_arcsec))
    s = np.concatenate([[0.0], np.cumsum(seg)])
    length = float(s[-1])
    n = max(2, int(np.ceil(length / (spacing_per_sigma * float(np.min(sigma_arcsec))))) + 1)
    s_nodes = np.linspace(0.0, length, n)
    xs, ys = np.interp(s_nodes, s, x_arcsec), np.interp(s_nodes, s, y_arcsec)
    sig = np.interp(s_nodes, s, sigma_arcsec)
    w = np.interp(s_nodes, s, line_density) * (length / (n - 1))
    w[[0, -1]] *= 0.5
    return xs, ys, sig, w / w.sum()
