"""Real-space layers for rare disk morphologies: spiral arms, bars, rings and star-forming clumps.

Each renderer is a pure function returning a layer (C, G·os, G·os) in nmgy per sub-pixel on a
`RenderGrid` whose per-band sum equals the requested flux (normalised on the grid), for a host at
(x_arcsec, y_arcsec) with axis ratio q and major-axis angle pa_rad (conventions of
:mod:`skyssl.sim.scene`). Shapes live in the host's area-preserving disk plane (u = √q x′, v = y′/√q),
so a face-on pattern is projected with the same q and PA as the analytic disk it decorates.

The stochastic structure comes from a frozen `*Params` record: pass one (drawn earlier with
``draw_*_params(rng)`` so it can go into the truth catalogue), or pass only `rng` and the recipe's
distributions are drawn inside. Rates and ranges follow simulation-recipe §3:

==================  ===============================  ==================================================
class               rate                             shape
==================  ===============================  ==================================================
spiral arms         ~60 % of disks with r_e > 1.5″   e^(−r/h)[1 + A cos(m(θ − ln(r/h)/tan p))]², m 2/3/4
bar                 30 % of spirals                  Sersic n = 0.5, q 0.25–0.35, r_e 0.5–1 h
resonant ring       1 % of S0/Sa                     Gaussian ring at 1.5–3 r_e, σ 0.1–0.2 R
collisional ring    0.05 %                           as above, offset nucleus, lopsided, 1–2 knots
clumpy / irregular  5 % of blue                      several 0.2–0.5″ Gaussians on the disk
==================  ===============================  ==================================================

Every renderer also takes ``out=``: a layer to add its light into in place (and return), so a
cutout with several features fills one array instead of allocating and summing one per feature.

Edge-on disks with dust lanes, tidal tails and shells live in :mod:`skyssl.sim.morphology_edge_on`
and :mod:`skyssl.sim.morphology_tidal` and are re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from skyssl.sim.morphology_canvas import (
    add_normalised,
    disk_matrix,
    frame,
    gaussian_blobs,
    resolve_params,
    rotation,
    target_layer,
    to_sky,
)
from skyssl.sim.morphology_edge_on import EdgeOnParams, draw_edge_on_params, edge_on_disk, lane_tau_per_band
from skyssl.sim.morphology_tidal import (
    ShellParams,
    TailParams,
    draw_shell_params,
    draw_tail_params,
    shells,
    tail_flux_nmgy,
    tidal_tails,
)
from skyssl.sim.scene import RenderGrid

__all__ = [
    "BarParams", "ClumpParams", "EdgeOnParams", "RingParams", "ShellParams", "SpiralParams", "TailParams",
    "align_arms_to_bar", "bar", "clumps", "draw_bar_params", "draw_clump_params", "draw_edge_on_params",
    "draw_ring_params", "draw_shell_params", "draw_spiral_params", "draw_tail_params", "edge_on_disk",
    "lane_tau_per_band", "ring", "shells", "spiral_arm_fraction", "spiral_disk", "tail_flux_nmgy",
    "tidal_tails",
]

DISK_TRUNCATION_H = 10.0  # exponential disks stop at 10 h (0.05 % of the light lies beyond)
BAR_SERSIC_B = np.log(2.0)  # b_n of a Sersic n = 0.5 profile: exp(−ln 2 (r/r_e)²)


# ---------------------------------------------------------------- spiral arms


@dataclass(frozen=True, eq=False)
class SpiralParams:
    """A logarithmic m-armed pattern; clump positions are on the arm crests, in units of h."""

    n_arms: int  # m: 2 (70 %), 3 (15 %), 4 (15 %)
    pitch_rad: float  # p ~ U(10°, 30°)
    amplitude: float  # A ~ U(0.3, 0.9)
    phase_rad: float  # disk-plane azimuth of an arm crest at r_in, U(0, 2π)
    winding: int  # +1 or −1: the pattern's handedness (S or Z), equally likely
    r_in_h: float  # arms switch on around r_in (units of h), U(0.3, 0.8); the bar end for barred spirals
    clump_r_h: np.ndarray  # (k,) disk-plane radii of clumps on the crests (units of h)
    clump_arm: np.ndarray  # (k,) which arm each clump sits on
    clump_sigma_arcsec: np.ndarray  # (k,) clump Gaussian σ, U(0.2, 0.4)″
    clump_fraction: float  # share of the arm flux in clumps, U(0.1, 0.3) when k > 0


def draw_spiral_params(rng: np.random.Generator) -> SpiralParams:
    """The recipe's spiral: m = 2/3/4 at 70/15/15 %, p ~ U(10°, 30°), A ~ U(0.3, 0.9); half get 3–8 clumps."""
    m = int(rng.choice([2, 3, 4], p=[0.7, 0.15, 0.15]))
    r_in = float(rng.uniform(0.3, 0.8))
    k = int(rng.integers(3, 9)) if rng.uniform() < 0.5 else 0
    radii = np.clip(rng.gamma(2.0, 1.0, k), max(r_in, 0.5), 3.5)
    return SpiralParams(
        n_arms=m, pitch_rad=float(np.deg2rad(rng.uniform(10.0, 30.0))), amplitude=float(rng.uniform(0.3, 0.9)),
        phase_rad=float(rng.uniform(0.0, 2 * np.pi)), winding=int(rng.choice([-1, 1])), r_in_h=r_in,
        clump_r_h=radii, clump_arm=rng.integers(0, m, k), clump_sigma_arcsec=rng.uniform(0.2, 0.4, k),
        clump_fraction=float(rng.uniform(0.1, 0.3)) if k else 0.0,
    )


