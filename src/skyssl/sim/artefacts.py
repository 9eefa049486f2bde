"""Artefacts of real coadds: bright-star spikes and wings, saturation and bleeding, satellite trails,
no-data regions, noise steps, and the DR9 `maskbits` they set (simulation-recipe §1.2, §4).

Light-adding artefacts (`bright_star_layers`, `satellite_trail`) return real-space layers
(C, G·os, G·os) in nmgy per sub-pixel on a `RenderGrid`, like :mod:`skyssl.sim.morphology`, so the
Fourier renderer bins and PSF-convolves them with everything else. Image-level artefacts
(`saturate`, `apply_masked_region`, `apply_noise_step`) act on rendered stamps (C, N, N) and return
new arrays. Recipe rates: bright star (r < 16) 1–2 %, trail 0.2–0.5 %, masked 0.3 %, noise step 1 %.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from skyssl.sim.morphology_canvas import (
    band_wavelengths_aa,
    default_bands,
    frame,
    rotation,
    subpixel_arcsec,
    target_layer,
)
from skyssl.sim.scene import RenderGrid

# DR9 MASKBITS (legacysurvey.org/dr9/bitmasks; legacypipe `bits.py`): value = 2**bit.
DR9_MASKBITS = {
    "NPRIMARY": 0x1, "BRIGHT": 0x2, "SATUR_G": 0x4, "SATUR_R": 0x8, "SATUR_Z": 0x10,
    "ALLMASK_G": 0x20, "ALLMASK_R": 0x40, "ALLMASK_Z": 0x80, "WISEM1": 0x100, "WISEM2": 0x200,
    "BAILOUT": 0x400, "MEDIUM": 0x800, "GALAXY": 0x1000, "CLUSTER": 0x2000,
}
BRIGHT_STAR_MAG, MEDIUM_STAR_MAG = 13.0, 16.0  # Gaia G (≈ r) limits of the BRIGHT and MEDIUM masks

# Bright-star wings (recipe §1.2), surface brightness in nmgy/arcsec² of a 22.5 mag (1 nmgy) star.
WING_POWER_LAW = {"g": 0.00045, "r": 0.00033}  # f = A r⁻²
WING_MOFFAT_Z = (17.65, 1.7, 0.0145)  # (α″, β, weight) of the z-band wing
# Diffraction spikes: line density λ(s) = k F/s² (Fraunhofer fall-off of a strut), cut at L = c√F.
SPIKE_LENGTH_PER_SQRT_NMGY = 0.15  # arcsec: L = 3″ at r = 16 (398 nmgy), 20″ at r ≈ 11.9
SPIKE_LENGTH_RANGE_ARCSEC = (3.0, 20.0)
SPIKE_TIP_DENSITY_NMGY_PER_ARCSEC = 0.1  # λ(L) for unclipped L: ~1.5σ of median DR9 r noise after the PSF
SPIKE_FWHM_ARCSEC = 0.25
SPIKE_TILT_DEG = 2.0


# ---------------------------------------------------------------- bright stars


def wing_weights(bands: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Per band (power-law amplitude A_b, Moffat weight w_b) of the wing SB (1 − w)A/r² + w·Moffat_z.

    DR9 measures g and r (A r⁻²) and z (a broad Moffat). Other bands interpolate in wavelength:
    A follows the g→r power law in λ (so u gets A ≈ 0.00062), bands redder than r blend linearly in
    λ towards the z Moffat (i: 44 % Moffat), and bands at or beyond z use the Moffat alone.
    """
    lam = band_wavelengths_aa(bands)
    lam_g, lam_r, lam_z = band_wavelengths_aa(("g", "r", "z"))
    slope = np.log(WING_POWER_LAW["r"] / WING_POWER_LAW["g"]) / np.log(lam_r / lam_g)
    amplitude = WING_POWER_LAW["g"] * (lam / lam_g) ** slope
    moffat = np.clip((lam - lam_r) / (lam_z - lam_r), 0.0, 1.0)
    return amplitude, moffat


