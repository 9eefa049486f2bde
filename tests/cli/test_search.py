"""`skyssl search`: JSON results most similar first; every bad input is one line on stderr, exit 2."""

import json

import numpy as np
import pytest

from skyssl.store import Store
from tests.cli.helpers import error_lines, run_cli, run_subprocess
from tests.search.helpers import brute_force, embeddings_for, sim_store, synthetic_store, uniform_sky


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli-search")
    store = sim_store(tmp_path_factory)
    vectors = np.random.default_rng(6).standard_normal((64, 8)).astype(np.float32)
    emb = embeddings_for(store, folder / "emb", vectors)
    from skyssl.search import build_index

    index = build_index(emb, folder / "index", sample_queries=10, k=10)
    with Store.open(store) as opened:
        catalog = opened.catalog(["ra", "dec"])
    return index, vectors, catalog, folder


def _search(capsys, index, *args):
    code, out, err = run_cli(capsys, "search", "--index", index, "--json", *args)
    return code, (json.loads(out) if code == 0 else None), err


def test_search_by_id_is_exact(setup, capsys):
    index, vectors, catalog, _ = setup
    code, results, _ = _search(capsys, index, "--id", str(catalog["object_id"][5]), "--k", "4")
    order, sims = brute_force(vectors, vectors[5], 5)
    assert code == 0 and [r["object_id"] for r in results] == catalog["object_id"][order[1:]].tolist()
    assert [r["similarity"] for r in results] == pytest.approx(sims[1:].tolist(), abs=1e-5)
    assert {"object_id", "similarity", "ra", "dec", "viewer_url"} <= set(results[0])


def test_search_by_position_and_by_examples(setup, capsys):
    index, _, catalog, _ = setup
    ra, dec = catalog["ra"][5], catalog["dec"][5]
    by_position = _search(capsys, index, "--radec", f"{ra:.6f} {dec:.6f}", "--k", "4")[1]
    by_id = _search(capsys, index, "--id", str(catalog["object_id"][5]), "--k", "4")[1]
    assert by_position == by_id
    ids = catalog["object_id"]
    code, results, _ = _search(capsys, index, "--ids-positive", f"{ids[1]},{ids[2]}", "--ids-negative", str(ids[3]),
                               "--exclude", str(ids[4]), "--photoz-range", "0", "2", "--mag-window", "3",
                               "--min-separation-arcsec", "1", "--k", "5")
    assert code == 0 and len(results) <= 5 and not {ids[1], ids[2], ids[3], ids[4]} & {r["object_id"] for r in results}


def test_table_output(setup, capsys):
    index, _, catalog, _ = setup
    code, out, _ = run_cli(capsys, "search", "--index", index, "--id", str(catalog["object_id"][0]), "--k", "2")
    assert code == 0 and out.splitlines()[0].startswith("rank  object_id  similarity") and len(out.splitlines()) == 3


@pytest.mark.parametrize(("args", "expected"), [
    (["--id", "987654321"], "unknown object_id 987654321"),
    (["--radec", "10:00:24 -00:30:00"], "no object within 2″ of RA 150.100000, Dec -0.500000; the nearest is object"),
    (["--radec", "ten past two"], "cannot parse coordinates 'ten past two'"),
    (["--id", "0", "--k", "0"], "--k must be at least 1"),
    (["--id", "0", "--radec", "1 2"], "give exactly one query"),
    ([], "give exactly one query"),
    (["--id", "x1"], "'x1' is not an object id"),
    (["--id", "0", "--colour", "g-r"], "--colour and --colour-range go together"),
    (["--id", "0", "--photoz-range", "0.5", "0.1"], "low ≤ high"),
])
def test_bad_search_input_is_one_line(setup, capsys, args, expected):
    code, _, err = run_cli(capsys, "search", "--index", setup[0], *args)
    assert code == 2 and len(error_lines(err)) == 1 and expected in err and "Traceback" not in err


