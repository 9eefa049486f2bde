"""Train a linear probe on cached representations at one ratio, or sweep the ratio (Stein et al. 2022
Figure 4), choosing the L2 strength by true positives in the top N of the validation split.

The selection criterion is the one the search is judged by: a lower validation loss does not mean
more lenses among the N objects a person will inspect, especially when training and validation
prevalences differ by orders of magnitude. Ties in true positives go to the higher ROC AUC, then to
the stronger regularisation (the grid is tried from strong to weak).

N defaults to the number of validation lenses (then precision@N equals recall@N); the paper used
N = 1,139 for ≈485 validation lenses at 1:10,000.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from skyssl.embed.reader import Embeddings
from skyssl.errors import InputError
from skyssl.mining.labels import LabelSet
from skyssl.mining.metrics import lens_finding_metrics, roc_auc, true_positives_at_n
from skyssl.mining.probe import LinearProbe, fit_logistic
from skyssl.mining.sampling import Splits, format_ratio, make_splits

L2_GRID = (1e-1, 1e-2, 1e-3, 1e-4)


@dataclass(frozen=True)
class ProbeSettings:
    """Everything that decides a probe besides the data (recorded in manifests)."""

    vector_kind: str = "backbone"
    val_ratio: float = 10_000.0
    val_fraction: float = 0.5
    exclusion_arcsec: float = 10.0
    n_top: int | None = None
    l2_grid: tuple[float, ...] = L2_GRID
    standardize: bool = True
    max_iter: int = 200
    seed: int = 0
    device: str = "cpu"

    def as_dict(self) -> dict:
        return {"vector_kind": self.vector_kind, "val_ratio": format_ratio(self.val_ratio),
                "val_fraction": self.val_fraction, "exclusion_arcsec": self.exclusion_arcsec, "n_top": self.n_top,
                "l2_grid": list(self.l2_grid), "standardize": self.standardize, "max_iter": self.max_iter,
                "seed": self.seed, "device": self.device}


@dataclass
class TrainedProbe:
    """A selected probe with its validation scores and every figure that went into choosing it."""

    probe: LinearProbe
    metrics: dict
    grid: list[dict]
    split: dict
    val_positions: np.ndarray
    val_labels: np.ndarray
    val_scores: np.ndarray


def read_features(embeddings: Embeddings, kind: str, positions: np.ndarray) -> np.ndarray:
    """Vectors of `positions` in their stored precision (float16 stays float16: the fit streams it)."""
    dtype = np.float16 if embeddings.dtype == np.float16 else np.float32
    return embeddings.vectors(kind, positions, dtype=dtype)


def resolve_n(n_top: int | None, splits: Splits) -> int:
    n_val = splits.val_positive.size + splits.val_negative.size
    n = splits.val_positive.size if n_top is None else n_top
    if not 1 <= n <= n_val:
        raise InputError(f"N = {n} is outside the validation split's 1 … {n_val} objects")
    return int(n)


def select_probe(X_train: np.ndarray, y_train: np.ndarray, X_val: np.ndarray, y_val: np.ndarray, n: int,
                 settings: ProbeSettings) -> tuple[LinearProbe, np.ndarray, list[dict]]:
    """Fit one probe per L2 value; keep the one with most true positives in the validation top n."""
    best: tuple | None = None
    grid = []
    for l2 in sorted(settings.l2_grid, reverse=True):
        probe = fit_logistic(X_train, y_train, l2=l2, max_iter=settings.max_iter, standardize=settings.standardize,
                             device=settings.device)
        scores = probe.decision_function(X_val)
        tp = true_positives_at_n(scores, y_val, n)
        auc = roc_auc(scores, y_val)
        grid.append({"l2": l2, "true_positives_at_n": tp, "auc": auc, "evaluations": len(probe.history),
                     "objective": probe.history[-1], "fit_seconds": round(probe.fit_seconds, 3)})
        if best is None or (tp, auc) > best[0]:
            best = ((tp, auc), probe, scores)
    return best[1], best[2], grid


def _fit_at(features: np.ndarray, row_of: np.ndarray, labels: LabelSet, splits: Splits, ratio: float, n: int,
            settings: ProbeSettings) -> TrainedProbe:
    train, val = splits.training(ratio), splits.validation()
    y_val = labels.labels[val]
    started = time.perf_counter()
    probe, scores, grid = select_probe(features[row_of[train]], labels.labels[train].astype(np.int64),
                                       features[row_of[val]], y_val, n, settings)
    metrics = {**lens_finding_metrics(scores, y_val, n), "l2": probe.l2,
               "fit_seconds": round(time.perf_counter() - started, 3), **splits.describe(ratio)}
    return TrainedProbe(probe=probe, metrics=metrics, grid=grid, split=splits.describe(ratio),
                        val_positions=labels.positions[val], val_labels=y_val, val_scores=scores)


def _features_for(embeddings: Embeddings, labels: LabelSet, splits: Splits, max_ratio: float,
                  kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Features of every index any fit needs, read once in position order (sequential reads), and the
    feature row of each LabelSet index (−1 where not read)."""
    needed = np.unique(np.concatenate([splits.training(max_ratio), splits.validation()]))
    order = np.argsort(labels.positions[needed], kind="stable")
    needed = needed[order]
    features = read_features(embeddings, kind, labels.positions[needed])
    row_of = np.full(labels.positions.size, -1, dtype=np.int64)
    row_of[needed] = np.arange(needed.size)
    return features, row_of


def train_probe(embeddings: Embeddings, labels: LabelSet, ratio: float, settings: ProbeSettings) -> TrainedProbe:
    """The probe at one training ratio, selected on validation as the module docstring says."""
    splits = make_splits(labels.labels, labels.ra_deg, labels.dec_deg, max_train_ratio=ratio,
                         val_ratio=settings.val_ratio, val_fraction=settings.val_fraction,
                         exclusion_arcsec=settings.exclusion_arcsec, seed=settings.seed)
    n = resolve_n(settings.n_top, splits)
    features, row_of = _features_for(embeddings, labels, splits, ratio, settings.vector_kind)
    return _fit_at(features, row_of, labels, splits, ratio, n, settings)


def ratio_sweep(embeddings: Embeddings, labels: LabelSet, ratios: list[float], settings: ProbeSettings) -> list[dict]:
    """precision@N (and the other metrics) against the training ratio, one shared validation split and
    nested training sets; ratios beyond what the store holds are reported at the ratio achieved."""
    splits = make_splits(labels.labels, labels.ra_deg, labels.dec_deg, max_train_ratio=max(ratios),
                         val_ratio=settings.val_ratio, val_fraction=settings.val_fraction,
                         exclusion_arcsec=settings.exclusion_arcsec, seed=settings.seed)
    n = resolve_n(settings.n_top, splits)
    features, row_of = _features_for(embeddings, labels, splits, max(ratios), settings.vector_kind)
    rows = []
    for ratio in ratios:
        trained = _fit_at(features, row_of, labels, splits, ratio, n, settings)
        rows.append({"ratio": format_ratio(ratio), "negatives_per_positive": ratio,
                     "negatives_per_positive_achieved": splits.train_ratio_achieved(ratio), **trained.metrics,
                     "grid": trained.grid})
    return rows