def star_wings(grid: RenderGrid, x_arcsec: float, y_arcsec: float, flux_nmgy: np.ndarray,
               psf_fwhm_arcsec: np.ndarray, bands: tuple[str, ...] | None = None,
               out: np.ndarray | None = None) -> np.ndarray:
    """The extended PSF wings of a star of `flux_nmgy` (C,), over the whole grid, as a layer.

    SB_b(r) = F_b[(1 − w_b)A_b/(r² + FWHM_b²) + w_b·W(β − 1)/(πα²)(1 + r²/α²)^−β] (see `wing_weights`).
    The power law is softened at the PSF FWHM so it adds no cusp on top of the core, which the
    caller renders as a POINT component. The wings are extra light (≈1 % of F within a stamp), as
    the DR9 core PSF model is normalised on its own; subtract `layer.sum` from the core if needed.
    """
    flux = np.asarray(flux_nmgy, dtype=float)
    bands = default_bands(flux.size, bands)
    fwhm = np.broadcast_to(np.asarray(psf_fwhm_arcsec, dtype=float), flux.shape)
    layer = target_layer(grid, flux.size, out)
    c = grid.subpixel_centres_arcsec().astype(np.float32)
    r2 = np.square(c[None, :] - np.float32(x_arcsec)) + np.square(c[:, None] - np.float32(y_arcsec))
    area = subpixel_arcsec(grid) ** 2
    amplitude, weight = wing_weights(bands)
    alpha, beta, w_z = WING_MOFFAT_Z
    term = np.empty_like(r2)
    moffat = None
    for b in range(flux.size):
        if weight[b] < 1.0:
            np.add(r2, float(fwhm[b] ** 2), out=term)
            np.divide(float(flux[b] * area * (1 - weight[b]) * amplitude[b]), term, out=term)
            layer[b] += term
        if weight[b] > 0.0:
            if moffat is None:
                moffat = np.log(r2 * float(1 / alpha**2) + 1.0)  # float32 log is SIMD, log1p is not
                np.exp(moffat * float(-beta), out=moffat)
            np.multiply(moffat, float(flux[b] * area * weight[b] * w_z * (beta - 1) / (np.pi * alpha**2)), out=term)
            layer[b] += term
    return layer


def spike_length_arcsec(flux_nmgy: np.ndarray) -> np.ndarray:
    """Visible spike length per band: 0.15″·√F, clipped to 3–20″ (recipe: ∝ √flux, 3–20″)."""
    lo, hi = SPIKE_LENGTH_RANGE_ARCSEC
    return np.clip(SPIKE_LENGTH_PER_SQRT_NMGY * np.sqrt(np.maximum(flux_nmgy, 0.0)), lo, hi)


def diffraction_spikes(grid: RenderGrid, x_arcsec: float, y_arcsec: float, flux_nmgy: np.ndarray,
                       psf_fwhm_arcsec: np.ndarray, tilt_rad: float = 0.0,
                       out: np.ndarray | None = None) -> np.ndarray:
    """Four spikes at tilt, tilt + 90°, +180°, +270° from +x, as a layer.

    The struts holding the secondary mirror are perpendicular, so one tilt rotates the whole cross.
    Along a spike, λ_b(s) = k F_b/(s² + FWHM_b²)·exp(−(s/L_b)⁴) nmgy/arcsec with k such that an
    unclipped spike fades into the noise at L_b — which is why the visible length grows as √F. Across,
    a Gaussian of FWHM 0.25″ integrated exactly over sub-pixels (it is narrower than one).
    """
    flux = np.asarray(flux_nmgy, dtype=float)
    fwhm = np.broadcast_to(np.asarray(psf_fwhm_arcsec, dtype=float), flux.shape)
    layer = target_layer(grid, flux.size, out)
    length = spike_length_arcsec(flux)
    k = SPIKE_TIP_DENSITY_NMGY_PER_ARCSEC * SPIKE_LENGTH_PER_SQRT_NMGY**2  # arcsec: λ(L) = k F/L²
    sigma = SPIKE_FWHM_ARCSEC / (2 * np.sqrt(2 * np.log(2)))
    step = subpixel_arcsec(grid)
    reach = 1.6 * float(length.max())  # exp(−1.6⁴) = 1.4e-3 of the unclipped density
    for angle in (tilt_rad, tilt_rad + 0.5 * np.pi):
        win, s, t = frame(grid, x_arcsec, y_arcsec, rotation(angle), (reach, 6 * sigma + step))
        if win.is_empty:
            continue
        across = special.ndtr((t + 0.5 * step) / sigma) - special.ndtr((t - 0.5 * step) / sigma)
        across *= np.float32(step)  # × sub-pixel length along the spike: values are nmgy per sub-pixel
        s2 = np.square(s)
        s4 = np.square(s2)
        for b in range(flux.size):
            density = float(k * flux[b]) / (s2 + float(fwhm[b] ** 2)) * np.exp(s4 * float(-1 / length[b] ** 4))
            layer[b, win.rows, win.cols] += density * across
    return layer


