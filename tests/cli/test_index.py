"""`skyssl index`: builds each kind with its recall recorded; bad input is one line, exit 2."""

import json

import pytest

from tests.cli.helpers import error_lines, run_cli
from tests.search.helpers import embeddings_for, sim_store


@pytest.fixture(scope="module")
def emb(tmp_path_factory):
    return embeddings_for(sim_store(tmp_path_factory), tmp_path_factory.mktemp("cli-index") / "emb")


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_index_records_kind_and_recall(emb, tmp_path, capsys, kind):
    code, out, err = run_cli(capsys, "index", "--embeddings", emb, "--out", tmp_path / "index", "--kind", kind,
                             "--k", "10", "--sample-queries", "20", "--json")
    manifest = json.loads(out)
    assert code == 0 and err == ""
    assert manifest["kind"] == "skyssl.index" and manifest["index_kind"] == kind
    assert manifest["recall_at_k"]["k"] == 10 and manifest["recall_at_k"]["value"] >= 0.95
    assert (tmp_path / "index" / "index.faiss").is_file() and (tmp_path / "index" / "ids.npy").is_file()


@pytest.mark.parametrize(("args", "expected"), [
    (["--kind", "annoy"], "--kind must be one of"),
    (["--k", "0"], "--k must be at least 1"),
    (["--kind", "ivfpq"], "IVF-PQ needs at least"),
])
def test_bad_index_arguments(emb, tmp_path, capsys, args, expected):
    code, _, err = run_cli(capsys, "index", "--embeddings", emb, "--out", tmp_path / "index", *args)
    assert code == 2 and len(error_lines(err)) == 1 and expected in err and "Traceback" not in err


def test_embeddings_that_do_not_exist(tmp_path, capsys):
    code, _, err = run_cli(capsys, "index", "--embeddings", tmp_path / "nope", "--out", tmp_path / "index")
    assert code == 2 and error_lines(err) == [f"skyssl: error: {tmp_path / 'nope'}: no such embeddings folder"]
