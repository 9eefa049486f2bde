"""`skyssl photoz train` end to end on the 64-object simulated store and its 2-step run's embeddings."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from tests.cli.helpers import error_lines, run_cli
from tests.search.helpers import embeddings_for, synthetic_store, uniform_sky


@pytest.fixture(scope="module")
def bad_labels(tmp_path_factory):
    """A synthetic store whose redshift columns are broken: NaN in one, too few redshifts in another."""
    n = 24
    ra, dec = uniform_sky(n, 2)
    z = np.random.default_rng(0).uniform(0.0, 0.3, n)
    with_nan = z.copy()
    with_nan[5] = np.nan
    sparse = np.full(n, -99.0)
    sparse[:4] = 0.1
    folder = tmp_path_factory.mktemp("photoz-bad")
    store = synthetic_store(folder / "store", ra, dec, columns={"z_nan": with_nan, "z_sparse": sparse})
    return embeddings_for(store, folder / "emb", dim=8)


def test_probe_prints_the_contract_figures_and_writes_the_folder(capsys, emb, tmp_path):
    out = tmp_path / "pz"
    code, stdout, _ = run_cli(capsys, "photoz", "train", "--embeddings", emb, "--label", "z_true", "--out", out,
                              "--n-bins", "20", "--fractions", "0.5,1.0", "--json")
    assert code == 0
    figures = json.loads(stdout)
    for key in ("sigma_mad", "eta", "bias", "eta_015", "crps", "pit_ks", "n_train", "n_test"):
        assert key in figures
    assert figures["model"] == "probe" and figures["bins"]["n_bins"] == 20 and figures["bins"]["z_max"] == 1.0
    assert figures["n_train"] + figures["n_test"] == 64 and figures["n_test"] == 13
    assert figures["n_without_redshift"] == 0 and figures["n_at_or_above_z_max"] == 0
    assert 0.0 <= figures["eta_015"] <= figures["eta"] <= 1.0 and figures["sigma_mad"] >= 0.0
    assert [(r["model"], r["n_labels"]) for r in figures["label_efficiency"]] == [("probe", 26), ("probe", 51)]
    assert json.loads((out / "metrics.json").read_text())["sigma_mad"] == figures["sigma_mad"]
    with open(out / "predictions_probe.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["object_id", "z_true", "z_phot", "z_mode", "delta_z", "pit", "crps"]
    assert len(rows) == 13
    pdf = np.load(out / "pdf_probe.npy")
    assert pdf.shape == (13, 20) and np.allclose(pdf.sum(axis=1), 1.0, atol=1e-5)
    centres = (np.arange(20) + 0.5) * 0.05
    assert [float(r["z_phot"]) for r in rows] == pytest.approx(pdf @ centres, rel=1e-4)
    for name in ("photoz_probe.png", "label_efficiency.png", "label_efficiency.csv", "models/probe/probe.npz",
                 "manifest.json"):
        assert (out / name).is_file(), name
    assert not list(tmp_path.glob(".pz.tmp-*"))


def test_finetune_and_scratch_share_the_split(capsys, emb, run, tmp_path):
    out = tmp_path / "pz-ft"
    code, stdout, _ = run_cli(capsys, "photoz", "train", "--embeddings", emb, "--out", out, "--finetune", "--scratch",
                              "--checkpoint", run, "--n-bins", "10", "--max-steps", "2", "--batch-size", "8",
                              "--device", "cpu", "--json")
    assert code == 0
    figures = json.loads(stdout)
    assert figures["model"] == "finetune" and set(figures["models"]) == {"finetune", "scratch"}
    assert figures["models"]["finetune"]["n"] == figures["models"]["scratch"]["n"] == figures["n_test"]
    assert figures["sigma_mad"] == figures["models"]["finetune"]["sigma_mad"]
    assert (out / "models" / "finetune" / "model.pt").is_file() and (out / "models" / "scratch" / "model.pt").is_file()
    assert np.load(out / "pdf_scratch.npy").shape == (figures["n_test"], 10)


@pytest.mark.parametrize(("args", "message"), [
    (("--label", "z_missing"), "label column 'z_missing' is not in the store"),
    (("--label", "z_nan"), "has 1 NaN or infinite values"),
    (("--label", "z_sparse"), "has a redshift (≥ 0) for: 4 objects, at least 10 are needed"),
    (("--label", "z_nan", "--bins", "hubble"), "unknown redshift-bin preset 'hubble'"),
    (("--finetune",), "--finetune and --scratch need the pretraining run"),
    (("--fractions", "0,1"), "every fraction must be within (0, 1]"),
])
def test_bad_labels_and_options_fail_in_one_line(capsys, bad_labels, tmp_path, args, message):
    code, _, stderr = run_cli(capsys, "photoz", "train", "--embeddings", bad_labels, "--out", tmp_path / "pz", *args)
    assert code == 2
    lines = error_lines(stderr)
    assert len(lines) == 1 and message in lines[0] and lines[0].startswith("skyssl: error:")
    assert not (tmp_path / "pz").exists()


def test_refuses_to_replace_a_folder_that_is_not_a_photoz_study(capsys, emb, tmp_path):
    out = tmp_path / "pz"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    code, _, stderr = run_cli(capsys, "photoz", "train", "--embeddings", emb, "--out", out, "--n-bins", "10")
    assert code == 2 and "refusing to replace it" in stderr
    assert (out / "precious.txt").read_text() == "keep me"
