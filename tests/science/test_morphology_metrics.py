from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score

from skyssl.errors import InputError
from skyssl.science.morphology import question_column
from skyssl.science.morphology_metrics import classification_metrics, confident_mask, fraction_fit


def test_confident_labels_are_the_tails():
    fraction = np.array([0.0, 0.19, 0.2, 0.5, 0.8, 0.81, 1.0])
    assert confident_mask(fraction, 0.8).tolist() == [True, True, False, False, False, True, True]
    assert confident_mask(fraction, 0.5).tolist() == [True, True, True, False, True, True, True]


def test_classification_metrics_by_hand():
    probability = np.array([0.9, 0.8, 0.3, 0.6, 0.1, 0.2])
    truth = np.array([True, True, True, False, False, False])
    figures = classification_metrics(probability, truth)
    # predicted positive: 0.9, 0.8, 0.6 → TP 2, FP 1, FN 1, TN 2
    assert figures["accuracy"] == pytest.approx(4 / 6) and figures["eta"] == pytest.approx(2 / 6)
    assert figures["precision"] == pytest.approx(2 / 3) and figures["recall"] == pytest.approx(2 / 3)
    assert figures["auc"] == pytest.approx(8 / 9)  # one of nine positive–negative pairs is inverted (0.3 < 0.6)
    assert figures["n"] == 6 and figures["n_positive"] == 3


def test_classification_metrics_match_scikit_learn():
    rng = np.random.default_rng(4)
    truth = rng.uniform(size=300) < 0.3
    probability = np.clip(0.3 * truth + rng.uniform(0, 0.7, 300), 0, 1)
    predicted = probability > 0.5
    figures = classification_metrics(probability, truth)
    assert figures["accuracy"] == pytest.approx(accuracy_score(truth, predicted))
    assert figures["precision"] == pytest.approx(precision_score(truth, predicted))
    assert figures["recall"] == pytest.approx(recall_score(truth, predicted))
    assert figures["f1"] == pytest.approx(f1_score(truth, predicted))
    assert figures["auc"] == pytest.approx(roc_auc_score(truth, probability))


def test_no_predicted_positive_gives_zero_precision_and_one_class_is_an_error():
    figures = classification_metrics(np.array([0.1, 0.2, 0.3]), np.array([True, False, False]))
    assert figures["precision"] == 0.0 and figures["recall"] == 0.0 and figures["f1"] == 0.0
    with pytest.raises(InputError, match="one class only"):
        classification_metrics(np.array([0.1, 0.9]), np.array([True, True]))


def test_fraction_fit():
    figures = fraction_fit(np.array([0.5, 0.5, 0.5, 0.5]), np.array([0.0, 1.0, 0.0, 1.0]))
    assert figures["fraction_rmse"] == pytest.approx(0.5) and figures["fraction_r2"] == pytest.approx(0.0)
    assert fraction_fit(np.array([0.2, 0.8]), np.array([0.2, 0.8]))["fraction_r2"] == pytest.approx(1.0)
    assert fraction_fit(np.array([0.2, 0.8]), np.array([0.5, 0.5]))["fraction_r2"] is None


def test_questions_name_the_simulator_columns():
    assert question_column("smooth") == "gz_smooth_fraction"
    assert question_column("edge_on") == "gz_edge_on_fraction"
    assert question_column("my_fraction") == "my_fraction"
