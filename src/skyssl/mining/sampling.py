"""Training sets at chosen lens:non-lens ratios, nested, and a validation split at a realistic ratio.

Stein et al. 2022 trained linear probes at ratios from 1:1 to 1:4000 and judged them at the survey's
real prevalence (≈1:10,000). Here:

- positives are split once into disjoint training and validation positives (`val_fraction` of them,
  at least one on each side);
- non-lenses closer than `exclusion_arcsec` to any labelled lens are dropped from training and
  validation alike: they share the lens's cutout (a deblended arc, the lens's own neighbour) and
  would be a wrong negative;
- the remaining negatives are permuted once; validation takes `val_ratio` × its positives where the
  store allows, but never so many that the training pool cannot reach the largest ratio asked for,
  unless that would leave validation less than a `val_fraction` share of the negatives;
- the training set at ratio 1:k is the training positives plus the first k × (training positives)
  negatives of the pool, so a larger set contains every smaller one (the sweep compares like with
  like: only the extra negatives differ).

Indices returned are into the arrays of a :class:`~skyssl.mining.labels.LabelSet`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from skyssl.errors import InputError
from skyssl.search.coords import arcsec_to_chord, unit_vectors

_RATIO_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*:\s*(\d+(?:\.\d+)?)\s*$")


def parse_ratio(text: str) -> float:
    """'1:100' → 100.0 negatives per positive."""
    match = _RATIO_RE.match(text)
    if match is None or float(match.group(1)) <= 0 or float(match.group(2)) <= 0:
        raise InputError(f"ratio {text!r} is not 'positives:negatives' with positive numbers, e.g. 1:100")
    return float(match.group(2)) / float(match.group(1))


def parse_ratios(text: str) -> list[float]:
    """'1:1,1:10,1:100' → sorted distinct negatives-per-positive values."""
    ratios = sorted({parse_ratio(part) for part in text.split(",") if part.strip()})
    if not ratios:
        raise InputError("no ratios given")
    return ratios


def format_ratio(negatives_per_positive: float) -> str:
    """100.0 → '1:100'; 10000.0 → '1:10000'; 49.2245 → '1:49.22'."""
    if float(negatives_per_positive).is_integer():
        return f"1:{int(negatives_per_positive)}"
    return f"1:{negatives_per_positive:.4g}" if negatives_per_positive < 1000 else f"1:{negatives_per_positive:.0f}"


def near_positives(ra_deg: np.ndarray, dec_deg: np.ndarray, positive: np.ndarray, radius_arcsec: float) -> np.ndarray:
    """Non-positives within `radius_arcsec` of any positive (great-circle distance; poles and RA wrap safe)."""
    near = np.zeros(positive.size, dtype=bool)
    if radius_arcsec <= 0 or not positive.any() or positive.all():
        return near
    xyz = unit_vectors(ra_deg, dec_deg)
    distance, _ = cKDTree(xyz[positive]).query(xyz[~positive], k=1, distance_upper_bound=arcsec_to_chord(radius_arcsec))
    near[~positive] = np.isfinite(distance)
    return near


@dataclass(frozen=True)
class Splits:
    """Disjoint validation and (nested) training index sets over one LabelSet."""

    train_positive: np.ndarray
    val_positive: np.ndarray
    val_negative: np.ndarray
    train_negative_pool: np.ndarray
    n_excluded: int
    val_ratio_requested: float

    def n_train_negatives(self, ratio: float) -> int:
        return min(math.ceil(ratio * self.train_positive.size - 1e-9), self.train_negative_pool.size)

    def training(self, ratio: float) -> np.ndarray:
        """Training indices at 1:ratio (capped by the pool): positives, then a prefix of the pool."""
        return np.concatenate([self.train_positive, self.train_negative_pool[: self.n_train_negatives(ratio)]])

    def validation(self) -> np.ndarray:
        return np.concatenate([self.val_positive, self.val_negative])

    @property
    def val_ratio_achieved(self) -> float:
        return self.val_negative.size / self.val_positive.size

    def train_ratio_achieved(self, ratio: float) -> float:
        return self.n_train_negatives(ratio) / self.train_positive.size

    def describe(self, ratio: float) -> dict:
        """Sizes and achieved ratios, for manifests and JSON output."""
        return {
            "train_ratio_requested": format_ratio(ratio),
            "train_ratio_achieved": format_ratio(self.train_ratio_achieved(ratio)),
            "val_ratio_requested": format_ratio(self.val_ratio_requested),
            "val_ratio_achieved": format_ratio(self.val_ratio_achieved),
            "n_train_positive": int(self.train_positive.size), "n_train_negative": self.n_train_negatives(ratio),
            "n_val_positive": int(self.val_positive.size), "n_val_negative": int(self.val_negative.size),
            "n_excluded_near_positives": self.n_excluded,
        }


def make_splits(labels: np.ndarray, ra_deg: np.ndarray, dec_deg: np.ndarray, *, max_train_ratio: float,
                val_ratio: float = 10_000.0, val_fraction: float = 0.5, exclusion_arcsec: float = 10.0,
                seed: int = 0) -> Splits:
    """Split labelled objects as the module docstring says; one seed fixes every permutation."""
    labels = np.asarray(labels, dtype=bool)
    if not 0.0 < val_fraction < 1.0:
        raise InputError(f"val_fraction must be in (0, 1), got {val_fraction}")
    positives = np.flatnonzero(labels)
    if positives.size < 2:
        raise InputError(f"{positives.size} positive(s): need at least two (one to train on, one to validate)")
    rng = np.random.default_rng(seed)
    positives = rng.permutation(positives)
    n_val_pos = min(max(round(val_fraction * positives.size), 1), positives.size - 1)
    val_positive, train_positive = np.sort(positives[:n_val_pos]), np.sort(positives[n_val_pos:])

    excluded = near_positives(ra_deg, dec_deg, labels, exclusion_arcsec)
    negatives = rng.permutation(np.flatnonzero(~labels & ~excluded))
    if negatives.size < 2:
        raise InputError(f"{negatives.size} usable negative(s) after the {exclusion_arcsec}″ exclusion; need two")
    wanted_val = math.ceil(val_ratio * n_val_pos - 1e-9)
    train_needs = math.ceil(max_train_ratio * train_positive.size - 1e-9)
    floor_share = math.floor(val_fraction * negatives.size)
    n_val_neg = max(1, min(wanted_val, max(negatives.size - train_needs, floor_share), negatives.size - 1))
    return Splits(train_positive=train_positive, val_positive=val_positive,
                  val_negative=np.sort(negatives[:n_val_neg]), train_negative_pool=negatives[n_val_neg:],
                  n_excluded=int(excluded.sum()), val_ratio_requested=float(val_ratio))
