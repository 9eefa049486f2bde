"""`skyssl evaluate search`: precision@k, base rate and enrichment as JSON; bad input is one line."""

import json

import pytest

from tests.cli.helpers import error_lines, run_cli
from tests.search.helpers import embeddings_for, sim_store


@pytest.fixture(scope="module")
def emb(tmp_path_factory):
    return embeddings_for(sim_store(tmp_path_factory), tmp_path_factory.mktemp("cli-eval") / "emb")


def test_evaluate_search_json(emb, capsys):
    code, out, err = run_cli(capsys, "evaluate", "search", "--embeddings", emb, "--label", "is_lens", "--k", "10",
                             "--json")
    figures = json.loads(out)
    assert code == 0 and err == ""
    assert {"precision_at_k", "base_rate", "enrichment", "augmented_copy_top1"} <= set(figures)
    assert figures["augmented_copy_top1"] is None and 0 < figures["base_rate"] < 1


@pytest.mark.parametrize(("args", "expected"), [
    (["--label", "is_lens", "--k", "0"], "--k must be at least 1"),
    (["--label", "no_such_column", "--k", "5"], "no column 'no_such_column'"),
    (["--label", "lens_grade==Z", "--k", "5"], "selects no objects"),
    (["--label", "is_lens"], "k must be between 1 and the number of objects − 1 (63), got 100"),
])
def test_bad_evaluate_arguments(emb, capsys, args, expected):
    code, _, err = run_cli(capsys, "evaluate", "search", "--embeddings", emb, *args)
    assert code == 2 and len(error_lines(err)) == 1 and expected in err and "Traceback" not in err


def test_evaluate_with_a_checkpoint_measures_augmented_copies(tmp_path_factory, capsys):
    from tests.embed.helpers import embedded_store, trained_run

    emb, run = embedded_store(tmp_path_factory), trained_run(tmp_path_factory)
    args = ["evaluate", "search", "--embeddings", emb, "--label", "is_lens", "--k", "5", "--checkpoint", run,
            "--copies", "40", "--json"]
    code, out, err = run_cli(capsys, *args)
    assert code == 0, err
    figures = json.loads(out)
    assert 0.0 <= figures["augmented_copy_top1"] <= 1.0
    assert json.loads(run_cli(capsys, *args)[1])["augmented_copy_top1"] == figures["augmented_copy_top1"]  # seeded
    code, _, err = run_cli(capsys, *args[:-3], "--copies", "0")
    assert code == 2 and "--copies must be at least 1" in err


def test_a_checkpoint_other_than_the_embeddings_one_is_refused(tmp_path_factory, tmp_path, capsys):
    import numpy as np

    from skyssl.embed import write_embeddings
    from skyssl.store import Store
    from tests.embed.helpers import trained_run

    store = sim_store(tmp_path_factory)
    with Store.open(store) as opened:
        ids = opened.object_ids
    emb = write_embeddings(tmp_path / "emb", ids, np.arange(64), {"backbone": np.eye(64, 8, dtype=np.float32) + 1},
                           store, checkpoint_info={"sha256": "f" * 64})
    code, _, err = run_cli(capsys, "evaluate", "search", "--embeddings", emb, "--label", "is_lens", "--k", "5",
                           "--checkpoint", trained_run(tmp_path_factory))
    assert code == 2 and len(error_lines(err)) == 1 and "were made with checkpoint ffffffffffff…" in err
