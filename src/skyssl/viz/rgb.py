"""Display RGB: multi-band nanomaggy cutouts → colour images for people to look at.

This is display only. The network never sees these pixels; its input normalisation lives in the
augment layer under its own name, so that changing how a sheet looks can never change a model.

Two mappings are offered:

- the Legacy Surveys viewer mapping (`sdss_rgb`, with the `dr2_rgb` preset for g, r, z), an asinh
  stretch of the mean scaled intensity that keeps colours independent of brightness;
- Lupton et al. (2004) through :func:`astropy.visualization.make_lupton_rgb`.

All functions take a batch ``(n, C, H, W)`` (or one image ``(C, H, W)``) in nanomaggies per pixel and
return float32 ``(n, H, W, 3)`` (or ``(H, W, 3)``) in [0, 1], planes ordered R, G, B. Pixel rows are
left in storage order; grids flip them for display (see :mod:`skyssl.viz.grid`).
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Literal

import numpy as np

from skyssl.errors import SkysslError
from skyssl.surveys import DisplayBand, Survey
from skyssl.surveys import legacy_dr9_south as _legacy
from skyssl.surveys import sdss as _sdss

VIEWER_Q = 20.0
ZERO_INTENSITY = 1e-6  # the viewer replaces exact zeros of I by this before dividing

# The viewer's presets live with the surveys they belong to; these names keep the viewer's vocabulary.
DR2_DISPLAY = _legacy.SURVEY.display
"""The viewer's `dr2_rgb` preset for bands (g, r, z): g → blue, r → green, z → red."""
DR2_OFFSET = _legacy.SURVEY.display_offset

SDSS_DISPLAY = _sdss.SURVEY.display
"""The viewer's `sdss_rgb` defaults for bands (u, g, r, i, z)."""
SDSS_OFFSET = _sdss.SURVEY.display_offset

PlaneCombine = Literal["last", "mean"]

_LUPTON_BANDS = {("g", "r", "z"): ("z", "r", "g"), ("u", "g", "r", "i", "z"): ("i", "r", "g")}


def _as_batch(images: np.ndarray) -> tuple[np.ndarray, bool]:
    """View one (C, H, W) image as a batch of one; report whether to squeeze the result again."""
    images = np.asarray(images)
    if images.ndim == 3:
        return images[None], True
    if images.ndim != 4:
        raise SkysslError(f"display RGB needs images shaped (n, C, H, W) or (C, H, W), not {images.shape}")
    return images, False


def _plane_scale_pairs(bands_plane_scale: Sequence[DisplayBand | tuple[int, float]]) -> list[tuple[int, float]]:
    pairs = []
    for band in bands_plane_scale:
        plane, scale = (band.plane, band.scale) if isinstance(band, DisplayBand) else band
        if int(plane) not in (0, 1, 2):
            raise SkysslError(f"display plane must be 0 (R), 1 (G) or 2 (B), not {plane}")
        pairs.append((int(plane), float(scale)))
    return pairs


def plane_weights(planes: Sequence[int], combine: PlaneCombine = "last") -> np.ndarray:
    """(C, 3) matrix taking scaled bands to RGB planes.

    The viewer assigns ``rgb[:, :, plane] = …`` band after band, so when several bands share a plane
    the last one in band order wins (``combine="last"``): for SDSS u, g, r, i, z the blue plane is g
    and the red plane is z, while u and i still enter the intensity I. ``combine="mean"`` averages
    the bands of a plane instead. A plane no band maps to stays black.
    """
    if combine not in ("last", "mean"):
        raise SkysslError(f"plane combine must be 'last' or 'mean', not {combine!r}")
    weights = np.zeros((len(planes), 3), dtype=np.float32)
    for plane in range(3):
        members = [c for c, p in enumerate(planes) if p == plane]
        if not members:
            continue
        if combine == "last":
            weights[members[-1], plane] = 1.0
        else:
            weights[members, plane] = 1.0 / len(members)
    return weights


def sdss_rgb(
    images: np.ndarray,
    bands_plane_scale: Sequence[DisplayBand | tuple[int, float]],
    m: float,
    Q: float = VIEWER_Q,
    combine: PlaneCombine = "last",
) -> np.ndarray:
    """The Legacy Surveys viewer mapping, batched.

    With x_b = img_b·s_b + m per band b:
    I = mean_b max(0, x_b) (exact zeros → 1e-6), f(I) = asinh(Q·I)/√Q, RGB[p_b] = x_b·f(I)/I,
    clipped to [0, 1]. Dividing every band by the same I and multiplying by f(I) compresses brightness
    while keeping colour ratios, so a galaxy core saturates to white only when all bands do.

    `bands_plane_scale` gives one (plane, scale) per image channel, in channel order; `combine` says
    how bands sharing a plane are merged (see :func:`plane_weights`; "last" is the viewer's).
    """
    batch, squeeze = _as_batch(images)
    pairs = _plane_scale_pairs(bands_plane_scale)
    if len(pairs) != batch.shape[1]:
        raise SkysslError(f"{len(pairs)} display bands given for images with {batch.shape[1]} channels")
    scales = np.array([s for _, s in pairs], dtype=np.float32)[None, :, None, None]
    scaled = batch.astype(np.float32, copy=False) * scales + np.float32(m)
    intensity = np.maximum(scaled, 0.0).mean(axis=1)
    intensity[intensity == 0.0] = ZERO_INTENSITY
    ratio = np.arcsinh(np.float32(Q) * intensity) / np.float32(np.sqrt(Q)) / intensity
    weights = plane_weights([p for p, _ in pairs], combine)
    rgb = np.einsum("nchw,cp->nhwp", scaled, weights, optimize=True)
    rgb *= ratio[..., None]
    np.clip(rgb, 0.0, 1.0, out=rgb)
    rgb = rgb.astype(np.float32, copy=False)
    return rgb[0] if squeeze else rgb


