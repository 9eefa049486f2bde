"""How well an anomaly score ranks rare things above the bulk, against truth or user labels.

A target is a boolean mask over the scored objects. From a simulated store three are known without
being asked for: artefacts (`artefact` not empty), rare morphologies (`morph_class` in
:data:`RARE_MORPH_CLASSES`) and strong lenses (`is_lens`); any label spec `skyssl.search.evaluate`
understands ('is_lens', 'lens_grade==A', 'z_true>1') adds one more. Each target with at least one
positive and one negative is scored with ROC AUC (0.5: no better than random; 1: every positive above
every negative) and the precision in the top N, next to its base rate (the precision of a random pick).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from skyssl.mining.metrics import precision_at_n, roc_auc
from skyssl.search.evaluate import label_mask

RARE_MORPH_CLASSES = ("ring", "collisional_ring", "merger", "shells", "group", "blue_satellite", "clumpy")
"""The simulator's morphologies at percent-level rates or below; the bulk is ellipticals, disks, spirals."""
DEFAULT_TOP_N = (10, 100)


def truth_targets(columns: Sequence[str], read_column: Callable[[str], np.ndarray]) -> dict[str, np.ndarray]:
    """The rare-object targets a store's truth columns define (none for a store without them)."""
    targets = {}
    if "artefact" in columns:
        targets["artefact"] = np.char.strip(np.asarray(read_column("artefact")).astype(str)) != ""
    if "morph_class" in columns:
        classes = np.char.strip(np.asarray(read_column("morph_class")).astype(str))
        targets["rare_morphology"] = np.isin(classes, RARE_MORPH_CLASSES)
    if "is_lens" in columns:
        targets["is_lens"] = np.asarray(read_column("is_lens")).astype(bool)
    return targets


def label_targets(labels: Sequence[str], read_column: Callable[[str], np.ndarray]) -> dict[str, np.ndarray]:
    """Targets from user label specs, keyed by the spec as written."""
    return {label: label_mask(label, read_column) for label in labels}


def evaluate_target(scores: np.ndarray, positive: np.ndarray, top_n: Sequence[int] = DEFAULT_TOP_N) -> dict:
    """ROC AUC, base rate and precision (and enrichment over the base rate) in each top N."""
    scores, positive = np.asarray(scores, np.float64), np.asarray(positive, bool)
    n_positive = int(positive.sum())
    base_rate = n_positive / positive.size
    figures = {"n_positives": n_positive, "base_rate": base_rate, "roc_auc": float(roc_auc(scores, positive))}
    for n in top_n:
        if n <= positive.size:
            precision = float(precision_at_n(scores, positive, n))
            figures[f"precision_at_{n}"] = precision
            figures[f"enrichment_at_{n}"] = precision / base_rate
    return figures


def evaluate_scores(scores: np.ndarray, targets: dict[str, np.ndarray],
                    top_n: Sequence[int] = DEFAULT_TOP_N) -> dict[str, dict]:
    """Figures per target; targets that are all positive or all negative are reported as skipped."""
    out: dict[str, dict] = {}
    for name, positive in targets.items():
        n_positive = int(np.asarray(positive, bool).sum())
        if 0 < n_positive < positive.size:
            out[name] = evaluate_target(scores, positive, top_n)
        else:
            out[name] = {"n_positives": n_positive, "skipped": "needs at least one positive and one negative"}
    return out
