"""Interaction debris: tidal tails of mergers and shells around ellipticals, as Gaussian chains.

Both are thin, curved, low-surface-brightness features; a chain of round Gaussians spaced ≤ σ
along a track is a smooth ridge and renders as one matrix product (see `gaussian_blobs`). Recipe §3:
mergers/pairs (2–4 %) get tails at μ_r 24–26 mag/arcsec²; 3–5 % of red galaxies get partial arcs at
2–6 r_e carrying 1–3 % of the host's flux. Geometry is in units of the host's r_e, so one drawn
record renders consistently for any host size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skyssl.sim.morphology_canvas import (
    add_normalised,
    disk_matrix,
    gaussian_blobs,
    resample_track,
    resolve_params,
    target_layer,
    to_sky,
)
from skyssl.sim.scene import RenderGrid

TAIL_MIN_SIGMA_ARCSEC = 0.3  # tails narrower than this would be sub-PSF threads; real ones are kpc-wide
_TRACK_SAMPLES = 256


# ---------------------------------------------------------------- tidal tails


@dataclass(frozen=True, eq=False)
class TailParams:
    """1–2 curved tails leaving the host; lengths and widths in units of the host's r_e."""

    start_angle_rad: np.ndarray  # (k,) launch direction relative to the host PA; a second tail is opposite
    start_radius_re: np.ndarray  # (k,) U(0.8, 1.5)
    extent_re: np.ndarray  # (k,) radial reach beyond the start, U(3, 8)
    sweep_rad: np.ndarray  # (k,) azimuth swept along the tail, U(0.6, 1.6) (the curvature)
    winding: int  # ±1: both tails curl the same way, as in a prograde encounter
    width_re: np.ndarray  # (k,) Gaussian σ at the root, U(0.25, 0.5)
    width_growth: np.ndarray  # (k,) σ at the tip / σ at the root, U(1.5, 2.5)
    fade: np.ndarray  # (k,) e-folding of the line density along the tail (fraction of its length), U(0.4, 1)
    knot_amplitude: np.ndarray  # (k,) brightness ripple 1 + a cos(2π f t + φ), U(0, 0.6)
    knot_frequency: np.ndarray  # (k,) ripples per tail, U(2, 6)
    knot_phase_rad: np.ndarray  # (k,)
    mu_r_mag_arcsec2: float  # mean ridge surface brightness, U(24, 26) (recipe)


def draw_tail_params(rng: np.random.Generator) -> TailParams:
    """One tail (40 %) or two opposite ones (60 %) with the recipe's 24–26 mag/arcsec² brightness."""
    k = 2 if rng.uniform() < 0.6 else 1
    start = rng.uniform(-0.5, 0.5) + np.pi * np.arange(k)
    return TailParams(
        start_angle_rad=start, start_radius_re=rng.uniform(0.8, 1.5, k), extent_re=rng.uniform(3.0, 8.0, k),
        sweep_rad=rng.uniform(0.6, 1.6, k), winding=int(rng.choice([-1, 1])), width_re=rng.uniform(0.25, 0.5, k),
        width_growth=rng.uniform(1.5, 2.5, k), fade=rng.uniform(0.4, 1.0, k), knot_amplitude=rng.uniform(0, 0.6, k),
        knot_frequency=rng.uniform(2.0, 6.0, k), knot_phase_rad=rng.uniform(0, 2 * np.pi, k),
        mu_r_mag_arcsec2=float(rng.uniform(24.0, 26.0)),
    )


def _tail_tracks(p: TailParams, r_half_arcsec: float, pa_rad: float) -> list[tuple[np.ndarray, ...]]:
    """Per tail, a fine track (dx, dy, σ, relative line density) in arcsec from the host centre."""
    t = np.linspace(0.0, 1.0, _TRACK_SAMPLES)
    tracks = []
    for i in range(p.start_angle_rad.size):
        rho = (p.start_radius_re[i] + p.extent_re[i] * t) * r_half_arcsec
        phi = pa_rad + p.start_angle_rad[i] + p.winding * p.sweep_rad[i] * t
        sigma = np.maximum(p.width_re[i] * r_half_arcsec * (1 + (p.width_growth[i] - 1) * t), TAIL_MIN_SIGMA_ARCSEC)
        density = np.exp(-t / p.fade[i]) * (1 + p.knot_amplitude[i]
                                            * np.cos(2 * np.pi * p.knot_frequency[i] * t + p.knot_phase_rad[i]))
        tracks.append((rho * np.cos(phi), rho * np.sin(phi), sigma, density))
    return tracks


def _mid(a: np.ndarray) -> np.ndarray:
    return 0.5 * (a[1:] + a[:-1])


def tail_flux_nmgy(params: TailParams, r_half_arcsec: float) -> float:
    """The r-band flux (nmgy) that gives the tails their mean ridge surface brightness μ_r.

    A Gaussian cross-section of σ carrying λ nmgy/arcsec along the track peaks at λ/(√(2π)σ) per
    arcsec²; requiring the arc-length mean of that to equal 10^(−0.4(μ − 22.5)) fixes the total.
    Scale to other bands with the tails' colour.
    """
    target = 10.0 ** (-0.4 * (params.mu_r_mag_arcsec2 - 22.5))
    total = 0.0
    for dx, dy, sigma, density in _tail_tracks(params, r_half_arcsec, 0.0):
        ds = np.hypot(np.diff(dx), np.diff(dy))
        length = ds.sum()
        ridge_per_density = (_mid(density) / (np.sqrt(2 * np.pi) * _mid(sigma)) * ds).sum() / length
        total += target / ridge_per_density * (_mid(density) * ds).sum()
    return float(total)