def spiral_arm_fraction(amplitude: float) -> float:
    """Share of the recipe's Σ = e^(−r/h)[1 + A cos ψ]² in the arm excess over the inter-arm floor.

    Splitting Σ into a smooth floor e^(−r/h)(1 − A)² and the arm excess (≥ 0 everywhere) lets a caller
    give the arms their own (bluer) colour: the azimuthal means are (1 − A)² and 2A − A²/2 of a total
    1 + A²/2. Exact for the untapered pattern; the taper inside r_in lowers it by a few per cent.
    """
    a = float(amplitude)
    return (2 * a - 0.5 * a * a) / (1 + 0.5 * a * a)


def spiral_disk(grid: RenderGrid, x_arcsec: float, y_arcsec: float, h_arcsec: float, q: float, pa_rad: float,
                disk_flux_nmgy: np.ndarray, arm_flux_nmgy: np.ndarray, rng: np.random.Generator | None = None,
                params: SpiralParams | None = None, out: np.ndarray | None = None) -> np.ndarray:
    """An exponential disk (scale length h, circularised) plus logarithmic spiral arms, as a layer.

    Σ = e^(−r/h)[1 + A(r) cos ψ]², ψ = m(θ − φ₀) − s·m·ln(r/r_in)/tan p — the recipe's ln(r/h) up to a
    constant phase, anchored at r_in so arms can start at a bar's ends — with the arm amplitude
    tapered on inside r_in, A(r) = A(1 − e^(−(r/r_in)⁴)), so arms start at the bulge (or bar) edge
    instead of winding infinitely at the centre. The smooth floor e^(−r/h)(1 − A)² carries
    `disk_flux_nmgy` and the arm excess carries `arm_flux_nmgy` (C,), so the caller sets the arms'
    colour; pass a zero disk flux to keep the smooth disk as an analytic Fourier component with the
    same h, q and PA. Clumps, if any, take `clump_fraction` of the arm flux, on the arm crests.
    """
    p = resolve_params(params, rng, draw_spiral_params)
    disk_flux = np.asarray(disk_flux_nmgy, dtype=float)
    layer = target_layer(grid, disk_flux.size, out)
    matrix = disk_matrix(q, pa_rad)
    r_t = DISK_TRUNCATION_H * h_arcsec
    win, u, v = frame(grid, x_arcsec, y_arcsec, matrix, (r_t, r_t))
    if win.is_empty:
        return layer
    h, r_in, amp0, m = float(h_arcsec), float(p.r_in_h * h_arcsec), float(p.amplitude), float(p.n_arms)
    # in place on five window-sized float32 buffers: fresh large arrays cost page faults, not flops
    r = np.hypot(u, v)
    np.maximum(r, 1e-6 * h, out=r)
    disk = np.multiply(r, -1.0 / h)
    np.exp(disk, out=disk)
    disk[r > r_t] = 0.0
    amp = np.multiply(r, 1.0 / r_in)
    np.square(amp, out=amp)
    np.square(amp, out=amp)
    np.expm1(-amp, out=amp)
    amp *= -amp0  # A(r) = A(1 − e^(−(r/r_in)⁴))
    psi = np.arctan2(v, u, out=u)
    psi -= float(p.phase_rad)
    psi *= m
    log_r = np.multiply(r, 1.0 / r_in, out=v)
    np.log(log_r, out=log_r)
    log_r *= float(p.winding * m / np.tan(p.pitch_rad))
    psi -= log_r
    cos_psi = np.cos(psi, out=psi)
    # (1 + a cos ψ)² − (1 − a)² = a(1 + cos ψ)(2 − a(1 − cos ψ)) ≥ 0: the arm excess over the floor
    arms = np.subtract(1.0, cos_psi, out=log_r)
    arms *= amp
    np.subtract(2.0, arms, out=arms)
    arms *= amp
    cos_psi += 1.0
    arms *= cos_psi
    arms *= disk
    add_normalised(layer, win, disk, disk_flux)  # the floor's shape: normalised, (1 − A)² drops out
    arm_flux = np.asarray(arm_flux_nmgy, dtype=float)
    add_normalised(layer, win, arms, arm_flux * (1.0 - p.clump_fraction))
    if p.clump_r_h.size:
        r_k = p.clump_r_h
        theta = (p.phase_rad + 2 * np.pi * p.clump_arm / p.n_arms
                 + p.winding * np.log(r_k / p.r_in_h) / np.tan(p.pitch_rad))
        dx, dy = to_sky(matrix, r_k * h_arcsec * np.cos(theta), r_k * h_arcsec * np.sin(theta))
        cwin, blobs = gaussian_blobs(grid, x_arcsec + dx, y_arcsec + dy, p.clump_sigma_arcsec, 1.0)
        add_normalised(layer, cwin, blobs, arm_flux * p.clump_fraction)
    return layer


