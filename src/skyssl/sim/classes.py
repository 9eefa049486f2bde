"""Assign each galaxy a morphology class and each cutout an artefact, at the recipe's rates.

Rates are order-of-magnitude defaults (Galaxy Zoo DECaLS puts bars, rings and mergers at percent
levels). Classes that imitate lenses — rings, spirals, mergers, groups and blue satellites of red
galaxies — are deliberately present, or the lens task would be trivially easy.
"""

from __future__ import annotations

import numpy as np

MORPH_CLASSES = (
    "elliptical", "disk", "spiral", "barred_spiral", "ring", "collisional_ring", "edge_on",
    "merger", "shells", "group", "clumpy", "blue_satellite",
)
ARTEFACTS = ("", "bright_star", "satellite_trail", "masked", "noise_step")
ARTEFACT_RATES = {"bright_star": 0.015, "satellite_trail": 0.004, "masked": 0.003, "noise_step": 0.01}


def assign_morphology(rng: np.random.Generator, is_red: np.ndarray, structure: dict,
                      m_abs_r: np.ndarray) -> np.ndarray:
    """One class per galaxy; exclusive, applied in a fixed order so rates stay interpretable."""
    n = is_red.size
    u = rng.uniform(size=(8, n))
    classes = np.where(is_red, "elliptical", "disk").astype("<U16")
    is_disk = ~is_red
    big = structure["re_disk_arcsec"] > 1.5
    edge_on = is_disk & (structure["q_disk"] < 0.25)
    classes[edge_on] = "edge_on"
    spiral = is_disk & ~edge_on & big & (u[0] < 0.6)
    classes[spiral] = "spiral"
    classes[spiral & (u[1] < 0.3)] = "barred_spiral"
    clumpy = is_disk & ~edge_on & ~spiral & (u[2] < 0.05)
    classes[clumpy] = "clumpy"
    s0_like = is_red & (structure["bt"] < 0.8)
    classes[s0_like & (u[3] < 0.01)] = "ring"
    classes[(classes == "disk") & (u[4] < 0.0005)] = "collisional_ring"
    classes[is_red & (classes == "elliptical") & (u[5] < 0.04)] = "shells"
    group = is_red & (m_abs_r < -21.5) & (classes == "elliptical") & (u[6] < 0.08)
    classes[group] = "group"
    classes[is_red & (classes == "elliptical") & (u[7] < 0.02)] = "blue_satellite"
    merger_draw = rng.uniform(size=n) < 0.03
    classes[merger_draw & np.isin(classes, ("elliptical", "disk"))] = "merger"
    return classes


def assign_artefacts(rng: np.random.Generator, n: int) -> np.ndarray:
    """At most one artefact per cutout, drawn independently of the galaxy."""
    u = rng.uniform(size=n)
    out = np.full(n, "", dtype="<U16")
    edge = 0.0
    for name, rate in ARTEFACT_RATES.items():
        out[(u >= edge) & (u < edge + rate)] = name
        edge += rate
    return out
