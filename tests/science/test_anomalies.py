"""Anomaly scores, their evaluation against rare-object targets, and the ranked CSV."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from skyssl.errors import InputError
from skyssl.mining.candidates import ranking
from skyssl.science.anomalies import anomaly_scores, iforest_scores, knn_distance_scores
from skyssl.science.anomalies_eval import RARE_MORPH_CLASSES, evaluate_scores, label_targets, truth_targets
from skyssl.science.anomalies_ranked import ranked_csv_text, write_ranked_csv


def brute_force_knn(vectors: np.ndarray, k: int) -> np.ndarray:
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    sims = unit.astype(np.float64) @ unit.T.astype(np.float64)
    np.fill_diagonal(sims, -np.inf)
    nearest = -np.sort(-sims, axis=1)[:, :k]
    return 1.0 - nearest.mean(axis=1)


def planted(seed: int = 0, n_bulk: int = 400, n_odd: int = 8, dim: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """A bulk of two tight clusters and a few objects from a small, distant third: the planted anomalies."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((3, dim))
    bulk = centres[rng.integers(0, 2, n_bulk)] + 0.3 * rng.standard_normal((n_bulk, dim))
    odd = centres[2] + 1.5 * rng.standard_normal((n_odd, dim))
    order = rng.permutation(n_bulk + n_odd)
    vectors = np.concatenate([bulk, odd])[order].astype(np.float32)
    return vectors, (order >= n_bulk)


@pytest.mark.parametrize("k", [1, 5, 17])
def test_knn_score_equals_a_numpy_brute_force(k):
    vectors = np.random.default_rng(k).standard_normal((300, 24)).astype(np.float32)
    seen = []
    scores = knn_distance_scores(vectors, k, batch=64, on_batch=seen.append)
    assert scores.dtype == np.float32 and sum(seen) == 300
    assert np.allclose(scores, brute_force_knn(vectors, k), atol=1e-5)


def test_knn_drops_the_object_itself_even_among_duplicates():
    vectors = np.random.default_rng(0).standard_normal((40, 8)).astype(np.float32)
    vectors[10:15] = vectors[3]  # six identical vectors: each one's nearest five others are at distance 0
    scores = knn_distance_scores(vectors, 5)
    assert np.allclose(scores[[3, 10, 11, 12, 13, 14]], 0.0, atol=1e-6)
    assert np.allclose(scores, brute_force_knn(vectors, 5), atol=1e-5)


@pytest.mark.parametrize("method", ["knn", "iforest"])
def test_a_planted_outlier_cluster_ranks_first(method):
    vectors, odd = planted()
    scores = anomaly_scores(vectors, method, k=5, seed=0)
    top = ranking(scores)[: odd.sum()]
    assert odd[top].all()
    figures = evaluate_scores(scores, {"odd": odd}, top_n=(8,))["odd"]
    assert figures["roc_auc"] == 1.0 and figures["precision_at_8"] == 1.0
    assert figures["enrichment_at_8"] == pytest.approx(1.0 / figures["base_rate"])


def test_iforest_is_seeded():
    vectors, _ = planted(seed=2)
    assert np.array_equal(iforest_scores(vectors, seed=1), iforest_scores(vectors, seed=1))
    assert not np.array_equal(iforest_scores(vectors, seed=1), iforest_scores(vectors, seed=2))
    assert np.array_equal(iforest_scores(vectors, seed=1, fit_sample=100), iforest_scores(vectors, seed=1,
                                                                                          fit_sample=100))


@pytest.mark.parametrize(("call", "message"), [
    (lambda v: knn_distance_scores(v, 0), "between 1 and the number of objects − 1 \\(9\\), got 0"),
    (lambda v: knn_distance_scores(v, 10), "got 10"),
    (lambda v: anomaly_scores(v, "lof"), "unknown anomaly method 'lof'"),
    (lambda v: anomaly_scores(v[:0], "knn"), "no vectors"),
    (lambda v: iforest_scores(v[:1]), "at least 2 objects"),
])
def test_bad_anomaly_input(call, message):
    vectors = np.random.default_rng(0).standard_normal((10, 4)).astype(np.float32)
    with pytest.raises(InputError, match=message):
        call(vectors)


def test_evaluation_by_hand():
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    positive = np.array([True, False, True, False, False, False])
    figures = evaluate_scores(scores, {"p": positive, "none": np.zeros(6, bool)}, top_n=(2, 10))
    # Positives at ranks 1 and 3: of the 8 (positive, negative) pairs only (rank 3, rank 2) is misordered.
    assert figures["p"]["roc_auc"] == pytest.approx(7 / 8)
    assert figures["p"]["precision_at_2"] == 0.5 and figures["p"]["base_rate"] == pytest.approx(1 / 3)
    assert "precision_at_10" not in figures["p"]  # more than the objects scored
    assert figures["none"] == {"n_positives": 0, "skipped": "needs at least one positive and one negative"}


def test_truth_and_label_targets_from_columns():
    columns = {
        "artefact": np.array(["", "bright_star", "", "masked"]),
        "morph_class": np.array(["elliptical", RARE_MORPH_CLASSES[0], "disk", "merger"]),
        "is_lens": np.array([False, False, True, False]),
        "lens_grade": np.array(["", "", "A", ""]),
    }
    targets = truth_targets(list(columns), columns.__getitem__)
    assert targets["artefact"].tolist() == [False, True, False, True]
    assert targets["rare_morphology"].tolist() == [False, True, False, True]
    assert targets["is_lens"].tolist() == [False, False, True, False]
    assert truth_targets(["ra", "dec"], columns.__getitem__) == {}
    assert label_targets(["lens_grade==A"], columns.__getitem__)["lens_grade==A"].tolist() == [0, 0, 1, 0]


def test_the_ranked_csv_is_sorted_by_score_with_ties_in_input_order(tmp_path):
    ids = np.array([11, 22, 33, 44])
    scores = np.array([0.1, 0.5, 0.1, 0.9])
    text = ranked_csv_text(ids, scores, np.array([1.0, 2, 3, 4]), np.array([-1.0, -2, -3, -4]))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["object_id"] for r in rows] == ["44", "22", "11", "33"]
    assert [r["rank"] for r in rows] == ["1", "2", "3", "4"]
    assert float(rows[0]["score"]) == 0.9 and float(rows[0]["ra"]) == 4.0 and float(rows[0]["dec"]) == -4.0
    path = write_ranked_csv(tmp_path / "a.csv", ids, scores)
    assert path.read_text().splitlines()[0] == "object_id,score,rank"
    with pytest.raises(InputError, match="3 scores for 4 objects"):
        ranked_csv_text(ids, scores[:3])