# ---------------------------------------------------------------- bar


@dataclass(frozen=True)
class BarParams:
    """A Sersic n = 0.5 (Gaussian) bar in the disk plane."""

    r_half_h: float  # circularised half-light radius, U(0.5, 1) h
    q: float  # bar axis ratio, U(0.25, 0.35)
    angle_rad: float  # disk-plane angle from the disk's major axis, U(0, π)

    @property
    def end_radius_h(self) -> float:
        """Disk-plane radius (units of h) where the bar's major-axis brightness falls to 1/8 of centre."""
        return float(np.sqrt(3.0) * self.r_half_h / np.sqrt(self.q))


def draw_bar_params(rng: np.random.Generator) -> BarParams:
    """The recipe's bar: Sersic n 0.5, q ~ U(0.25, 0.35), r_e ~ U(0.5, 1) h, any orientation."""
    return BarParams(float(rng.uniform(0.5, 1.0)), float(rng.uniform(0.25, 0.35)), float(rng.uniform(0, np.pi)))


def align_arms_to_bar(spiral: SpiralParams, bar_params: BarParams) -> SpiralParams:
    """Spiral parameters whose arms start at the bar's ends (recipe: "arms start at the bar ends")."""
    return replace(spiral, r_in_h=bar_params.end_radius_h, phase_rad=bar_params.angle_rad)


