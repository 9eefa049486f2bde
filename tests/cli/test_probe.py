"""`skyssl probe train/predict/sweep` end to end on a small synthetic lens survey, and its bad inputs."""

from __future__ import annotations

import json

import numpy as np
import pytest
from astropy.table import Table

from tests.cli.helpers import error_lines, run_cli
from tests.search.helpers import embeddings_for, synthetic_store, uniform_sky

N_OBJECTS = 800
FAST = ("--l2", "0.1,0.001", "--max-iter", "60")


@pytest.fixture(scope="module")
def survey(tmp_path_factory):
    """(store, float16 embeddings): 6 % lenses whose vectors lean along three of 16 dimensions."""
    base = tmp_path_factory.mktemp("probe-survey")
    rng = np.random.default_rng(0)
    ra, dec = uniform_sky(N_OBJECTS, 1)
    is_lens = rng.random(N_OBJECTS) < 0.06
    flux_ratio = np.where(rng.random(N_OBJECTS) < 0.1, np.nan, rng.random(N_OBJECTS))
    store = synthetic_store(base / "store", ra, dec, columns={"is_lens": is_lens, "flux_ratio": flux_ratio})
    vectors = rng.standard_normal((N_OBJECTS, 16)).astype(np.float32)
    vectors[is_lens, :3] += 1.5
    return store, embeddings_for(store, base / "emb", vectors=vectors, dtype="float16", rows_per_shard=300)


@pytest.fixture(scope="module")
def trained(survey, tmp_path_factory):
    _, emb = survey
    out = tmp_path_factory.mktemp("probe-train") / "probe"
    from skyssl.cli.main import main

    assert main(["probe", "train", "--embeddings", str(emb), "--label", "is_lens", "--ratio", "1:10", "--out",
                 str(out), "--json", *FAST]) == 0
    return out


def test_train_prints_validation_metrics_and_writes_the_probe(survey, capsys, tmp_path):
    _, emb = survey
    code, out, err = run_cli(capsys, "probe", "train", "--embeddings", emb, "--label", "is_lens", "--ratio", "1:10",
                             "--out", tmp_path / "p", "--json", *FAST)
    assert code == 0, err
    figures = json.loads(out)
    for key in ("precision_at_n", "n", "auc", "tpr0", "tpr10", "l2", "fit_seconds", "val_ratio_achieved",
                "train_ratio_achieved"):
        assert key in figures
    assert figures["auc"] > 0.8                       # the lenses are separable along three dimensions
    assert figures["n"] == figures["n_val_positive"]   # N defaults to the validation lenses
    manifest = json.loads((tmp_path / "p" / "manifest.json").read_text())
    best_tp = max(row["true_positives_at_n"] for row in manifest["l2_grid"])
    assert manifest["metrics"]["true_positives_at_n"] == best_tp      # chosen by TP in the top N
    assert len(manifest["l2_grid"]) == 2
    validation = Table.read(tmp_path / "p" / "validation.csv", format="ascii.csv")
    assert len(validation) == figures["n_val_positive"] + figures["n_val_negative"]


def test_predict_writes_a_ranked_catalogue_csv_fits_and_sheets(survey, trained, capsys, tmp_path):
    _, emb = survey
    csv_path = tmp_path / "candidates.csv"
    code, _, err = run_cli(capsys, "probe", "predict", "--probe", trained, "--embeddings", emb, "--out", csv_path,
                           "--fits", "--sheets", tmp_path / "sheets", "--top", "12")
    assert code == 0, err
    table = Table.read(csv_path, format="ascii.csv")
    assert table.colnames[:6] == ["object_id", "ra", "dec", "score", "logit", "rank"]
    assert len(table) == N_OBJECTS and len(set(table["object_id"])) == N_OBJECTS
    np.testing.assert_array_equal(table["rank"], np.arange(1, N_OBJECTS + 1))
    assert np.all(np.diff(table["logit"]) <= 0) and np.all(np.diff(table["score"]) <= 0)
    fits_table = Table.read(tmp_path / "candidates.fits")
    np.testing.assert_array_equal(fits_table["object_id"], table["object_id"])
    assert sorted(p.name for p in (tmp_path / "sheets").iterdir()) == ["candidates-001.png"]


