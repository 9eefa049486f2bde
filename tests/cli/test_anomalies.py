"""`skyssl anomalies`: a ranked CSV the review mode reads, the evaluation against truth, one-line errors."""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest

from tests.cli.helpers import error_lines, run_cli
from tests.search.helpers import embeddings_for, sim_store


@pytest.fixture(scope="module")
def planted_emb(tmp_path_factory):
    """Vectors of the 64 simulated objects where the artefacts sit far from a tight bulk."""
    from skyssl.store import Store

    store = sim_store(tmp_path_factory)
    with Store.open(store) as opened:
        odd = np.char.strip(opened.read_column("artefact").astype(str)) != ""
        odd |= opened.read_column("is_lens").astype(bool)
    rng = np.random.default_rng(0)
    vectors = np.ones((odd.size, 16)) + 0.05 * rng.standard_normal((odd.size, 16))
    vectors[odd] = rng.standard_normal((int(odd.sum()), 16))
    return embeddings_for(store, tmp_path_factory.mktemp("cli-anomalies") / "emb", vectors=vectors.astype(np.float32))


def test_anomalies_rank_every_object_and_evaluate_against_truth(planted_emb, tmp_path, capsys):
    from skyssl.embed.reader import Embeddings

    out = tmp_path / "anomalies.csv"
    code, stdout, err = run_cli(capsys, "anomalies", "--embeddings", planted_emb, "--out", out, "--k", "5",
                                "--sheet", "6", "--json")
    assert code == 0, err
    summary = json.loads(stdout)
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == ["object_id", "score", "rank", "ra", "dec"]
    assert [int(r["rank"]) for r in rows] == list(range(1, 65))
    scores = [float(r["score"]) for r in rows]
    assert scores == sorted(scores, reverse=True)
    with Embeddings.open(planted_emb) as opened:
        assert sorted(int(r["object_id"]) for r in rows) == sorted(opened.object_ids.tolist())
    assert summary["top_object_ids"] == [int(r["object_id"]) for r in rows[:10]]
    from skyssl.app.candidates import read_candidates

    review = read_candidates(out)  # the app's review mode reads the ranking as written
    assert review.object_ids.tolist() == [int(r["object_id"]) for r in rows] and review.ranks[0] == 1
    assert (tmp_path / "anomalies_top.png").read_bytes().startswith(b"\x89PNG")
    evaluation = summary["evaluation"]
    assert {"artefact", "rare_morphology", "is_lens"} <= set(evaluation)
    for name in ("artefact", "is_lens"):  # the simulated 64 hold 5 artefacts and 3 lenses, all planted far out
        assert evaluation[name]["n_positives"] >= 1 and evaluation[name]["roc_auc"] > 0.9


def test_isolation_forest_and_user_targets(planted_emb, tmp_path, capsys):
    out = tmp_path / "a.csv"
    code, stdout, err = run_cli(capsys, "anomalies", "--embeddings", planted_emb, "--out", out, "--method", "iforest",
                                "--target", "lens_grade==B", "--top-n", "20")
    assert code == 0, err
    assert "ranked by iforest" in stdout and "lens_grade==B" in stdout and "precision_at_20" in stdout
    assert len(out.read_text().splitlines()) == 65


@pytest.fixture(scope="module")
def empty_emb(planted_emb, tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli-anomalies-empty") / "emb"
    shutil.copytree(planted_emb, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest.update(n_objects=0, shards=[])
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


@pytest.mark.parametrize(("extra", "expected"), [
    (["--k", "64"], "--k must be between 1 and the number of objects − 1 (63), got 64"),
    (["--k", "0"], "--k must be at least 1"),
    (["--method", "lof"], "--method must be one of knn, iforest"),
    (["--target", "no_such_column"], "no column 'no_such_column'"),
    (["--vectors", "projection"], "not 'projection'"),
])
def test_bad_anomaly_arguments(planted_emb, tmp_path, capsys, extra, expected):
    out = tmp_path / "a.csv"
    code, _, err = run_cli(capsys, "anomalies", "--embeddings", planted_emb, "--out", out, *extra)
    assert code == 2 and len(error_lines(err)) == 1 and expected in err and "Traceback" not in err
    assert not out.exists()


def test_empty_embeddings_are_refused(empty_emb, tmp_path, capsys):
    code, _, err = run_cli(capsys, "anomalies", "--embeddings", empty_emb, "--out", tmp_path / "a.csv")
    assert code == 2 and len(error_lines(err)) == 1 and "holds no vectors" in err