def bar(grid: RenderGrid, x_arcsec: float, y_arcsec: float, h_arcsec: float, q: float, pa_rad: float,
        flux_nmgy: np.ndarray, rng: np.random.Generator | None = None,
        params: BarParams | None = None, out: np.ndarray | None = None) -> np.ndarray:
    """A bar: exp(−ln 2 (ρ/r_e)²) with ρ the bar's own circularised radius in the disk plane.

    The bar's ellipse (q_bar, angle) is defined face-on and then projected with the host's (q, PA),
    so a bar in an inclined disk foreshortens like the disk does. Identical to a Fourier GAUSSIAN
    component only when the host is face-on; hence a real-space layer. Truncated at ρ = 4 r_e.
    """
    p = resolve_params(params, rng, draw_bar_params)
    flux = np.asarray(flux_nmgy, dtype=float)
    layer = target_layer(grid, flux.size, out)
    sq = np.sqrt(p.q)
    matrix = np.diag([sq, 1.0 / sq]) @ rotation(p.angle_rad) @ disk_matrix(q, pa_rad)
    r_e = float(p.r_half_h * h_arcsec)
    win, u, v = frame(grid, x_arcsec, y_arcsec, matrix, (4 * r_e, 4 * r_e))
    rho2 = (u * u + v * v) / (r_e * r_e)
    add_normalised(layer, win, np.exp(-BAR_SERSIC_B * rho2) * (rho2 <= 16.0), flux)
    return layer


# ---------------------------------------------------------------- rings


@dataclass(frozen=True, eq=False)
class RingParams:
    """A Gaussian ring in the disk plane; the collisional variant is offset, lopsided and knotty."""

    radius_re: float  # R, U(1.5, 3) r_e
    width_frac: float  # Gaussian σ / R, U(0.1, 0.2)
    offset_frac: float  # ring centre − nucleus, / R: 0 (resonant) or U(0.1, 0.3) (collisional)
    offset_angle_rad: float  # disk-plane direction of that offset
    lopsidedness: float  # a in 1 + a cos(θ − offset angle): 0, or U(0.3, 0.7) (collisional)
    knot_angle_rad: np.ndarray  # (k,) disk-plane azimuths of knots on the ring; k = 0 or 1–2
    knot_sigma_arcsec: np.ndarray  # (k,) knot Gaussian σ, U(0.2, 0.4)″
    knot_fraction: float  # share of the ring flux in knots, U(0.15, 0.35) when k > 0

    @property
    def collisional(self) -> bool:
        return self.offset_frac > 0.0 or self.knot_angle_rad.size > 0


def draw_ring_params(rng: np.random.Generator, collisional: bool = False) -> RingParams:
    """Resonant (S0/Sa, 1 %) or collisional (0.05 %) ring with the recipe's radius and width ranges."""
    radius, width = float(rng.uniform(1.5, 3.0)), float(rng.uniform(0.1, 0.2))
    if not collisional:
        return RingParams(radius, width, 0.0, 0.0, 0.0, np.zeros(0), np.zeros(0), 0.0)
    k = int(rng.integers(1, 3))
    return RingParams(radius, width, float(rng.uniform(0.1, 0.3)), float(rng.uniform(0, 2 * np.pi)),
                      float(rng.uniform(0.3, 0.7)), rng.uniform(0, 2 * np.pi, k), rng.uniform(0.2, 0.4, k),
                      float(rng.uniform(0.15, 0.35)))


