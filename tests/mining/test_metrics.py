"""Lens-finding metrics against hand-computed rankings and against scikit-learn where they overlap."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from skyssl.errors import InputError
from skyssl.mining.metrics import (
    bootstrap_ci,
    lens_finding_metrics,
    pr_auc,
    precision_at_n,
    recall_at_n,
    roc_auc,
    topn_curves,
    tpr0,
    tpr10,
)

# Ranked by score: + - + + - - + - (positives at ranks 1, 3, 4, 7)
SCORES = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2])
LABELS = np.array([1, 0, 1, 1, 0, 0, 1, 0], dtype=bool)


def test_precision_and_recall_at_n_by_hand():
    assert precision_at_n(SCORES, LABELS, 1) == 1.0
    assert precision_at_n(SCORES, LABELS, 4) == 0.75
    assert recall_at_n(SCORES, LABELS, 4) == 0.75
    assert precision_at_n(SCORES, LABELS, 8) == 0.5
    assert recall_at_n(SCORES, LABELS, 8) == 1.0


def test_input_order_does_not_matter_and_ties_are_stable():
    order = np.random.default_rng(0).permutation(SCORES.size)
    assert precision_at_n(SCORES[order], LABELS[order], 4) == 0.75
    tied = np.zeros(4)
    assert precision_at_n(tied, np.array([1, 0, 0, 1]), 1) == 1.0    # ties keep input order
    assert precision_at_n(tied, np.array([0, 1, 0, 1]), 1) == 0.0


def test_topn_curves_match_pointwise_metrics():
    curves = topn_curves(SCORES, LABELS)
    assert list(curves["n"]) == list(range(1, 9))
    np.testing.assert_allclose(curves["precision"], [1, 1 / 2, 2 / 3, 3 / 4, 3 / 5, 3 / 6, 4 / 7, 4 / 8])
    np.testing.assert_allclose(curves["recall"], [1 / 4, 1 / 4, 2 / 4, 3 / 4, 3 / 4, 3 / 4, 1, 1])
    some = topn_curves(SCORES, LABELS, ns=[2, 7])
    np.testing.assert_allclose(some["precision"], [0.5, 4 / 7])


def test_tpr0_and_tpr10_by_hand():
    assert tpr0(SCORES, LABELS) == 0.25              # one positive above the first negative
    assert tpr10(SCORES, LABELS) == 1.0              # only 4 negatives in all: every threshold has < 10
    # 12 negatives interleaved: positives above 0, 1, 2 … negatives
    scores = np.arange(20, 0, -1, dtype=float)
    labels = np.zeros(20, dtype=bool)
    labels[[0, 1, 3, 12, 19]] = True                 # the 10th negative is at rank 14 (index 13)
    assert tpr0(scores, labels) == 2 / 5
    assert tpr10(scores, labels) == 4 / 5            # index 12 has 9 negatives above it, index 19 has 15


def test_tied_negative_counts_first_for_tpr0():
    scores = np.array([1.0, 1.0, 0.5])
    assert tpr0(scores, np.array([1, 0, 1])) == 0.0
    assert tpr0(scores, np.array([1, 1, 0])) == 1.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_auc_and_average_precision_match_sklearn(seed):
    rng = np.random.default_rng(seed)
    labels = rng.random(500) < 0.1
    scores = np.round(rng.normal(labels * 1.0, 1.0), 1)   # rounding makes plenty of ties
    assert roc_auc(scores, labels) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    assert pr_auc(scores, labels) == pytest.approx(average_precision_score(labels, scores), abs=1e-12)


def test_lens_finding_metrics_bundle():
    figures = lens_finding_metrics(SCORES, LABELS, 4)
    assert figures["precision_at_n"] == 0.75 and figures["recall_at_n"] == 0.75
    assert figures["images_per_lens"] == pytest.approx(4 / 3)
    assert figures["n_positive"] == 4 and figures["n_negative"] == 4
    assert figures["auc"] == pytest.approx(roc_auc_score(LABELS, SCORES))
    assert lens_finding_metrics(-SCORES, LABELS, 1)["images_per_lens"] is None   # no lens in the top 1


def test_bootstrap_interval_brackets_the_estimate_and_is_reproducible():
    rng = np.random.default_rng(3)
    labels = rng.random(400) < 0.2
    scores = rng.normal(labels * 1.5, 1.0)
    low, high = bootstrap_ci(roc_auc, scores, labels, n_boot=200)
    assert low < roc_auc(scores, labels) < high
    assert (low, high) == bootstrap_ci(roc_auc, scores, labels, n_boot=200)
    narrow = bootstrap_ci(roc_auc, scores, labels, n_boot=200, level=0.5)
    assert low < narrow[0] < narrow[1] < high


@pytest.mark.parametrize("scores, labels, message", [
    (np.array([0.1, np.nan]), np.array([0, 1]), "NaN"),
    (np.array([0.1, 0.2]), np.array([0, 2]), "boolean or 0/1"),
    (np.array([0.1, 0.2]), np.array([0, 1, 1]), "equal length"),
])
def test_bad_inputs_raise_input_error(scores, labels, message):
    with pytest.raises(InputError, match=message):
        roc_auc(scores, labels)


def test_n_out_of_range_and_single_class():
    with pytest.raises(InputError, match="between 1"):
        precision_at_n(SCORES, LABELS, 9)
    with pytest.raises(InputError, match="no negatives"):
        roc_auc(SCORES, np.ones(8, dtype=bool))
    with pytest.raises(InputError, match="no positives"):
        recall_at_n(SCORES, np.zeros(8, dtype=bool), 2)
