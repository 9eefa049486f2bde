"""`skyssl embed`: a manifest as JSON, resumable output, and every bad input as one line with exit 2."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from skyssl.embed import Embeddings
from skyssl.store import Store
from tests.cli.helpers import error_lines, run_cli
from tests.embed.helpers import embedded_store, trained_run
from tests.search.helpers import sim_store


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    return sim_store(tmp_path_factory), trained_run(tmp_path_factory), tmp_path_factory.mktemp("cli-embed")


def test_embed_writes_a_manifest_keyed_by_object_id(setup, capsys):
    store, run, root = setup
    code, out, err = run_cli(capsys, "embed", "--checkpoint", run, "--data", store, "--out", root / "emb",
                             "--batch-size", "32", "--rows-per-shard", "40", "--projection", "--json")
    assert code == 0, err
    manifest = json.loads(out)
    assert manifest["n_objects"] == 64 and manifest["dtype"] == "float16"
    assert manifest["dims"] == {"backbone": 256, "projection": 32} and len(manifest["shards"]) == 2
    with Embeddings.open(root / "emb") as emb, Store.open(store) as opened:
        np.testing.assert_array_equal(emb.object_ids, opened.object_ids)
        assert np.isfinite(emb.vectors()).all()

    code, out, err = run_cli(capsys, "embed", "--checkpoint", run, "--data", store, "--out", root / "emb",
                             "--dtype", "float32", "--overwrite")
    assert code == 0 and out.startswith("64 objects embedded (backbone 256-d, float32)"), err


@pytest.mark.parametrize(("args", "expected"), [
    (["--checkpoint", "{root}/nowhere"], "no such run dir"),
    (["--checkpoint", "{root}"], "is not a skyssl run dir: no config.yaml"),
    (["--checkpoint", "{bare}"], "no last.ckpt"),
    (["--dtype", "int8"], "--dtype must be float16 or float32"),
    (["--batch-size", "0"], "--batch-size must be at least 1"),
    (["--data", "{root}/no-store"], "no-store: no such file or folder"),
    (["--out", "{store}"], "already exists"),
])
def test_bad_input_exits_2_with_one_line(setup, capsys, args, expected):
    store, run, root = setup
    bare = root / "bare-run"
    if not bare.exists():
        bare.mkdir()
        shutil.copy(run / "config.yaml", bare / "config.yaml")
    given = {"--checkpoint": str(run), "--data": str(store), "--out": str(root / "never")}
    for option, value in zip(args[::2], args[1::2], strict=True):
        given[option] = value.format(root=root, bare=bare, store=store)
    code, out, err = run_cli(capsys, "embed", *[x for pair in given.items() for x in pair])
    assert code == 2 and out == "" and "Traceback" not in err
    lines = error_lines(err)
    assert len(lines) == 1 and expected in lines[0], err


def test_two_torchrun_processes_write_what_one_process_writes(setup, tmp_path_factory, tmp_path):
    """Rank 1 writes shards 2–3 and rank 0 shards 0–1 and the manifest: the bytes equal a one-process run."""
    store, run, _ = setup
    single = embedded_store(tmp_path_factory)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m",
         "skyssl.cli.main", "embed", "--checkpoint", str(run), "--data", str(store), "--out", str(tmp_path / "emb"),
         "--batch-size", "16", "--rows-per-shard", "20", "--dtype", "float32", "--projection", "--device", "cpu"],
        capture_output=True, text=True, timeout=180, env=env, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("64 objects embedded") == 1  # only rank 0 reports
    shards = sorted(p.name for p in single.glob("part-*.h5"))
    assert shards == sorted(p.name for p in (tmp_path / "emb").glob("part-*.h5")) and len(shards) == 4
    for name in shards:
        assert (tmp_path / "emb" / name).read_bytes() == (single / name).read_bytes(), name