def bright_star_layers(grid: RenderGrid, x_arcsec: float, y_arcsec: float, flux_nmgy: np.ndarray,
                       psf_fwhm_arcsec: np.ndarray, rng: np.random.Generator,
                       bands: tuple[str, ...] | None = None, out: np.ndarray | None = None) -> np.ndarray:
    """Diffraction spikes (cross tilted by U(−2°, 2°)) plus extended wings of a bright star, as a layer.

    The star's core is the caller's POINT component; this adds what a Moffat core lacks. `bands`
    defaults from the band count (3 → grz, 5 → ugriz) and picks the wing law per band.
    """
    layer = star_wings(grid, x_arcsec, y_arcsec, flux_nmgy, psf_fwhm_arcsec, bands, out)
    tilt = float(np.deg2rad(rng.uniform(-SPIKE_TILT_DEG, SPIKE_TILT_DEG)))
    return diffraction_spikes(grid, x_arcsec, y_arcsec, flux_nmgy, psf_fwhm_arcsec, tilt, out=layer)


def saturate(image_nmgy: np.ndarray, level_nmgy_per_px: float = 1e4, bleed: bool = False,
             return_mask: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Clip (…, N, N) images at the saturation level; optionally bleed the excess along columns.

    A full CCD well spills its excess charge up and down its column: with `bleed`, each column's
    excess Σ(I − L)⁺ fills ⌈excess/2L⌉ pixels at level L on each side of its saturated run, so the
    trail length grows with the star's brightness. With `return_mask`, also the boolean mask of
    saturated and bled pixels, where a caller sets ivar = 0 (or zeroes them, as DR9 coadds may) and
    the SATUR bits.
    """
    image = np.asarray(image_nmgy)
    level = float(level_nmgy_per_px)
    saturated = image > level
    out = np.minimum(image, level).astype(image.dtype, copy=False)
    mask = saturated
    if bleed and saturated.any():
        n_rows = image.shape[-2]
        excess = np.where(saturated, image - level, 0.0).sum(axis=-2, keepdims=True)
        top = np.argmax(saturated, axis=-2)[..., None, :]
        bottom = n_rows - 1 - np.argmax(saturated[..., ::-1, :], axis=-2)[..., None, :]
        n_bleed = np.ceil(excess / (2 * level))
        rows = np.arange(n_rows)[:, None]
        trail = saturated.any(axis=-2, keepdims=True) & (
            ((rows >= top - n_bleed) & (rows < top)) | ((rows > bottom) & (rows <= bottom + n_bleed)))
        out = np.where(trail, level, out).astype(image.dtype, copy=False)
        mask = saturated | trail
    return (out, mask) if return_mask else out


# ---------------------------------------------------------------- trails, gaps, noise steps


def satellite_trail(grid: RenderGrid, rng: np.random.Generator, n_bands: int, band_mask: np.ndarray | None = None,
                    surface_nmgy_per_px: float | np.ndarray | None = None, sigma_arcsec: float | None = None,
                    out: np.ndarray | None = None) -> np.ndarray:
    """A straight satellite or aircraft trail crossing the stamp, as a layer.

    The line has a Gaussian cross-section of σ ≈ PSF σ (`sigma_arcsec`, default U(0.4, 0.75)″ — the DR9
    PSF σ range; after the renderer's PSF it is √2 wider, like a defocused low-orbit satellite) and a
    peak of `surface_nmgy_per_px` per pixel before the PSF (default log-uniform 0.01–0.2, recipe).
    Coadd bands come from separate exposures, so `band_mask` (C,) defaults to one random band (70 %)
    or all bands (30 %). The direction is uniform and the line passes within ±0.4 stamp widths of the
    centre, so it always crosses the stamp.
    """
    layer = target_layer(grid, n_bands, out)
    if band_mask is None:
        one_band = rng.uniform() < 0.7
        band_mask = np.zeros(n_bands, bool)
        band_mask[int(rng.integers(n_bands)) if one_band else slice(None)] = True
    if surface_nmgy_per_px is None:
        surface_nmgy_per_px = float(np.exp(rng.uniform(np.log(0.01), np.log(0.2))))
    if sigma_arcsec is None:
        sigma_arcsec = float(rng.uniform(0.4, 0.75))
    angle = float(rng.uniform(0.0, np.pi))
    offset = float(rng.uniform(-0.4, 0.4)) * grid.stamp_px * grid.pixel_scale_arcsec
    c = grid.subpixel_centres_arcsec().astype(np.float32)
    # distance from the line, in units of σ: (−sin·x + cos·y − offset)/σ, by broadcasting two axes
    t = (c * np.float32(-np.sin(angle) / sigma_arcsec))[None, :] + (
        c * np.float32(np.cos(angle) / sigma_arcsec) - np.float32(offset / sigma_arcsec))[:, None]
    np.square(t, out=t)
    t *= np.float32(-0.5)
    profile = np.exp(t, out=t)
    peak = np.broadcast_to(np.asarray(surface_nmgy_per_px, dtype=float), (n_bands,)) / grid.oversample**2
    for b in np.flatnonzero(band_mask):
        layer[b] += float(peak[b]) * profile
    return layer


def apply_masked_region(image: np.ndarray, rng: np.random.Generator,
                        band: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Zero a no-data region in one band of a stamp (C, N, N): (new image, mask (C, N, N)).

    Half the time the region is everything beyond a CCD or footprint edge (a random row or column
    at 10–90 % of the stamp, either side), half the time a chip gap (a strip 6–30 px wide). Both are
    axis-aligned, as CCD edges are in a brick's pixel grid. The caller sets ivar = 0 under the mask,
    `nobs_b` = 0 if the centre is masked, and ALLMASK bits via `maskbits_for`.
    """
    n_bands, n_rows, n_cols = image.shape
    band = int(rng.integers(n_bands)) if band is None else int(band)
    axis = int(rng.integers(2))  # 0: the region is a set of rows, 1: of columns
    size = (n_rows, n_cols)[axis]
    index = np.arange(size)
    if rng.uniform() < 0.5:
        edge = int(rng.uniform(0.1, 0.9) * size)
        hit = index >= edge if rng.uniform() < 0.5 else index < edge
    else:
        width = min(int(rng.integers(6, 31)), size // 2)
        start = int(rng.integers(0, size - width))
        hit = (index >= start) & (index < start + width)
    mask = np.zeros(image.shape, bool)
    mask[band] = hit[:, None] if axis == 0 else hit[None, :]
    return np.where(mask, 0.0, image).astype(image.dtype, copy=False), mask


def apply_noise_step(image: np.ndarray, sigma_pix_nmgy: np.ndarray, rng: np.random.Generator,
                     band: int | None = None, n_exposures: tuple[int, int] | None = None) -> np.ndarray:
    """Add extra noise on one side of a random line in one band, as where a coadd loses exposures.

    With n₁ exposures on one side and n₂ < n₁ on the other, the noise there rises to σ·√(n₁/n₂), so
    the added Gaussian noise has σ·√(n₁/n₂ − 1). Defaults: n₁ ~ U{2..6}, n₂ ~ U{1..n₁−1}, a random band,
    and a line at a uniform angle passing within ±30 % of the stamp size of the centre.
    """
    n_bands, n_rows, n_cols = image.shape
    band = int(rng.integers(n_bands)) if band is None else int(band)
    if n_exposures is None:
        n1 = int(rng.integers(2, 7))
        n_exposures = (n1, int(rng.integers(1, n1)))
    n1, n2 = n_exposures
    angle = rng.uniform(0.0, np.pi)
    offset = rng.uniform(-0.3, 0.3) * min(n_rows, n_cols)
    yy = np.arange(n_rows)[:, None] - n_rows // 2
    xx = np.arange(n_cols)[None, :] - n_cols // 2
    side = (-np.sin(angle) * xx + np.cos(angle) * yy) > offset
    sigma = float(np.asarray(sigma_pix_nmgy, dtype=float).reshape(-1)[band]) * np.sqrt(n1 / n2 - 1.0)
    out = image.copy()
    out[band] += np.where(side, rng.normal(0.0, sigma, side.shape), 0.0).astype(image.dtype)
    return out


# ---------------------------------------------------------------- maskbits


def mask_radius_arcsec(mag: np.ndarray) -> np.ndarray:
    """The MEDIUM mask radius of a star (legacypipe `mask_radius_for_mag`): 1630″ × 1.396^−mag.

    BRIGHT uses half of it (DR9 bitmask page): 10.7″ at mag 13, 7.8″ for MEDIUM at mag 16.
    """
    return 1630.0 * 1.396 ** -np.asarray(mag, dtype=float)


def maskbits_for(bands: tuple[str, ...], star_mag: np.ndarray | float | None = None,
                 star_separation_arcsec: np.ndarray | float | None = None, saturated: np.ndarray | None = None,
                 no_data: np.ndarray | None = None) -> np.ndarray:
    """DR9 `maskbits` of objects from the artefacts touching them (vectorised over objects).

    BRIGHT (0x2): a star with G < 13 within half its mask radius; MEDIUM (0x800): G < 16 within the
    full radius (`mask_radius_arcsec`; use r as a proxy for G); SATUR_G/R/Z (0x4/0x8/0x10):
    `saturated` (…, C) per band; ALLMASK_G/R/Z (0x20/0x40/0x80): `no_data` (…, C) per band. DR9
    defines these bits for g, r, z only, so other bands set nothing. NaN star magnitudes mean no star.
    """
    bits = np.zeros(np.shape(star_mag) if star_mag is not None else (), dtype=np.int32)
    if star_mag is not None:
        mag = np.asarray(star_mag, dtype=float)
        sep = np.asarray(star_separation_arcsec if star_separation_arcsec is not None else 0.0, dtype=float)
        radius = mask_radius_arcsec(mag)
        with np.errstate(invalid="ignore"):
            bright = (mag < BRIGHT_STAR_MAG) & (sep < 0.5 * radius)
            medium = (mag < MEDIUM_STAR_MAG) & (sep < radius)
        bits = bits | np.where(bright, DR9_MASKBITS["BRIGHT"], 0) | np.where(medium, DR9_MASKBITS["MEDIUM"], 0)
    for flags, prefix in ((saturated, "SATUR_"), (no_data, "ALLMASK_")):
        if flags is None:
            continue
        flags = np.asarray(flags, dtype=bool)
        for b, name in enumerate(bands):
            if f"{prefix}{name.upper()}" in DR9_MASKBITS:
                bits = bits | np.where(flags[..., b], DR9_MASKBITS[f"{prefix}{name.upper()}"], 0)
    return np.asarray(bits, dtype=np.int32)
