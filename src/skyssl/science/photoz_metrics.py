"""Photo-z quality: the point-estimate metrics of Hayat et al. / Pasquet et al., and PIT / CRPS of the PDFs.

Δz = (z_phot − z_spec)/(1 + z_spec); bias = ⟨Δz⟩; σ_MAD = 1.4826 · median|Δz − median Δz| (astropy's
`mad_std`); η = fraction with |Δz| > 0.05 (the SDSS main-sample convention), and with |Δz| > 0.15 for
deeper surveys. Both are reported.

The PDFs are histograms over :class:`~skyssl.science.photoz_bins.RedshiftBins`: probability p_i spread
uniformly over bin i, so the CDF F is piecewise linear through the bin edges, 0 below 0 and 1 above
z_max. PIT = F(z_spec) (uniform on [0, 1] for calibrated PDFs; `pit_ks` is its Kolmogorov–Smirnov
distance from uniform) and CRPS = ∫ (F(x) − 1[x ≥ z_spec])² dx, integrated exactly bin by bin (lower is
better; for a point mass it is |z_phot − z_spec|).
"""

from __future__ import annotations

import numpy as np

from skyssl.science.photoz_bins import RedshiftBins

MAD_TO_SIGMA = 1.4826
ETA_SDSS = 0.05
ETA_DEEP = 0.15
CHUNK_ROWS = 16384


def delta_z(z_phot: np.ndarray, z_spec: np.ndarray) -> np.ndarray:
    z_spec = np.asarray(z_spec, dtype=np.float64)
    return (np.asarray(z_phot, dtype=np.float64) - z_spec) / (1.0 + z_spec)


def sigma_mad(dz: np.ndarray) -> float:
    """1.4826 · median(|Δz − median Δz|): a robust scatter, insensitive to the outliers η counts."""
    dz = np.asarray(dz, dtype=np.float64)
    return float(MAD_TO_SIGMA * np.median(np.abs(dz - np.median(dz))))


def outlier_fraction(dz: np.ndarray, threshold: float) -> float:
    """η: the fraction of objects with |Δz| > threshold."""
    return float(np.mean(np.abs(np.asarray(dz, dtype=np.float64)) > threshold))


def cdf_at_edges(pdf: np.ndarray) -> np.ndarray:
    """(n, n_bins + 1) CDF at the bin edges of row-normalised bin probabilities."""
    pdf = np.asarray(pdf, dtype=np.float64)
    pdf = pdf / pdf.sum(axis=1, keepdims=True)
    return np.concatenate([np.zeros((pdf.shape[0], 1)), np.cumsum(pdf, axis=1)], axis=1).clip(0.0, 1.0)


def pit(pdf: np.ndarray, z_spec: np.ndarray, bins: RedshiftBins) -> np.ndarray:
    """Probability integral transform F(z_spec) of each histogram PDF (linear inside a bin)."""
    z = np.asarray(z_spec, dtype=np.float64)
    cdf = cdf_at_edges(pdf)
    position = np.clip(z / bins.width, 0.0, bins.n_bins)
    k = np.minimum(position.astype(np.int64), bins.n_bins - 1)
    rows = np.arange(z.size)
    below, above = cdf[rows, k], cdf[rows, k + 1]
    return below + (above - below) * np.clip(position - k, 0.0, 1.0)


def _square_integral(a: np.ndarray, b: np.ndarray, length: np.ndarray | float) -> np.ndarray:
    """∫ f² over an interval of `length` where f runs linearly from a to b."""
    return length * (a * a + a * b + b * b) / 3.0


def _crps_chunk(pdf: np.ndarray, z: np.ndarray, bins: RedshiftBins) -> np.ndarray:
    cdf = cdf_at_edges(pdf)
    a, b = cdf[:, :-1], cdf[:, 1:]
    inside = (z >= 0.0) & (z < bins.z_max)
    k = np.minimum((np.clip(z, 0.0, None) / bins.width).astype(np.int64), bins.n_bins - 1)
    split_bin = np.where(z < 0.0, -1, np.where(inside, k, bins.n_bins))[:, None]
    j = np.arange(bins.n_bins)[None, :]
    below = _square_integral(a, b, bins.width) * (j < split_bin)  # bins entirely below z: (F − 0)²
    above = _square_integral(1.0 - a, 1.0 - b, bins.width) * (j > split_bin)  # entirely above z: (F − 1)²
    rows = np.arange(z.size)
    left = np.clip(z - bins.edges[k], 0.0, bins.width)
    f_left, f_right = a[rows, k], b[rows, k]
    f_z = f_left + (f_right - f_left) * left / bins.width
    split = _square_integral(f_left, f_z, left) + _square_integral(1.0 - f_z, 1.0 - f_right, bins.width - left)
    total = below.sum(axis=1) + above.sum(axis=1) + np.where(inside, split, 0.0)
    # outside [0, z_max) F is 0 below and 1 above, so only the stretch between z and the range counts
    return total + np.clip(-z, 0.0, None) + np.clip(z - bins.z_max, 0.0, None)


def crps(pdf: np.ndarray, z_spec: np.ndarray, bins: RedshiftBins, chunk_rows: int = CHUNK_ROWS) -> np.ndarray:
    """Continuous ranked probability score of each histogram PDF at its z_spec, exact for the histogram."""
    z = np.asarray(z_spec, dtype=np.float64)
    out = np.empty(z.size)
    for start in range(0, z.size, chunk_rows):
        stop = start + chunk_rows
        out[start:stop] = _crps_chunk(np.asarray(pdf[start:stop]), z[start:stop], bins)
    return out


def pit_ks(pit_values: np.ndarray) -> float:
    """Kolmogorov–Smirnov distance between the PIT values and U(0, 1)."""
    values = np.sort(np.asarray(pit_values, dtype=np.float64))
    n = values.size
    upper = np.arange(1, n + 1) / n - values
    lower = values - np.arange(n) / n
    return float(max(upper.max(), lower.max()))


def photoz_metrics(pdf: np.ndarray, z_spec: np.ndarray, bins: RedshiftBins) -> dict:
    """The headline figures of PDFs against true redshifts (z_phot = E[z])."""
    z_phot = bins.expected_z(pdf)
    dz = delta_z(z_phot, z_spec)
    return {
        "n": int(dz.size), "bias": float(dz.mean()), "sigma_mad": sigma_mad(dz),
        "eta": outlier_fraction(dz, ETA_SDSS), "eta_015": outlier_fraction(dz, ETA_DEEP),
        "crps": float(crps(pdf, z_spec, bins).mean()), "pit_ks": pit_ks(pit(pdf, z_spec, bins)),
    }
