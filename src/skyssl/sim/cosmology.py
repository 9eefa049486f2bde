"""Distances and volumes of the simulator's cosmology: flat ΛCDM, H₀ = 70 km/s/Mpc, Ω_m = 0.3.

Astropy integrates the Friedmann equation once, on first use, onto a fine uniform redshift grid;
afterwards every call is a vectorised linear interpolation (a few tens of ns per value), which matters
because the population sampler evaluates these on large (z, M) meshes. Interpolation errors are
below 1e-6 relative at every z. Inputs may have any shape; outputs have the same shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

H0_KM_S_MPC = 70.0
OMEGA_M = 0.3
Z_MAX = 20.0
_DZ = 1e-3


@dataclass(frozen=True)
class _Tables:
    """Tabulated D_C(z)/z and (dV_C/dz/dΩ)/z²: smooth, finite at z = 0 (c/H₀ and (c/H₀)³), so linear
    interpolation stays accurate to < 1e-7 relative even at z → 0, where the raw curves bend most."""

    comoving_per_z: np.ndarray  # Mpc
    volume_per_z2: np.ndarray  # Mpc³ sr⁻¹


@cache
def _tables() -> _Tables:
    from astropy.constants import c
    from astropy.cosmology import FlatLambdaCDM

    cosmo = FlatLambdaCDM(H0=H0_KM_S_MPC, Om0=OMEGA_M)
    hubble_mpc = c.to_value("km/s") / H0_KM_S_MPC
    z = np.linspace(0.0, Z_MAX, round(Z_MAX / _DZ) + 1)
    zs = np.maximum(z, _DZ)
    comoving = cosmo.comoving_distance(zs).to_value("Mpc") / zs
    volume = cosmo.differential_comoving_volume(zs).to_value("Mpc3 / sr") / zs**2
    comoving[0], volume[0] = hubble_mpc, hubble_mpc**3
    return _Tables(comoving, volume)


def _interp(table: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Linear interpolation on the uniform grid by direct indexing (no search)."""
    z = np.asarray(z, dtype=np.float64)
    if z.size and (np.nanmin(z) < 0.0 or np.nanmax(z) > Z_MAX):
        raise ValueError(f"redshift outside [0, {Z_MAX}]: {np.nanmin(z)}…{np.nanmax(z)}")
    u = z / _DZ
    i = np.minimum(u.astype(np.intp), table.size - 2)
    w = u - i
    return table[i] * (1.0 - w) + table[i + 1] * w


def comoving_distance_mpc(z: np.ndarray) -> np.ndarray:
    """Comoving (= transverse comoving, flat) distance in Mpc."""
    z = np.asarray(z, dtype=np.float64)
    return z * _interp(_tables().comoving_per_z, z)


def luminosity_distance_mpc(z: np.ndarray) -> np.ndarray:
    """D_L = (1 + z) D_M in Mpc."""
    return (1.0 + np.asarray(z, dtype=np.float64)) * comoving_distance_mpc(z)


def angular_diameter_distance_mpc(z: np.ndarray) -> np.ndarray:
    """D_A = D_M/(1 + z) in Mpc: physical size (Mpc) = angle (rad) × D_A."""
    return comoving_distance_mpc(z) / (1.0 + np.asarray(z, dtype=np.float64))


def angular_diameter_distance_z1z2_mpc(z1: np.ndarray, z2: np.ndarray) -> np.ndarray:
    """D_A between z1 < z2 in Mpc, (D_M(z2) − D_M(z1))/(1 + z2) in a flat universe (lens D_ls)."""
    return (comoving_distance_mpc(z2) - comoving_distance_mpc(z1)) / (1.0 + np.asarray(z2, dtype=np.float64))


def distance_modulus(z: np.ndarray) -> np.ndarray:
    """5 log10(D_L / 10 pc) in mag; −inf at z = 0."""
    with np.errstate(divide="ignore"):
        return 5.0 * np.log10(luminosity_distance_mpc(z)) + 25.0


def comoving_volume_element_mpc3_per_sr(z: np.ndarray) -> np.ndarray:
    """dV_C/dz/dΩ in Mpc³ per steradian per unit redshift."""
    z = np.asarray(z, dtype=np.float64)
    return z**2 * _interp(_tables().volume_per_z2, z)