def tidal_tails(grid: RenderGrid, x_arcsec: float, y_arcsec: float, r_half_arcsec: float, pa_rad: float,
                flux_nmgy: np.ndarray, rng: np.random.Generator | None = None,
                params: TailParams | None = None, out: np.ndarray | None = None) -> np.ndarray:
    """Tidal tails of a host at (x, y): Gaussian chains on outward-curling tracks, as a layer.

    Each track starts at 0.8–1.5 r_e, reaches 3–8 r_e further out while sweeping 0.6–1.6 rad, widens
    towards the tip and fades with a knotty ripple. The flux is split between tails in proportion to
    their line-density integrals; use `tail_flux_nmgy` for the recipe's surface brightness.
    """
    p = resolve_params(params, rng, draw_tail_params)
    flux = np.asarray(flux_nmgy, dtype=float)
    layer = target_layer(grid, flux.size, out)
    nodes = []
    for dx, dy, sigma, density in _tail_tracks(p, r_half_arcsec, pa_rad):
        xs, ys, sig, w = resample_track(dx, dy, sigma, density)
        share = float(np.sum(_mid(density) * np.hypot(np.diff(dx), np.diff(dy))))
        nodes.append((xs, ys, sig, w * share))
    xs, ys, sig, w = (np.concatenate(a) for a in zip(*nodes, strict=True))
    win, chain = gaussian_blobs(grid, x_arcsec + xs, y_arcsec + ys, sig, w)
    add_normalised(layer, win, chain, flux)
    return layer


# ---------------------------------------------------------------- shells


@dataclass(frozen=True, eq=False)
class ShellParams:
    """Interleaved partial arcs on alternating sides of the host's major axis."""

    radius_re: np.ndarray  # (k,) sorted, U(2, 6)
    centre_angle_rad: np.ndarray  # (k,) arc centre relative to the host PA: 0 or π alternately, ± 0.2 rad
    half_opening_rad: np.ndarray  # (k,) U(0.5, 1.2)
    width_frac: np.ndarray  # (k,) Gaussian σ / radius, U(0.04, 0.1)
    weight: np.ndarray  # (k,) flux shares, Dirichlet(2)
    flux_fraction: float  # shells' share of the host flux, U(0.01, 0.03) (recipe)


def draw_shell_params(rng: np.random.Generator) -> ShellParams:
    """2–5 shells at 2–6 r_e on alternating sides, together 1–3 % of the host's flux (recipe)."""
    k = int(rng.integers(2, 6))
    side = np.pi * (np.arange(k) % 2) + (np.pi if rng.uniform() < 0.5 else 0.0)
    return ShellParams(np.sort(rng.uniform(2.0, 6.0, k)), side + rng.normal(0.0, 0.2, k), rng.uniform(0.5, 1.2, k),
                       rng.uniform(0.04, 0.1, k), rng.dirichlet(np.full(k, 2.0)), float(rng.uniform(0.01, 0.03)))


def shells(grid: RenderGrid, x_arcsec: float, y_arcsec: float, r_half_arcsec: float, q: float, pa_rad: float,
           flux_nmgy: np.ndarray, rng: np.random.Generator | None = None,
           params: ShellParams | None = None, out: np.ndarray | None = None) -> np.ndarray:
    """Shells around a host: partial Gaussian arcs on ellipses of axis ratio √q aligned with its PA.

    Shells trace the potential, which is rounder than the light, hence √q. Each arc's brightness
    tapers to zero at its ends (√sin) so arcs fade instead of stopping. `flux_nmgy` is the shells'
    total; a caller wanting the recipe's share passes `params.flux_fraction` × the host flux.
    """
    p = resolve_params(params, rng, draw_shell_params)
    flux = np.asarray(flux_nmgy, dtype=float)
    layer = target_layer(grid, flux.size, out)
    matrix = disk_matrix(float(np.sqrt(q)), pa_rad)
    t = np.linspace(0.0, 1.0, _TRACK_SAMPLES)
    nodes = []
    for i in range(p.radius_re.size):
        radius = p.radius_re[i] * r_half_arcsec
        phi = p.centre_angle_rad[i] + p.half_opening_rad[i] * (2 * t - 1)
        dx, dy = to_sky(matrix, radius * np.cos(phi), radius * np.sin(phi))
        sigma = np.full_like(t, p.width_frac[i] * radius)
        xs, ys, sig, w = resample_track(dx, dy, sigma, np.sqrt(np.sin(np.pi * t)))
        nodes.append((xs, ys, sig, w * p.weight[i]))
    xs, ys, sig, w = (np.concatenate(a) for a in zip(*nodes, strict=True))
    win, chain = gaussian_blobs(grid, x_arcsec + xs, y_arcsec + ys, sig, w)
    add_normalised(layer, win, chain, flux)
    return layer