def test_embeddings_no_longer_matching_their_store(tmp_path, capsys):
    """An index whose store was rebuilt with other objects at the same path is refused."""
    from skyssl.search import build_index

    ra, dec = uniform_sky(20, seed=1)
    store = synthetic_store(tmp_path / "store", ra, dec)
    index = build_index(embeddings_for(store, tmp_path / "emb"), tmp_path / "index", sample_queries=5)
    synthetic_store(tmp_path / "store", ra, dec, columns={"object_id": np.arange(20)}, overwrite=True)
    code, _, err = run_cli(capsys, "search", "--index", index, "--id", "1000000")
    assert code == 2 and len(error_lines(err)) == 1 and "do not match" in err


def test_no_traceback_from_the_installed_command(setup):
    result = run_subprocess("search", "--index", setup[0], "--radec", "95 95")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert error_lines(result.stderr) == ["skyssl: error: cannot parse coordinates '95 95': expected 'RA DEC' in "
                                          "degrees ('150.1 2.2') or sexagesimal ('10:00:24 +02:12:00', "
                                          "'10h00m24s +02d12m00s')"]


@pytest.fixture(scope="module")
def model_index(tmp_path_factory):
    """An index over the embeddings of the shared tiny trained run, with that run."""
    from skyssl.search import build_index
    from tests.embed.helpers import embedded_store, trained_run

    index = build_index(embedded_store(tmp_path_factory), tmp_path_factory.mktemp("cli-search-model") / "index",
                        sample_queries=10, k=10)
    return index, trained_run(tmp_path_factory), sim_store(tmp_path_factory)


def test_search_by_image_finds_the_object_it_was_cut_from(model_index, tmp_path, capsys):
    index, run, store = model_index
    with Store.open(store) as opened:
        stamp, object_id = opened.read_images([9])[0], int(opened.object_ids[9])
    np.save(tmp_path / "query.npy", stamp)
    code, results, err = _search(capsys, index, "--image", tmp_path / "query.npy", "--checkpoint", run, "--k", "3")
    assert code == 0, err
    assert results[0]["object_id"] == object_id and results[0]["similarity"] == pytest.approx(1.0, abs=1e-5)
    assert len(results) == 3


@pytest.mark.parametrize(("image", "extra", "expected"), [
    ("two_bands", [], "image of shape (2, 152, 152), but the indexed store holds (bands, height, width) = (3, 152, 152)"),
    ("small", [], "image of shape (3, 64, 64)"),
    ("flat", [], "expected (bands, height, width)"),
    ("good", ["--no-checkpoint"], "--image and --checkpoint go together"),
    ("good", ["--include-query"], "--include-query has no meaning for an --image query"),
    ("good", ["--mag-window", "0.5"], "a magnitude window needs the query's z-band magnitude"),
])
def test_bad_image_queries_exit_2(model_index, tmp_path, capsys, image, extra, expected):
    index, run, store = model_index
    with Store.open(store) as opened:
        stamp = opened.read_images([9])[0]
    arrays = {"two_bands": stamp[:2], "small": stamp[:, :64, :64], "flat": stamp[0], "good": stamp}
    np.save(tmp_path / "query.npy", arrays[image])
    checkpoint = [] if "--no-checkpoint" in extra else ["--checkpoint", run]
    extra = [e for e in extra if e != "--no-checkpoint"]
    code, _, err = run_cli(capsys, "search", "--index", index, "--image", tmp_path / "query.npy", *checkpoint, *extra)
    assert code == 2 and len(error_lines(err)) == 1 and expected in err and "Traceback" not in err


def test_an_image_query_against_vectors_of_another_model_is_refused(setup, model_index, tmp_path, capsys):
    """The random-vector index records no checkpoint, so the mismatch shows up as the vector width."""
    _, run, store = model_index
    with Store.open(store) as opened:
        np.save(tmp_path / "query.npy", opened.read_images([0])[0])
    code, _, err = run_cli(capsys, "search", "--index", setup[0], "--image", tmp_path / "query.npy", "--checkpoint", run)
    assert code == 2 and "query vector has 256 dimensions, the index 8" in err
