"""Lens-finding metrics shared by every mining method (linear probe, fine-tuning, search).

A lens search ends with a human inspecting the top of a ranked list, so the metrics that matter are
about the top of the ranking at a realistic prevalence (Stein et al. 2022; Metcalf et al. 2019):

- precision@N / recall@N: true lenses among the N highest scores, over N or over all lenses;
- TPR0: the largest true-positive rate reached before the first false positive; TPR10: the largest
  reached while fewer than 10 false positives are above the threshold. A threshold can only sit
  between distinct scores, so a negative tied with positives counts as ranked first (pessimistic);
- ROC AUC (ties count one half, the Mann–Whitney statistic) and PR AUC as average precision
  (scikit-learn's step-wise definition, without interpolation);
- images per lens found: N / (true positives in the top N), the inspection cost of one find.

Rankings sort by score, highest first, and break ties by input order (a stable sort), so precision@N is
deterministic. Inputs are 1-D scores (finite floats) and labels (bool or 0/1) of equal length.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.stats import rankdata

from skyssl.errors import InputError


def _checked(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scores as float64 and labels as bool, or an InputError saying what is wrong with them."""
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels)
    if scores.ndim != 1 or labels.ndim != 1 or scores.size != labels.size:
        raise InputError(f"scores {scores.shape} and labels {labels.shape} must be 1-D and of equal length")
    if scores.size == 0:
        raise InputError("no scores to evaluate")
    if not np.isfinite(scores).all():
        raise InputError("scores contain NaN or infinite values")
    if labels.dtype.kind != "b":
        if labels.dtype.kind not in "iuf" or not np.isin(labels, (0, 1)).all():
            raise InputError("labels must be boolean or 0/1")
        labels = labels.astype(bool)
    return scores, labels


