"""`skyssl morphology train`: learnable vote fractions on a synthetic store, the simulated store's run for the
image models, and one-line errors for unusable questions."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from tests.cli.helpers import error_lines, run_cli
from tests.embed.helpers import embedded_store, trained_run
from tests.search.helpers import embeddings_for, synthetic_store, uniform_sky

N = 300


@pytest.fixture(scope="module")
def voted(tmp_path_factory):
    """Vectors whose first coordinate decides the answer: vote fractions a probe can learn; 10 % with 3 votes."""
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((N, 8)).astype(np.float32)
    fraction = 1.0 / (1.0 + np.exp(-4.0 * vectors[:, 0]))
    votes = np.where(rng.uniform(size=N) < 0.1, 3, 40)
    broken = fraction.copy()
    broken[0] = np.nan
    ra, dec = uniform_sky(N, 3)
    folder = tmp_path_factory.mktemp("morphology")
    store = synthetic_store(folder / "store", ra, dec, columns={
        "gz_bar_fraction": fraction, "gz_num_votes": votes, "gz_merger_fraction": np.zeros(N),
        "broken_fraction": broken, "percent": 100 * fraction})
    return embeddings_for(store, folder / "emb", vectors=vectors), votes


def test_probe_learns_a_question_and_reports_the_contract_figures(capsys, voted, tmp_path):
    emb, votes = voted
    out = tmp_path / "m"
    code, stdout, _ = run_cli(capsys, "morphology", "train", "--embeddings", emb, "--question", "bar", "--out", out,
                              "--budgets", "16,64,all", "--json")
    assert code == 0
    figures = json.loads(stdout)
    for key in ("accuracy", "precision", "recall", "auc", "eta", "f1", "fraction_rmse", "fraction_r2"):
        assert key in figures
    n_enough = int((votes >= 5).sum())
    assert figures["n_too_few_votes"] == N - n_enough and figures["n_train"] + figures["n_test"] == n_enough
    assert figures["column"] == "gz_bar_fraction" and figures["eta"] == pytest.approx(1 - figures["accuracy"])
    assert figures["auc"] > 0.95 and figures["accuracy"] > 0.85
    assert figures["n_test_confident"] < figures["n_test"]
    budgets = [r["n_labels"] for r in figures["label_efficiency"]]
    assert budgets[-1] == figures["n_train"] and budgets == sorted(budgets) and len(budgets) == 3
    with open(out / "predictions_probe.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == figures["n_test"]
    assert list(rows[0]) == ["object_id", "gz_bar_fraction", "votes", "label", "confident", "probability", "predicted"]
    confident = [r for r in rows if r["confident"] == "1"]
    assert len(confident) == figures["n_test_confident"]
    correct = np.mean([r["label"] == r["predicted"] for r in confident])
    assert correct == pytest.approx(figures["accuracy"])
    for name in ("metrics.json", "label_efficiency.png", "label_efficiency.csv", "models/probe/probe.npz",
                 "manifest.json"):
        assert (out / name).is_file(), name


def test_image_models_on_the_simulated_store(capsys, tmp_path_factory, tmp_path):
    """`is_red` (0/1) serves as a vote fraction every object answers confidently."""
    emb, run = embedded_store(tmp_path_factory), trained_run(tmp_path_factory)
    code, stdout, _ = run_cli(capsys, "morphology", "train", "--embeddings", emb, "--question", "is_red", "--out",
                              tmp_path / "m", "--finetune", "--scratch", "--checkpoint", run, "--max-steps", "2",
                              "--batch-size", "8", "--device", "cpu", "--json")
    assert code == 0
    figures = json.loads(stdout)
    assert figures["model"] == "finetune" and set(figures["models"]) == {"finetune", "scratch"}
    assert figures["n_test_confident"] == figures["n_test"]
    assert (tmp_path / "m" / "models" / "scratch" / "model.pt").is_file()


@pytest.mark.parametrize(("question", "extra", "message"), [
    ("spiral", (), "unknown question 'spiral': no column 'gz_spiral_fraction'"),
    ("broken_fraction", (), "has 1 NaN or infinite values"),
    ("percent", (), "holds values outside [0, 1]"),
    ("merger", (), "0 of"),
    ("bar", ("--min-votes", "100"), "with ≥ 100 votes: 0 objects"),
    ("bar", ("--votes-column", "n_votes"), "label column 'n_votes' is not in the store"),
    ("bar", ("--confident", "1.2"), "--confident must be within [0.5, 1)"),
    ("bar", ("--budgets", "ten"), "label budget 'ten'"),
])
def test_unusable_questions_fail_in_one_line(capsys, voted, tmp_path, question, extra, message):
    emb, _ = voted
    code, _, stderr = run_cli(capsys, "morphology", "train", "--embeddings", emb, "--question", question, "--out",
                              tmp_path / "m", *extra)
    assert code == 2
    lines = error_lines(stderr)
    assert len(lines) == 1 and message in lines[0], lines
    assert not (tmp_path / "m").exists()
