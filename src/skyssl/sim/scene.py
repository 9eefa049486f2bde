"""What is in one cutout before it is rendered: analytic light components plus a real-space layer.

Conventions shared by every renderer in :mod:`skyssl.sim`:

- Positions are offsets in arcsec from the stamp centre, which is pixel index (N//2, N//2) of an N×N
  stamp (the authors' centre-crop convention). `x` runs along columns (axis −1), `y` along rows (axis −2).
- Position angles are in radians, measured from +x towards +y, of the major axis.
- `q` is the minor-to-major axis ratio b/a ≤ 1. Ellipticity is area-preserving, as GalSim's
  `shear(q=…, beta=…)`: the profile is I(r) with r = √(q x'² + y'²/q) in the component's frame, so
  `r_half_arcsec` is the circularised half-light radius (major axis r_half/√q).
- Fluxes are total observed fluxes in nanomaggies per band (already multiplied by the Galactic
  transmission), so the pixel sum of a noiseless, untruncated component equals its flux.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

SERSIC, GAUSSIAN, POINT = 0, 1, 2


@dataclass
class Components:
    """A struct of arrays: m analytic components of one cutout, each with per-band fluxes."""

    kind: np.ndarray  # (m,) int8: SERSIC, GAUSSIAN or POINT
    sersic_n: np.ndarray  # (m,) Sersic index (ignored for GAUSSIAN/POINT)
    r_half_arcsec: np.ndarray  # (m,) half-light radius (ignored for POINT)
    q: np.ndarray  # (m,) axis ratio b/a in (0, 1]
    pa_rad: np.ndarray  # (m,) position angle of the major axis from +x towards +y
    x_arcsec: np.ndarray  # (m,) offset from the stamp centre along columns
    y_arcsec: np.ndarray  # (m,) offset from the stamp centre along rows
    flux_nmgy: np.ndarray  # (m, C) observed flux per band

    @classmethod
    def empty(cls, n_bands: int) -> Components:
        z = np.zeros(0)
        return cls(np.zeros(0, np.int8), z, z, z, z, z, z, np.zeros((0, n_bands)))

    @property
    def n(self) -> int:
        return int(self.kind.size)

    def concat(self, other: Components) -> Components:
        return Components(*(np.concatenate([getattr(self, f), getattr(other, f)]) for f in _FIELDS))


_FIELDS = ("kind", "sersic_n", "r_half_arcsec", "q", "pa_rad", "x_arcsec", "y_arcsec", "flux_nmgy")


@dataclass
class Scene:
    """Everything that makes one cutout's light, before PSF, pixels and noise."""

    components: Components
    # Real-space surface brightness (C, G·os, G·os) in nmgy per sub-pixel on the padded grid of G pixels
    # oversampled os times (see `RenderGrid`), or None. Used for arcs, arms, rings, tails, trails.
    realspace_nmgy: np.ndarray | None = None
    extras: dict = field(default_factory=dict)


@dataclass(frozen=True)
class RenderGrid:
    """The padded square grid cutouts are rendered on, then cropped to the stamp.

    Rendering on G > N pixels and cropping avoids FFT wrap-around from light near the edges.
    Sub-pixel (i, j) of the oversampled real-space grid has its centre at
    x = ((j + 0.5)/os − 0.5 − G//2) · pixel_scale (and likewise y with i), so that binning os×os
    sub-pixels gives pixel (i//os, j//os) whose centre is at (index − G//2) · pixel_scale.
    """

    stamp_px: int
    pad_px: int
    pixel_scale_arcsec: float
    oversample: int = 2

    @property
    def grid_px(self) -> int:
        return self.stamp_px + 2 * self.pad_px

    def subpixel_centres_arcsec(self) -> np.ndarray:
        """1-D sub-pixel centre coordinates (arcsec) along one axis of the oversampled grid."""
        g, os_ = self.grid_px, self.oversample
        j = np.arange(g * os_)
        return ((j + 0.5) / os_ - 0.5 - g // 2) * self.pixel_scale_arcsec

    def crop(self, image: np.ndarray) -> np.ndarray:
        """Cut the stamp (…, N, N) out of a grid image (…, G, G), keeping the centre pixel aligned."""
        g, n = self.grid_px, self.stamp_px
        start = g // 2 - n // 2
        return image[..., start : start + n, start : start + n]
