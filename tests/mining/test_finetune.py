"""Fine-tuning for lenses: labels from the store, the stratified split, N, and the evaluation end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest

from skyssl.errors import InputError
from skyssl.finetune.supervised import SupervisedConfig, predict_rows
from skyssl.mining.finetune import binary_labels, default_top_n, finetune_lenses, stratified_split
from skyssl.mining.metrics import lens_finding_metrics
from skyssl.store import Store


def test_labels_come_from_the_store_spec(store):
    with Store.open(store) as opened:
        is_lens = opened.read_column("is_lens").astype(bool)
        grade = opened.read_column("lens_grade")
    assert np.array_equal(binary_labels(store, "is_lens"), is_lens)
    assert np.array_equal(binary_labels(store, "lens_grade==B"), grade == "B")


@pytest.mark.parametrize(("label", "message"), [
    ("no_such_column", "no column 'no_such_column'"),
    ("lens_mu>1", "NaN"),
    ("lens_grade==A", "one class only"),
    ("z_true>-1", "one class only"),
    ("z_true", "not boolean"),
])
def test_bad_labels_are_one_line_errors(store, label, message):
    with pytest.raises(InputError, match=message) as info:
        binary_labels(store, label)
    assert "\n" not in str(info.value)


def test_the_split_is_stratified_disjoint_and_complete():
    classes = np.array([1] * 5 + [0] * 95)
    train, val = stratified_split(classes, 0.2, seed=0)
    assert np.array_equal(np.sort(np.concatenate([train, val])), np.arange(100))
    assert classes[val].sum() == 1 and (classes[val] == 0).sum() == 19
    again_train, again_val = stratified_split(classes, 0.2, seed=0)
    assert np.array_equal(again_val, val) and np.array_equal(again_train, train)
    _, other = stratified_split(classes, 0.2, seed=1)
    assert not np.array_equal(other, val)


def test_a_rare_class_keeps_one_object_on_each_side():
    classes = np.array([1, 1] + [0] * 50)
    train, val = stratified_split(classes, 0.05, seed=0)
    assert classes[train].sum() == 1 and classes[val].sum() == 1
    with pytest.raises(InputError, match="need at least 2"):
        stratified_split(np.array([1] + [0] * 10), 0.2, seed=0)
    with pytest.raises(InputError, match=r"\(0, 1\)"):
        stratified_split(classes, 1.0, seed=0)


def test_n_defaults_to_the_number_of_validation_positives():
    labels = np.array([True, False, True, False, False])
    assert default_top_n(labels, None) == 2
    assert default_top_n(labels, 5) == 5
    with pytest.raises(InputError, match="between 1 and the 5"):
        default_top_n(labels, 6)


def test_finetuning_reports_the_lens_metrics_of_its_own_validation_ranking(run, store, tmp_path):
    config = SupervisedConfig(task="binary", max_steps=3, batch_size=8, positive_fraction=0.25)
    out = tmp_path / "ft"
    figures = finetune_lenses(run, store, "is_lens", out, config, val_fraction=0.25, device="cpu")
    labels = binary_labels(store, "is_lens")
    _, val = stratified_split(labels, 0.25, config.seed)
    scores = predict_rows(out, store, val, device="cpu")[:, 0]
    expected = lens_finding_metrics(scores, labels[val], figures["n"])
    for key in ("precision_at_n", "recall_at_n", "auc", "pr_auc", "tpr0", "tpr10"):
        assert figures[key] == pytest.approx(expected[key])
    assert figures["n"] == figures["n_val_positive"] == int(labels[val].sum()) >= 1
    assert figures["n_train"] + figures["n_val"] == 64
    assert figures["steps"] == 3 and figures["seconds"] > 0 and figures["init"] == "checkpoint"
    assert json.loads((out / "evaluation.json").read_text())["auc"] == pytest.approx(figures["auc"])


def test_only_binary_recipes_are_lens_recipes(run, store, tmp_path):
    with pytest.raises(InputError, match="binary task"):
        finetune_lenses(run, store, "is_lens", tmp_path / "x", SupervisedConfig(task="regression"))
