"""Photometric- and spectroscopic-redshift columns that mimic DR9's (Zhou et al. 2021 random forest).

z_phot_mean = z + σ(1+z)·N(0, 1) with σ = 0.015 + 0.03·clip((m_z − 17)/3, 0, 1), ×1.5 for blue
galaxies, 3 % catastrophic outliers from U(0, 1.2); spectroscopic redshifts for BGS-, LRG- and ELG-like
targets (recipe §5).
"""

from __future__ import annotations

import numpy as np

NO_REDSHIFT = -99.0


def photoz_columns(rng: np.random.Generator, z_true: np.ndarray, mag_z: np.ndarray, is_red: np.ndarray) -> dict:
    n = z_true.size
    sigma = (0.015 + 0.03 * np.clip((mag_z - 17.0) / 3.0, 0.0, 1.0)) * np.where(is_red, 1.0, 1.5)
    width = sigma * (1 + z_true)
    mean = z_true + width * rng.standard_normal(n)
    outlier = rng.uniform(size=n) < 0.03
    mean = np.where(outlier, rng.uniform(0.0, 1.2, n), mean)
    mean = np.clip(mean, 0.0, None)
    std = width * rng.uniform(0.8, 1.2, n)
    return {
        "z_phot_mean": mean, "z_phot_median": mean, "z_phot_std": std,
        "z_phot_l68": np.clip(mean - std, 0, None), "z_phot_u68": mean + std,
        "z_phot_l95": np.clip(mean - 2 * std, 0, None), "z_phot_u95": mean + 2 * std,
    }


def specz_columns(rng: np.random.Generator, z_true: np.ndarray, mag: dict[str, np.ndarray],
                  is_red: np.ndarray) -> dict:
    """`z_spec` for 70 % of r < 19.5, 40 % of red z < 20.5, 10 % of blue g < 23.5; half get `z_training`."""
    n = z_true.size
    u = rng.uniform(size=(2, n))
    targeted = np.zeros(n, bool)
    if "r" in mag:
        targeted |= (mag["r"] < 19.5) & (u[0] < 0.7)
    if "z" in mag:
        targeted |= is_red & (mag["z"] < 20.5) & (u[0] < 0.4)
    if "g" in mag:
        targeted |= ~is_red & (mag["g"] < 23.5) & (u[0] < 0.1)
    z_spec = np.where(targeted, z_true + 1e-4 * rng.standard_normal(n), NO_REDSHIFT)
    z_training = np.where(targeted & (u[1] < 0.5), z_spec, NO_REDSHIFT)
    return {"z_spec": z_spec, "z_training": z_training}
