"""Observed magnitudes of galaxies from a continuous SED index, internal dust and redshift.

The table `data/sed_mags.npz` (built by ``tools/build_sim_tables.py`` with GalSim's CWW templates
and speclite's filter curves) holds offset_b(z, t, E_int) = m_b − M_r − DM(z) for each band system:

- t ∈ [0, 3] runs linearly through the CWW E (0), Sbc (1), Scd (2) and Im (3) templates, mixed at
  equal rest-frame r-band flux (so t = 0.5 is half E, half Sbc light in r);
- E_int ∈ [0, 0.3] is the stellar E(B−V) of a Calzetti (2000, R_V = 4.05) screen;
- z ∈ [0, 3.5] with Madau (1995) IGM absorption, relevant to lensed sources at z ≳ 2.

M_r is the rest-frame absolute magnitude of the *dust-reddened* SED in the system's own r band, as
luminosity functions measured on real galaxies are: internal dust changes colours and K-corrections
but does not further dim a galaxy of given M_r. Magnitudes are AB, before Galactic extinction. The
templates do not evolve; the recipe's −0.15 z colour correction of red galaxies belongs to the
population model, not here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files

import numpy as np

from skyssl import surveys
from skyssl.sim.cosmology import distance_modulus

SYSTEMS = ("decam", "bass-mzls", "sdss")
_SURVEY_SYSTEM = {"legacy-dr9-south": "decam", "legacy-dr9-north": "bass-mzls", "sdss": "sdss"}


@dataclass(frozen=True)
class UniformAxis:
    """A uniformly spaced table axis; `locate` gives the lower node and weight of each value."""

    name: str
    start: float
    step: float
    size: int

    @classmethod
    def from_nodes(cls, name: str, nodes: np.ndarray) -> UniformAxis:
        nodes = nodes.astype(np.float64)
        step = float(nodes[1] - nodes[0])
        if not np.allclose(np.diff(nodes), step, rtol=1e-4):
            raise ValueError(f"sed table axis {name} is not uniform")
        return cls(name, float(nodes[0]), step, nodes.size)

    @property
    def stop(self) -> float:
        return self.start + self.step * (self.size - 1)

    def locate(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = np.asarray(x, dtype=np.float64)
        tol = 1e-6 * self.step
        if x.size and (np.min(x) < self.start - tol or np.max(x) > self.stop + tol or np.isnan(x).any()):
            raise ValueError(f"{self.name} outside the tabulated [{self.start:g}, {self.stop:g}]: "
                             f"{np.min(x):g}…{np.max(x):g}")
        u = np.clip((x - self.start) / self.step, 0.0, self.size - 1)
        i = np.minimum(u.astype(np.intp), self.size - 2)
        return i, u - i


@dataclass(frozen=True)
class SedGrid:
    z: UniformAxis
    sed_t: UniformAxis
    ebv_int: UniformAxis
    offsets: dict[str, np.ndarray]  # system -> (n_z, n_t, n_E, n_bands) float32
    bands: dict[str, tuple[str, ...]]
    filters: dict[str, tuple[str, ...]]


@cache
def sed_grid() -> SedGrid:
    """The tabulated offsets, loaded once."""
    with np.load(files("skyssl.sim").joinpath("data", "sed_mags.npz")) as data:
        return SedGrid(
            z=UniformAxis.from_nodes("z", data["z"]),
            sed_t=UniformAxis.from_nodes("sed_t", data["sed_t"]),
            ebv_int=UniformAxis.from_nodes("ebv_int", data["ebv_int"]),
            offsets={s: data[f"offset_{s}"] for s in SYSTEMS},
            bands={s: tuple(str(b) for b in data[f"bands_{s}"]) for s in SYSTEMS},
            filters={s: tuple(str(f) for f in data[f"filters_{s}"]) for s in SYSTEMS},
        )


def system_for_survey(survey_name: str) -> str:
    """The band system whose filter curves a survey's magnitudes use (aliases such as ``legacy`` work)."""
    return _SURVEY_SYSTEM[surveys.get(survey_name).name]


def system_bands(system: str) -> tuple[str, ...]:
    """Band names of a system, in the order of the last axis of its magnitudes."""
    return sed_grid().bands[_check_system(system)]


def _check_system(system: str) -> str:
    if system not in SYSTEMS:
        raise ValueError(f"unknown band system {system!r}; known: {', '.join(SYSTEMS)}")
    return system


def magnitude_offsets(z: np.ndarray, sed_t: np.ndarray, ebv_int: np.ndarray, system: str) -> np.ndarray:
    """offset_b = m_b − M_r − DM(z) (n, C) by trilinear interpolation of the table.

    At z = 0 this is the rest-frame colour b − r; offset_b(z) − offset_b(0) is the K-correction K_b.
    """
    grid = sed_grid()
    table = grid.offsets[_check_system(system)]
    z, sed_t, ebv_int = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64).reshape(-1)
                                              for a in (z, sed_t, ebv_int)))
    (iz, wz), (it, wt), (ie, we) = grid.z.locate(z), grid.sed_t.locate(sed_t), grid.ebv_int.locate(ebv_int)
    out = np.zeros((z.size, table.shape[-1]))
    for dz, fz in ((0, 1 - wz), (1, wz)):
        for dt, ft in ((0, 1 - wt), (1, wt)):
            for de, fe in ((0, 1 - we), (1, we)):
                out += (fz * ft * fe)[:, None] * table[iz + dz, it + dt, ie + de]
    return out


def apparent_mags(m_abs_r: np.ndarray, z: np.ndarray, sed_t: np.ndarray, ebv_int: np.ndarray,
                  system: str) -> np.ndarray:
    """Observed AB magnitudes (n, C) before Galactic extinction: M_r + DM(z) + offset_b(z, t, E_int).

    `m_abs_r` is the rest-frame absolute magnitude in the system's r band (of the dust-reddened SED);
    inputs broadcast to one dimension of n galaxies. z must be > 0 (the distance modulus diverges at 0).
    """
    m_abs_r, z, sed_t, ebv_int = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64).reshape(-1)
                                                       for a in (m_abs_r, z, sed_t, ebv_int)))
    if z.size and np.min(z) <= 0.0:
        raise ValueError("apparent magnitudes need z > 0")
    return (m_abs_r + distance_modulus(z))[:, None] + magnitude_offsets(z, sed_t, ebv_int, system)
