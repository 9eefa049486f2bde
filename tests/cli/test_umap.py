"""`skyssl umap`: the mosaic, coloured panels and the map artefact; with a run, the pixel map and the
stationarity test; bad input is one line and exit code 2."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from tests.cli.helpers import error_lines, run_cli
from tests.search.helpers import embeddings_for, sim_store

PNG = b"\x89PNG"


@pytest.fixture(scope="module")
def emb(tmp_path_factory):
    return embeddings_for(sim_store(tmp_path_factory), tmp_path_factory.mktemp("cli-umap") / "emb", dim=16)


@pytest.fixture(scope="module")
def empty_emb(emb, tmp_path_factory):
    """An embeddings artefact that holds no vectors (the writer refuses to make one, a user's tool may not)."""
    folder = tmp_path_factory.mktemp("cli-umap-empty") / "emb"
    shutil.copytree(emb, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest.update(n_objects=0, shards=[])
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def test_umap_writes_the_mosaic_panels_and_the_map(emb, tmp_path, capsys):
    from skyssl.embed.reader import Embeddings
    from skyssl.science.umap_artefact import open_map

    out = tmp_path / "map.png"
    args = ["umap", "--embeddings", emb, "--out", out, "--color-by", "morph_class", "--color-by", "mag_r",
            "--grid", "6", "--fit-sample", "50", "--json"]
    code, stdout, err = run_cli(capsys, *args)
    assert code == 0, err
    summary = json.loads(stdout)
    assert out.read_bytes().startswith(PNG)
    for name in ("morph_class", "mag_r"):
        assert (tmp_path / f"map_{name}.png").read_bytes().startswith(PNG)
        assert summary["panels"][name] == str(tmp_path / f"map_{name}.png")
    assert summary["n_objects"] == 64 and summary["n_fitted"] == 50 and 1 <= summary["occupied_cells"] <= 36
    assert "need --checkpoint RUN" in summary["skipped"][0] and "pixel_map" not in summary
    first = open_map(tmp_path / "map.umap")
    with Embeddings.open(emb) as opened:
        assert np.array_equal(first.object_ids, opened.object_ids)
    code, _, err = run_cli(capsys, *args)  # a rerun replaces the map it wrote, with the same bytes
    assert code == 0, err
    assert np.array_equal(open_map(tmp_path / "map.umap").xy, first.xy)

    code, stdout, err = run_cli(capsys, "umap", "--embeddings", emb, "--out", tmp_path / "again.png", "--map",
                                tmp_path / "map.umap", "--grid", "4")
    assert code == 0, err
    assert "64 objects (0 fitted)" in stdout and (tmp_path / "again.umap" / "manifest.json").is_file()


def test_umap_with_the_run_adds_the_pixel_map_and_the_stationarity_test(tmp_path_factory, tmp_path, capsys):
    from tests.embed.helpers import embedded_store, trained_run

    emb, run = embedded_store(tmp_path_factory), trained_run(tmp_path_factory)
    code, stdout, err = run_cli(capsys, "umap", "--embeddings", emb, "--out", tmp_path / "m.png", "--checkpoint", run,
                                "--color-by", "morph_class", "--sample", "40", "--grid", "5", "--json")
    assert code == 0, err
    summary = json.loads(stdout)
    assert summary["skipped"] == []
    assert (tmp_path / "m_pixels.png").read_bytes().startswith(PNG)
    assert (tmp_path / "m_stationarity.png").read_bytes().startswith(PNG)
    pixels, station = summary["pixel_map_figures"], summary["stationarity"]
    assert pixels["n_objects"] == 40 and 0.0 <= pixels["neighbour_agreement_pixels"] <= 1.0
    assert station["n_objects"] == 10 and station["median_shift"] >= 0.0
    assert station["typical_pair_distance"] > station["typical_neighbour_distance"] > 0.0


@pytest.mark.parametrize(("extra", "expected"), [
    (["--color-by", "no_such_column"], "no column 'no_such_column'"),
    (["--color-by", "mag"], "is per band"),
    (["--fit-sample", "0"], "--fit-sample must be at least 1"),
    (["--fit-sample", "10"], "a map of 10 fitted objects"),
    (["--vectors", "projection"], "not 'projection'"),
    (["--grid", "0"], "--grid, --tile-px and --sample must be at least 1"),
])
def test_bad_umap_arguments(emb, tmp_path, capsys, extra, expected):
    code, _, err = run_cli(capsys, "umap", "--embeddings", emb, "--out", tmp_path / "map.png", *extra)
    assert code == 2 and len(error_lines(err)) == 1 and expected in err and "Traceback" not in err
    assert not (tmp_path / "map.png").exists()


def test_bad_umap_inputs(emb, empty_emb, tmp_path, capsys):
    cases = [
        (["--embeddings", empty_emb, "--out", tmp_path / "map.png"], "holds no vectors"),
        (["--embeddings", tmp_path / "nothing", "--out", tmp_path / "map.png"], "no such embeddings folder"),
        (["--embeddings", emb, "--out", tmp_path / "map.jpg"], "name it with .png"),
        (["--embeddings", emb, "--out", tmp_path / "no" / "map.png"], "does not exist"),
        (["--embeddings", emb, "--out", tmp_path / "map.png", "--map", tmp_path / "nothing"], "no manifest.json"),
    ]
    for args, expected in cases:
        code, _, err = run_cli(capsys, "umap", *args)
        assert code == 2 and len(error_lines(err)) == 1 and expected in err, (args, err)


def test_the_demo_map_stage_adds_the_map_and_the_anomalies(tmp_path_factory, tmp_path):
    from skyssl.cli.demo_map import map_stage
    from skyssl.viz import Report
    from tests.embed.helpers import embedded_store, trained_run

    report = Report("map stage")
    map_stage(report, sim_store(tmp_path_factory), trained_run(tmp_path_factory), embedded_store(tmp_path_factory),
              tmp_path)
    page = report.to_html()
    assert "<h2>1. The map of the representation space (UMAP)</h2>" in page and "<h2>2. Anomalies</h2>" in page
    assert page.count("<img") == 6 and "rare_morphology" in page
    assert (tmp_path / "map.umap" / "manifest.json").is_file()
    assert (tmp_path / "anomalies.csv").read_text().startswith("object_id,score,rank,ra,dec")
