"""Intrinsic galaxy properties: redshift, luminosity, spectral type, size, profile and shape.

Follows the recipe's per-row pipeline: (z, M_r) from an evolving Schechter luminosity function times
the comoving volume element, a luminosity-dependent red fraction, CWW spectral index and internal dust,
Shen et al. (2003) sizes with van der Wel et al. (2014) evolution, bulge + disk profiles and
inclination-driven axis ratios. Everything is vectorised over rows and draws from one `rng`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skyssl.sim import cosmology

H_LITTLE = 0.7
ARCSEC_PER_RAD = 206264.806

# Blanton et al. 2003 (^0.1r): M* − 5 log h = −20.44, α = −1.05, φ* = 1.49e-2 h³ Mpc⁻³
LF_M_STAR = -20.44 + 5 * np.log10(H_LITTLE)
LF_ALPHA = -1.05
LF_PHI_STAR = 1.49e-2 * H_LITTLE**3
LF_Q_EVOLUTION = 1.62  # M* shifts by −Q (z − 0.1)
LF_P_EVOLUTION = 0.18  # φ* ∝ 10^(0.4 P (z − 0.1))

Z_MAX = 1.2
M_BRIGHT, M_FAINT = -24.0, -16.0


def schechter_density(m_abs_r: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Number density per unit magnitude (Mpc⁻³ mag⁻¹) of the evolving Schechter function."""
    m_star = LF_M_STAR - LF_Q_EVOLUTION * (z - 0.1)
    phi_star = LF_PHI_STAR * 10 ** (0.4 * LF_P_EVOLUTION * (z - 0.1))
    x = 10 ** (0.4 * (m_star - m_abs_r))
    return 0.4 * np.log(10) * phi_star * x ** (LF_ALPHA + 1) * np.exp(-x)


@dataclass(frozen=True)
class LuminosityGrid:
    """A tabulated p(z, M_r) ∝ φ(M, z) dV/dz restricted to cells that can pass a magnitude cut."""

    z_edges: np.ndarray
    m_edges: np.ndarray
    cdf: np.ndarray  # over flattened cells


def build_luminosity_grid(mag_limit_r_approx: float, n_z: int = 240, n_m: int = 160) -> LuminosityGrid:
    """Cells whose brightest plausible apparent r magnitude beats `mag_limit_r_approx` (+margin).

    The exact cut is applied later on the realised magnitudes by rejection; this grid only keeps the
    rejection rate low (the K-correction margin is generous: 1.5 mag).
    """
    z_edges = np.linspace(0.005, Z_MAX, n_z + 1)
    m_edges = np.linspace(M_BRIGHT, M_FAINT, n_m + 1)
    zc = 0.5 * (z_edges[1:] + z_edges[:-1])
    mc = 0.5 * (m_edges[1:] + m_edges[:-1])
    zz, mm = np.meshgrid(zc, mc, indexing="ij")
    weight = schechter_density(mm, zz) * cosmology.comoving_volume_element_mpc3_per_sr(zz)
    apparent_bright = mm + cosmology.distance_modulus(zz) - 0.3
    weight = np.where(apparent_bright < mag_limit_r_approx + 1.5, weight, 0.0)
    cdf = np.cumsum(weight.ravel())
    return LuminosityGrid(z_edges, m_edges, cdf / cdf[-1])