def _ranked_labels(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Labels in ranking order: score descending, ties in input order."""
    return labels[np.argsort(-scores, kind="stable")]


def _check_n(n: int, size: int) -> int:
    if int(n) != n or not 1 <= n <= size:
        raise InputError(f"N must be an integer between 1 and the number of scored objects ({size}), got {n}")
    return int(n)


def _n_positive(labels: np.ndarray) -> int:
    n_pos = int(labels.sum())
    if n_pos == 0:
        raise InputError("labels contain no positives")
    return n_pos


def true_positives_at_n(scores: np.ndarray, labels: np.ndarray, n: int) -> int:
    """Positives among the n highest scores: the quantity model selection maximises."""
    scores, labels = _checked(scores, labels)
    return int(_ranked_labels(scores, labels)[: _check_n(n, scores.size)].sum())


def precision_at_n(scores: np.ndarray, labels: np.ndarray, n: int) -> float:
    """Fraction of the n highest-scored objects that are positive."""
    return true_positives_at_n(scores, labels, n) / int(n)


def recall_at_n(scores: np.ndarray, labels: np.ndarray, n: int) -> float:
    """Fraction of all positives that are among the n highest-scored objects."""
    _, checked = _checked(scores, labels)
    return true_positives_at_n(scores, labels, n) / _n_positive(checked)


def topn_curves(scores: np.ndarray, labels: np.ndarray, ns: np.ndarray | None = None) -> dict:
    """precision@n and recall@n for every n in `ns` (default 1 … number of objects)."""
    scores, labels = _checked(scores, labels)
    n_pos = _n_positive(labels)
    ns = np.arange(1, scores.size + 1) if ns is None else np.asarray([_check_n(n, scores.size) for n in ns])
    tp = np.cumsum(_ranked_labels(scores, labels))[ns - 1]
    return {"n": ns, "precision": tp / ns, "recall": tp / n_pos}


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve: P(score of a random positive > that of a random negative), ties ½."""
    scores, labels = _checked(scores, labels)
    n_pos, n_neg = _n_positive(labels), int((~labels).sum())
    if n_neg == 0:
        raise InputError("labels contain no negatives")
    rank_sum = float(rankdata(scores)[labels].sum())
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def _threshold_counts(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative (TP, FP) counts at each distinct score, thresholds from the highest down."""
    order = np.argsort(-scores, kind="stable")
    ranked_scores, ranked = scores[order], labels[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(ranked_scores)), ranked.size - 1]
    tp = np.cumsum(ranked)[last_of_tie]
    return tp, (last_of_tie + 1) - tp


def pr_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Average precision: Σ_k (R_k − R_{k−1}) P_k over distinct-score thresholds (scikit-learn's)."""
    scores, labels = _checked(scores, labels)
    n_pos = _n_positive(labels)
    tp, fp = _threshold_counts(scores, labels)
    recall = tp / n_pos
    return float(np.sum(np.diff(recall, prepend=0.0) * tp / (tp + fp)))


def tpr_below_fp(scores: np.ndarray, labels: np.ndarray, max_false_positives: int) -> float:
    """Largest TPR over thresholds that leave at most `max_false_positives` negatives above them."""
    scores, labels = _checked(scores, labels)
    n_pos = _n_positive(labels)
    tp, fp = _threshold_counts(scores, labels)
    allowed = fp <= max_false_positives
    return float(tp[allowed].max()) / n_pos if allowed.any() else 0.0


def tpr0(scores: np.ndarray, labels: np.ndarray) -> float:
    """The highest TPR before the first false positive (a negative tied with positives comes first)."""
    return tpr_below_fp(scores, labels, 0)


def tpr10(scores: np.ndarray, labels: np.ndarray) -> float:
    """The TPR at the lowest threshold where fewer than 10 false positives score above it."""
    return tpr_below_fp(scores, labels, 9)


def lens_finding_metrics(scores: np.ndarray, labels: np.ndarray, n: int) -> dict:
    """Every lens-finding figure of one ranking, with N the inspection budget.

    `images_per_lens` is N / (true positives in the top N), None when the top N holds no positive.
    """
    scores, labels = _checked(scores, labels)
    n = _check_n(n, scores.size)
    tp = true_positives_at_n(scores, labels, n)
    n_pos = _n_positive(labels)
    return {
        "n": n, "precision_at_n": tp / n, "recall_at_n": tp / n_pos, "true_positives_at_n": tp,
        "auc": roc_auc(scores, labels), "pr_auc": pr_auc(scores, labels),
        "tpr0": tpr0(scores, labels), "tpr10": tpr10(scores, labels),
        "images_per_lens": n / tp if tp else None,
        "n_positive": n_pos, "n_negative": int(scores.size - n_pos),
    }


def bootstrap_ci(metric_fn: Callable[[np.ndarray, np.ndarray], float], scores: np.ndarray, labels: np.ndarray,
                 n_boot: int = 1000, level: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of `metric_fn(scores, labels)`.

    Positives and negatives are resampled separately (a stratified bootstrap), so every replicate keeps
    the evaluation set's prevalence: precision@N depends on prevalence, and a replicate without any
    positive would make recall and AUC undefined. Replicates where the metric returns None are dropped.
    """
    scores, labels = _checked(scores, labels)
    if n_boot < 1 or not 0.0 < level < 1.0:
        raise InputError(f"need n_boot ≥ 1 and 0 < level < 1, got {n_boot} and {level}")
    rng = np.random.default_rng(seed)
    pos, neg = np.flatnonzero(labels), np.flatnonzero(~labels)
    values = []
    for _ in range(n_boot):
        sample = np.sort(np.concatenate([rng.choice(pos, pos.size), rng.choice(neg, neg.size)]))
        value = metric_fn(scores[sample], labels[sample])
        if value is not None:
            values.append(float(value))
    if not values:
        raise InputError("the metric was undefined on every bootstrap replicate")
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(values, [tail, 1.0 - tail])
    return float(low), float(high)
