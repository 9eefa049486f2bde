"""`skyssl neighbors`: writes a table whose rows are exact search results; bad input is one line."""

import json

import numpy as np
import pytest

from skyssl.search import NeighborTable
from tests.cli.helpers import error_lines, run_cli
from tests.search.helpers import brute_force, embeddings_for, sim_store


@pytest.fixture(scope="module")
def emb(tmp_path_factory):
    vectors = np.random.default_rng(4).standard_normal((64, 8)).astype(np.float32)
    path = embeddings_for(sim_store(tmp_path_factory), tmp_path_factory.mktemp("cli-nn") / "emb", vectors)
    return path, vectors


def test_neighbors_table(emb, tmp_path, capsys):
    path, vectors = emb
    code, out, _ = run_cli(capsys, "neighbors", "--embeddings", path, "--k", "6", "--mag-window", "0.5",
                           "--mag-band", "r", "--dtype", "float16", "--block-rows", "20", "--out", tmp_path / "t",
                           "--json")
    manifest = json.loads(out)
    assert code == 0 and manifest["mag_window"]["band"] == "r" and len(manifest["blocks"]) == 4
    code, _, _ = run_cli(capsys, "neighbors", "--embeddings", path, "--k", "6", "--out", tmp_path / "full")
    with NeighborTable.open(tmp_path / "full") as table:
        assert table.row(position=9).positions.tolist() == brute_force(vectors, vectors[9], 6)[0].tolist()


@pytest.mark.parametrize(("args", "expected"), [
    (["--k", "0"], "--k must be at least 1"),
    (["--k", "65"], "k must be between 1 and the number of objects (64)"),
    (["--dtype", "float64"], "similarity dtype"),
    (["--mag-window", "0.5", "--mag-band", "y"], "no band 'y'"),
])
def test_bad_neighbors_arguments(emb, tmp_path, capsys, args, expected):
    code, _, err = run_cli(capsys, "neighbors", "--embeddings", emb[0], "--out", tmp_path / "t", *args)
    assert code == 2 and len(error_lines(err)) == 1 and expected in err and "Traceback" not in err