def ring(grid: RenderGrid, x_arcsec: float, y_arcsec: float, r_half_arcsec: float, q: float, pa_rad: float,
         flux_nmgy: np.ndarray, rng: np.random.Generator | None = None, params: RingParams | None = None,
         collisional: bool = False, out: np.ndarray | None = None) -> np.ndarray:
    """A ring exp(−(r − R)²/2σ²) in the host's disk plane, with the host's q and PA.

    (x, y) is the nucleus. A collisional ring (drawn when `collisional` and no `params`) is centred
    `offset_frac`·R away from it, brighter by 1 + a cos(θ − offset angle) on the far side from the
    nucleus, and carries 1–2 knots (round Gaussians on the ring) with `knot_fraction` of its flux.
    """
    p = resolve_params(params, rng, lambda g: draw_ring_params(g, collisional))
    flux = np.asarray(flux_nmgy, dtype=float)
    layer = target_layer(grid, flux.size, out)
    matrix = disk_matrix(q, pa_rad)
    radius = float(p.radius_re * r_half_arcsec)
    sigma = float(p.width_frac * radius)
    cos_off, sin_off = float(np.cos(p.offset_angle_rad)), float(np.sin(p.offset_angle_rad))
    cu, cv = p.offset_frac * radius * cos_off, p.offset_frac * radius * sin_off
    ox, oy = to_sky(matrix, cu, cv)
    reach = radius + 5.0 * sigma
    win, u, v = frame(grid, x_arcsec + float(ox), y_arcsec + float(oy), matrix, (reach, reach))
    r = np.sqrt(u * u + v * v)
    profile = np.exp(-0.5 * ((r - radius) / sigma) ** 2) * (r <= reach)
    if p.lopsidedness:
        cos_dtheta = (u * cos_off + v * sin_off) / np.maximum(r, 1e-12)
        profile = profile * (1.0 + float(p.lopsidedness) * cos_dtheta)
    add_normalised(layer, win, profile, flux * (1.0 - p.knot_fraction))
    if p.knot_angle_rad.size:
        ku, kv = cu + radius * np.cos(p.knot_angle_rad), cv + radius * np.sin(p.knot_angle_rad)
        kx, ky = to_sky(matrix, ku, kv)
        kwin, blobs = gaussian_blobs(grid, x_arcsec + kx, y_arcsec + ky, p.knot_sigma_arcsec, 1.0)
        add_normalised(layer, kwin, blobs, flux * p.knot_fraction)
    return layer


# ---------------------------------------------------------------- clumps


@dataclass(frozen=True, eq=False)
class ClumpParams:
    """Star-forming clumps scattered over a disk, positions in the disk plane in units of h."""

    r_h: np.ndarray  # (k,) radii drawn from the exponential disk's light, r/h ~ Gamma(2), ≤ 4
    theta_rad: np.ndarray  # (k,) disk-plane azimuths, uniform
    sigma_arcsec: np.ndarray  # (k,) Gaussian σ, U(0.2, 0.5)″
    weight: np.ndarray  # (k,) flux shares, Dirichlet(1), summing to 1


def draw_clump_params(rng: np.random.Generator, n_clumps: int | None = None) -> ClumpParams:
    """3–8 clumps (unless `n_clumps`) placed like the disk's light, sizes 0.2–0.5″, random shares."""
    k = int(rng.integers(3, 9)) if n_clumps is None else int(n_clumps)
    return ClumpParams(np.minimum(rng.gamma(2.0, 1.0, k), 4.0), rng.uniform(0, 2 * np.pi, k),
                       rng.uniform(0.2, 0.5, k), rng.dirichlet(np.ones(k)))


def clumps(grid: RenderGrid, x_arcsec: float, y_arcsec: float, h_arcsec: float, q: float, pa_rad: float,
           flux_nmgy: np.ndarray, rng: np.random.Generator | None = None,
           params: ClumpParams | None = None, out: np.ndarray | None = None) -> np.ndarray:
    """Round Gaussian clumps on a disk of scale length h (clumpy / irregular class, 5 % of blue disks).

    Positions are disk-plane (r, θ) projected with the host's q and PA; each clump keeps its round
    shape on the sky because clumps are unresolved-to-marginally-resolved knots, not disk features.
    """
    p = resolve_params(params, rng, draw_clump_params)
    flux = np.asarray(flux_nmgy, dtype=float)
    layer = target_layer(grid, flux.size, out)
    if p.r_h.size == 0:
        return layer
    dx, dy = to_sky(disk_matrix(q, pa_rad), p.r_h * h_arcsec * np.cos(p.theta_rad),
                    p.r_h * h_arcsec * np.sin(p.theta_rad))
    win, blobs = gaussian_blobs(grid, x_arcsec + dx, y_arcsec + dy, p.sigma_arcsec, p.weight)
    add_normalised(layer, win, blobs, flux)
    return layer