def sample_z_mag(rng: np.random.Generator, grid: LuminosityGrid, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Draw (z, M_r) pairs from the tabulated grid, uniformly within each cell."""
    cell = np.searchsorted(grid.cdf, rng.uniform(size=n), side="right")
    cell = np.minimum(cell, grid.cdf.size - 1)
    n_m = grid.m_edges.size - 1
    iz, im = np.divmod(cell, n_m)
    z = grid.z_edges[iz] + rng.uniform(size=n) * np.diff(grid.z_edges)[iz]
    m = grid.m_edges[im] + rng.uniform(size=n) * np.diff(grid.m_edges)[im]
    return z, m


def red_probability(m_abs_r: np.ndarray) -> np.ndarray:
    """P(red | M_r): luminous galaxies are mostly red (recipe default logistic)."""
    return 1.0 / (1.0 + np.exp((m_abs_r + 20.6) / 0.9))


def sample_spectral_type(rng: np.random.Generator, is_red: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CWW index t (0 E, 1 Sbc, 2 Scd, 3 Im) and internal Calzetti E(B−V) for red and blue galaxies."""
    n = is_red.size
    t = np.where(is_red, np.clip(rng.normal(0.1, 0.15, n), 0.0, 3.0), rng.uniform(0.8, 3.0, n))
    ebv_int = np.where(is_red, rng.uniform(0.0, 0.05, n), rng.uniform(0.0, 0.3, n))
    return t, ebv_int


def half_light_radius_kpc(rng: np.random.Generator, m_abs_r: np.ndarray, z: np.ndarray, is_red: np.ndarray):
    """Shen et al. (2003) size–luminosity relations with van der Wel (2014) evolution, in kpc."""
    early = -0.26 * m_abs_r - 5.06
    late = -0.084 * m_abs_r + 0.32 * np.log10(1 + 10 ** (-0.4 * (m_abs_r + 20.52))) - 1.31
    scatter = np.where(is_red, 0.15, 0.20) * rng.standard_normal(m_abs_r.size)
    evolution = np.where(is_red, -1.48, -0.75) * np.log10((1 + z) / 1.1)
    return 10 ** (np.where(is_red, early, late) + scatter + evolution)


def kpc_to_arcsec(r_kpc: np.ndarray, z: np.ndarray) -> np.ndarray:
    return r_kpc / (cosmology.angular_diameter_distance_mpc(z) * 1e3) * ARCSEC_PER_RAD


def sample_structure(rng: np.random.Generator, is_red: np.ndarray, r_half_arcsec: np.ndarray) -> dict:
    """Bulge + disk decomposition and axis ratios (recipe §2.3 defaults).

    Red: B/T ~ U(0.6, 1), n_b ~ U(3, 5.5), bulge r_e = R, disk r_e = 1.5 R, q ~ N(0.75, 0.15).
    Blue: B/T ~ Beta(1.2, 4), n_b ~ U(1, 4), disk r_e = R, bulge r_e = U(0.15, 0.5) R,
    disk q from a random inclination of an oblate disk with intrinsic thickness q₀ ~ U(0.1, 0.25).
    """
    n = is_red.size
    bt = np.where(is_red, rng.uniform(0.6, 1.0, n), rng.beta(1.2, 4.0, n))
    n_bulge = np.where(is_red, rng.uniform(3.0, 5.5, n), rng.uniform(1.0, 4.0, n))
    re_bulge = np.where(is_red, r_half_arcsec, r_half_arcsec * rng.uniform(0.15, 0.5, n))
    re_disk = np.where(is_red, 1.5 * r_half_arcsec, r_half_arcsec)
    q0 = rng.uniform(0.1, 0.25, n)
    cos_i = rng.uniform(0.0, 1.0, n)
    q_disk_inclined = np.sqrt(q0**2 + (1 - q0**2) * cos_i**2)
    q_elliptical = np.clip(rng.normal(0.75, 0.15, n), 0.3, 1.0)
    q_disk = np.where(is_red, np.maximum(q_elliptical, q_disk_inclined), q_disk_inclined)
    q_bulge = np.where(is_red, q_elliptical, np.maximum(q_disk, np.clip(rng.normal(0.85, 0.08, n), 0.5, 1.0)))
    pa = rng.uniform(0.0, np.pi, n)
    return {"bt": bt, "n_bulge": n_bulge, "re_bulge_arcsec": re_bulge, "re_disk_arcsec": re_disk,
            "q_bulge": q_bulge, "q_disk": q_disk, "disk_q0": q0, "pa_rad": pa}
