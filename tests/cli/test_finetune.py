"""`skyssl finetune` and `skyssl label-efficiency`: JSON figures, files, and one-line errors for bad labels."""

from __future__ import annotations

import json

import pytest

from tests.cli.helpers import error_lines, run_cli
from tests.embed.helpers import embedded_store, trained_run
from tests.search.helpers import sim_store

LENS_KEYS = {"n", "precision_at_n", "recall_at_n", "auc", "pr_auc", "tpr0", "tpr10", "images_per_lens", "steps",
             "seconds", "n_train", "n_val", "n_val_positive", "init", "label"}


@pytest.fixture(scope="module")
def paths(tmp_path_factory):
    return trained_run(tmp_path_factory), sim_store(tmp_path_factory)


def test_finetune_prints_the_lens_metrics_as_json(paths, tmp_path, capsys):
    run, store = paths
    code, out, err = run_cli(capsys, "finetune", "--checkpoint", run, "--data", store, "--label", "is_lens",
                             "--out", tmp_path / "ft", "--max-steps", "2", "--batch-size", "8", "--val-fraction",
                             "0.25", "--device", "cpu", "--json")
    assert code == 0, err
    figures = json.loads(out)
    assert LENS_KEYS <= set(figures)
    assert figures["steps"] == 2 and figures["init"] == "checkpoint" and figures["backbone_lr"] == 1e-4
    assert (tmp_path / "ft" / "model.pt").is_file() and (tmp_path / "ft" / "evaluation.json").is_file()


def test_scratch_trains_the_same_architecture_from_random_weights(paths, tmp_path, capsys):
    run, store = paths
    code, out, err = run_cli(capsys, "finetune", "--checkpoint", run, "--data", store, "--out", tmp_path / "s",
                             "--max-steps", "1", "--batch-size", "8", "--scratch", "--positive-fraction", "0",
                             "--device", "cpu", "--json")
    assert code == 0, err
    figures = json.loads(out)
    assert figures["init"] == "scratch" and figures["backbone_lr"] == figures["head_lr"]
    assert figures["positive_fraction"] is None


@pytest.mark.parametrize(("label", "message"), [
    ("no_such_column", "no column 'no_such_column'"),
    ("lens_grade==A", "one class only"),
    ("lens_mu>1", "NaN"),
])
def test_bad_labels_exit_2_with_one_line(paths, tmp_path, capsys, label, message):
    run, store = paths
    code, _, err = run_cli(capsys, "finetune", "--checkpoint", run, "--data", store, "--label", label,
                           "--out", tmp_path / "ft", "--max-steps", "1", "--device", "cpu")
    assert code == 2
    assert len(error_lines(err)) == 1 and message in err and err.startswith("skyssl: error:")
    assert not (tmp_path / "ft").exists()


def test_a_missing_run_exits_2(paths, tmp_path, capsys):
    _, store = paths
    code, _, err = run_cli(capsys, "finetune", "--checkpoint", tmp_path / "nope", "--data", store, "--out",
                           tmp_path / "ft", "--max-steps", "1")
    assert code == 2 and "no such run dir" in err


def test_label_efficiency_writes_the_table_and_plot(paths, tmp_path_factory, tmp_path, capsys):
    run, store = paths
    emb = embedded_store(tmp_path_factory)
    code, out, err = run_cli(capsys, "label-efficiency", "--checkpoint", run, "--data", store, "--embeddings", emb,
                             "--budgets", "16,all", "--min-positives", "1", "--max-steps", "1", "--batch-size", "8",
                             "--val-fraction", "0.25", "--out", tmp_path / "le", "--device", "cpu", "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert {r["method"] for r in summary["rows"]} == {"linear probe", "fine-tuned SSL", "from scratch"}
    assert len(summary["rows"]) == 6 and summary["metric"] == "precision_at_n"
    assert (tmp_path / "le" / "label_efficiency.png").is_file()
    assert "linear probe on 16 labels" in err  # progress goes to stderr, JSON alone to stdout


def test_label_efficiency_refuses_bad_budgets(paths, tmp_path_factory, tmp_path, capsys):
    run, store = paths
    code, _, err = run_cli(capsys, "label-efficiency", "--checkpoint", run, "--data", store, "--embeddings",
                           embedded_store(tmp_path_factory), "--budgets", "64,some", "--out", tmp_path / "le")
    assert code == 2 and "positive integer nor 'all'" in err