def dr2_rgb(images_grz: np.ndarray, Q: float = VIEWER_Q) -> np.ndarray:
    """The viewer's DR2 look for g, r, z cutouts (the colours of every figure in the DR9 papers)."""
    return sdss_rgb(images_grz, DR2_DISPLAY, DR2_OFFSET, Q=Q)


def survey_rgb(images: np.ndarray, survey: Survey, Q: float = VIEWER_Q) -> np.ndarray:
    """The viewer mapping with the survey's own preset: dr2 for the Legacy Surveys, sdss defaults for SDSS."""
    return sdss_rgb(images, survey.display, survey.display_offset, Q=Q)


def lupton_band_order(bands: Sequence[str]) -> tuple[str, str, str]:
    """The bands fed to make_lupton_rgb as (red, green, blue): (z, r, g) for grz, (i, r, g) for SDSS."""
    key = tuple(bands)
    if key not in _LUPTON_BANDS:
        raise SkysslError(f"no Lupton band choice for bands {','.join(bands)}; known: "
                          + "; ".join(",".join(k) for k in _LUPTON_BANDS))
    return _LUPTON_BANDS[key]


def _lupton_float(red: np.ndarray, green: np.ndarray, blue: np.ndarray, **kwargs: float) -> np.ndarray:
    """make_lupton_rgb as floats in [0, 1]; astropy < 7 only returns uint8, which is rescaled.

    Imported here because astropy.visualization pulls in matplotlib, which the viewer mapping and
    every CLI start-up can do without.
    """
    from astropy.visualization import make_lupton_rgb

    if "output_dtype" in inspect.signature(make_lupton_rgb).parameters:
        return make_lupton_rgb(red, green, blue, output_dtype=np.float64, **kwargs)
    return make_lupton_rgb(red, green, blue, **kwargs) / 255.0  # pragma: no cover (astropy < 7)


def lupton_rgb(
    images: np.ndarray,
    survey: Survey,
    stretch: float = 0.1,
    Q: float = 8.0,
    minimum: float | Sequence[float] = 0.0,
    display_scales: bool = True,
) -> np.ndarray:
    """Lupton et al. (2004) colour images via astropy, batched; (R, G, B) = (z, r, g) or (i, r, g).

    With `display_scales` each band is first multiplied by the survey's viewer scale (2–6 for g, r, z),
    which balances the colours as the viewer does; on those scaled nanomaggies stretch 0.1 and Q 8
    give about the brightness of `dr2_rgb` for DR9-depth galaxies of mag 16–21 (tuned by eye on
    simulated cutouts). Unscaled nanomaggies need a stretch nearer 0.01–0.05; astropy's defaults
    (stretch 5, Q 8) are meant for counts and leave nanomaggy cutouts black. The
    mapping is per pixel, so the batch is passed to astropy as one tall 2-D image per plane, in
    float32 (astropy keeps the input precision; float64 would be ~7× slower for no visible gain).
    """
    batch, squeeze = _as_batch(images)
    if survey.n_bands != batch.shape[1]:
        raise SkysslError(f"survey {survey.name} has {survey.n_bands} bands; images have {batch.shape[1]}")
    n, _, height, width = batch.shape
    planes = []
    for band in lupton_band_order(survey.bands):
        c = survey.band_index(band)
        scale = np.float32(survey.display[c].scale if display_scales else 1.0)
        planes.append(batch[:, c].astype(np.float32).reshape(n * height, width) * scale)
    rgb = _lupton_float(*planes, minimum=minimum, stretch=stretch, Q=Q)
    rgb = np.clip(rgb, 0.0, 1.0).astype(np.float32).reshape(n, height, width, 3)
    return rgb[0] if squeeze else rgb


def to_uint8(rgb: np.ndarray) -> np.ndarray:
    """[0, 1] floats → uint8 by rounding (values outside [0, 1] are clipped first)."""
    return np.rint(np.clip(np.asarray(rgb, dtype=np.float32), 0.0, 1.0) * 255.0).astype(np.uint8)
