"""The label-efficiency study: budgets, nested subsets that keep rare positives, the generic loop and plot,
and the three-method lens study end to end on the tiny run."""

from __future__ import annotations

import csv
import itertools
import json

import numpy as np
import pytest

from skyssl.embed.reader import Embeddings
from skyssl.errors import InputError
from skyssl.finetune.supervised import SupervisedConfig
from skyssl.mining.label_efficiency import (
    ALL,
    LENS_METRICS,
    Method,
    lens_label_efficiency,
    nested_subsets,
    parse_budgets,
    resolve_budgets,
    run_study,
    study_figure,
    vectors_for_rows,
)
from skyssl.viz.report import PNG_SIGNATURE
from tests.embed.helpers import embedded_store, trained_run
from tests.search.helpers import sim_store


def test_budgets_parse_and_resolve_against_the_training_set():
    assert parse_budgets("64, 256,all") == [64, 256, ALL]
    assert resolve_budgets([64, 256, ALL, 5000], 1000) == [64, 256, 1000]
    for bad in ("64,0", "64,lots", "-3", ""):
        with pytest.raises(InputError, match="positive integer nor 'all'"):
            parse_budgets(bad)


def test_subsets_are_nested_sized_and_keep_the_rare_class():
    strata = np.zeros(1000, dtype=np.int64)
    strata[::100] = 1  # 10 positives, 1 %
    subsets = nested_subsets(1000, [64, 128, 500, 1000], seed=0, strata=strata, min_per_stratum=4)
    for smaller, larger in itertools.pairwise(subsets):
        assert np.isin(smaller, larger).all()
    assert [s.size for s in subsets] == [64, 128, 500, 1000]
    assert [int(strata[s].sum()) for s in subsets] == [4, 4, 5, 10]
    assert all(np.unique(s).size == s.size for s in subsets)
    again = nested_subsets(1000, [64, 128, 500, 1000], seed=0, strata=strata, min_per_stratum=4)
    assert all(np.array_equal(a, b) for a, b in zip(subsets, again, strict=True))


def test_subsets_without_strata_are_random_prefixes():
    subsets = nested_subsets(50, [10, 50], seed=2)
    assert subsets[0].size == 10 and np.array_equal(subsets[1], np.arange(50))
    assert not np.array_equal(subsets[0], np.arange(10))


def test_a_minimum_above_the_budget_takes_what_it_must():
    strata = np.array([1, 1, 1] + [0] * 7)
    subsets = nested_subsets(10, [2, 10], seed=0, strata=strata, min_per_stratum=2)
    assert int(strata[subsets[0]].sum()) == 2 and int((strata[subsets[0]] == 0).sum()) == 2
    assert subsets[1].size == 10


def test_the_loop_runs_every_method_on_every_subset_and_plots_them():
    val_targets = np.array([0.0, 1.0, 2.0])
    methods = [Method("mean", lambda positions: np.full(3, positions.size, dtype=float)),
               Method("zero", lambda positions: np.zeros(3))]
    subsets = [np.arange(2), np.arange(4)]
    lines = []
    rows = run_study(methods, subsets, val_targets, lambda s, t: float(np.abs(s - t).mean()), "mae", lines.append)
    assert [(r["method"], r["n_labels"]) for r in rows] == [("mean", 2), ("zero", 2), ("mean", 4), ("zero", 4)]
    assert [r["mae"] for r in rows] == [1.0, 1.0, 3.0, 1.0]
    assert len(lines) == 4 and "mae" in lines[0]
    assert study_figure(rows, "mae", "toy").startswith(PNG_SIGNATURE)


def test_a_metric_may_return_several_figures_and_undefined_ones_are_not_plotted():
    methods = [Method("constant", lambda positions: np.zeros(2))]
    rows = run_study(methods, [np.arange(3)], np.zeros(2), lambda s, t: {"a": 1.0, "b": None}, "b")
    assert rows[0]["a"] == 1.0 and rows[0]["b"] is None
    assert study_figure(rows, "b").startswith(PNG_SIGNATURE)


def test_vectors_are_looked_up_by_store_row(tmp_path_factory):
    with Embeddings.open(embedded_store(tmp_path_factory)) as embeddings:
        rows = np.array([40, 3, 17])
        expected = embeddings.vectors("backbone", np.searchsorted(embeddings.rows, rows))
        assert np.array_equal(vectors_for_rows(embeddings, rows), expected)
        with pytest.raises(InputError, match="not in"):
            vectors_for_rows(embeddings, np.array([3, 64]))


def test_the_lens_study_trains_three_methods_per_budget(tmp_path_factory, tmp_path):
    run, store, emb = trained_run(tmp_path_factory), sim_store(tmp_path_factory), embedded_store(tmp_path_factory)
    config = SupervisedConfig(task="binary", max_steps=2, batch_size=8, positive_fraction=0.25)
    summary = lens_label_efficiency(run, store, emb, "is_lens", [16, ALL], config, tmp_path / "study",
                                    val_fraction=0.25, min_positives=1, device="cpu")
    rows = summary["rows"]
    assert [r["method"] for r in rows] == ["linear probe", "fine-tuned SSL", "from scratch"] * 2
    assert [r["n_labels"] for r in rows] == [16] * 3 + [summary["n_train"]] * 3
    assert all(0.0 <= r["precision_at_n"] <= 1.0 and r["n_positive"] >= 1 for r in rows)
    assert all(set(LENS_METRICS) <= set(r) for r in rows)
    assert summary["n"] == summary["n_val_positive"] >= 1
    with open(tmp_path / "study" / "label_efficiency.csv", newline="") as handle:
        assert len(list(csv.DictReader(handle))) == 6
    assert (tmp_path / "study" / "label_efficiency.png").read_bytes().startswith(PNG_SIGNATURE)
    assert json.loads((tmp_path / "study" / "label_efficiency.json").read_text())["budgets"] == [16, summary["n_train"]]
    scratch = json.loads((tmp_path / "study" / "models" / "from-scratch-16" / "manifest.json").read_text())
    assert scratch["config"]["init"] == "scratch" and scratch["config"]["backbone_lr"] == config.head_lr


def test_an_unknown_metric_fails_before_any_training(tmp_path_factory, tmp_path):
    run, store, emb = trained_run(tmp_path_factory), sim_store(tmp_path_factory), embedded_store(tmp_path_factory)
    config = SupervisedConfig(task="binary", max_steps=2, batch_size=8)
    with pytest.raises(InputError, match="unknown lens metric"):
        lens_label_efficiency(run, store, emb, "is_lens", [16], config, tmp_path / "s", metric="f1", device="cpu")
    assert not (tmp_path / "s").exists()