def test_sweep_writes_json_and_plot_with_nested_sets(survey, capsys, tmp_path):
    _, emb = survey
    code, out, err = run_cli(capsys, "probe", "sweep", "--embeddings", emb, "--label", "is_lens", "--ratios",
                             "1:1,1:4,1:16", "--out", tmp_path / "sweep", "--json", *FAST)
    assert code == 0, err
    rows = json.loads(out)["rows"]
    assert [row["ratio"] for row in rows] == ["1:1", "1:4", "1:16"]
    negatives = [row["n_train_negative"] for row in rows]
    assert negatives == sorted(negatives) and negatives[0] == rows[0]["n_train_positive"]
    assert len({row["n_val_negative"] for row in rows}) == 1             # one shared validation split
    assert (tmp_path / "sweep" / "sweep.png").stat().st_size > 0
    assert json.loads((tmp_path / "sweep" / "sweep.json").read_text())["rows"][0]["n"] == rows[0]["n"]


def _label_csv(path, rows):
    path.write_text("object_id,label\n" + "".join(f"{i},{v}\n" for i, v in rows))
    return path


@pytest.mark.parametrize("make_label, message", [
    (lambda ids, tmp: str(_label_csv(tmp / "u.csv", [(ids[0], 1), (ids[1], 0), (999, 1)])), "unknown object_id 999"),
    (lambda ids, tmp: str(_label_csv(tmp / "o.csv", [(i, 1) for i in ids[:20]])), "all positive"),
    (lambda ids, tmp: str(_label_csv(tmp / "n.csv", [(ids[0], 1), (ids[1], "nan"), (ids[2], 0)])), "NaN"),
    (lambda ids, tmp: "flux_ratio>0.5", "NaN for"),
    (lambda ids, tmp: "no_such_column", "no column"),
])
def test_bad_labels_exit_2_with_one_line(survey, capsys, tmp_path, make_label, message):
    store, emb = survey
    from skyssl.store import Store

    with Store.open(store) as opened:
        ids = [int(i) for i in opened.object_ids[:30]]
    code, _, err = run_cli(capsys, "probe", "train", "--embeddings", emb, "--label", make_label(ids, tmp_path),
                           "--out", tmp_path / "p", *FAST)
    assert code == 2
    lines = error_lines(err)
    assert len(lines) == 1 and lines[0].startswith("skyssl: error:") and message in lines[0]
    assert not (tmp_path / "p").exists()


@pytest.mark.parametrize("args, message", [
    (("--ratio", "1:0"), "ratio"),
    (("--l2", "x"), "--l2"),
    (("--n", "100000"), "outside the validation split"),
])
def test_bad_options_exit_2_with_one_line(survey, capsys, tmp_path, args, message):
    _, emb = survey
    code, _, err = run_cli(capsys, "probe", "train", "--embeddings", emb, "--label", "is_lens", "--out",
                           tmp_path / "p", *FAST, *args)
    assert code == 2 and len(error_lines(err)) == 1 and message in err


def test_train_refuses_to_replace_an_existing_folder_without_overwrite(survey, trained, capsys):
    _, emb = survey
    code, _, err = run_cli(capsys, "probe", "train", "--embeddings", emb, "--label", "is_lens", "--out", trained, *FAST)
    assert code == 2 and "--overwrite" in err and len(error_lines(err)) == 1
    code, _, err = run_cli(capsys, "probe", "train", "--embeddings", emb, "--label", "is_lens", "--out", trained,
                           "--overwrite", *FAST)
    assert code == 0, err


def test_predict_refuses_vectors_of_another_size(survey, trained, capsys, tmp_path):
    store, _ = survey
    other = embeddings_for(store, tmp_path / "emb8", dim=8)
    code, _, err = run_cli(capsys, "probe", "predict", "--probe", trained, "--embeddings", other, "--out",
                           tmp_path / "c.csv")
    assert code == 2 and "probe expects 16" in err
