"""`skyssl augment`: a sheet of centre crops and augmented views from a tiny store; one-line errors."""

import json

import numpy as np
import pytest
from PIL import Image

from skyssl import surveys
from skyssl.store import StoreWriter
from tests.cli.helpers import error_lines, run_cli

IDS = np.array([101, 205, 333, 470, 512], dtype=np.int64)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    survey = surveys.get("legacy-dr9-south")
    out = tmp_path_factory.mktemp("augment") / "store"
    size, n = survey.stamp_size_px, IDS.size
    rng = np.random.default_rng(0)
    images = rng.normal(0.0, 0.005, size=(n, 3, size, size)).astype(np.float32)
    yy, xx = np.mgrid[:size, :size] - size // 2
    bar = np.exp(-(xx**2 / (2 * 12.0**2) + yy**2 / (2 * 3.0**2)))  # elongated: rotation is visible
    images += (bar * np.array([0.3, 0.6, 1.0])[:, None, None])[None].astype(np.float32)
    writer = StoreWriter(out, survey, n, rows_per_shard=3)
    for k in range(writer.n_shards):
        start, stop = writer.shard_rows(k)
        writer.write_shard(k, images[start:stop], {
            "object_id": IDS[start:stop], "ra": np.linspace(10, 11, n)[start:stop],
            "dec": np.linspace(-5, -4, n)[start:stop], "ebv": np.full(n, 0.03)[start:stop],
            "psfsize": np.full((n, 3), 1.3)[start:stop], "psfdepth": np.full((n, 3), 800.0)[start:stop],
        })
    return writer.finish()


def test_augment_sheet_rows_of_views(store, tmp_path, capsys):
    out = tmp_path / "views.png"
    code, stdout, _ = run_cli(capsys, "augment", store, "--ids", "333,101", "--views", "3", "--out", out, "--json")
    assert code == 0
    summary = json.loads(stdout)
    assert summary["object_ids"] == [333, 101] and summary["spec"] == "grrrssgbjcgn" and summary["crop_px"] == 96
    with Image.open(out) as image:
        assert image.size == (4 * (96 + 2) + 2, 2 * (96 + 2) + 2)
        pixels = np.asarray(image).astype(int)
    tiles = [pixels[2 + r * 98 : 98 + r * 98, 2 + c * 98 : 98 + c * 98] for r in range(2) for c in range(4)]
    assert tiles[0][48, 48].min() > 150  # the centre crop shows the bright bar in the middle
    assert all(np.abs(tiles[0] - t).mean() > 1 for t in tiles[1:4])  # every view differs from the original
    assert [p.name for p in tmp_path.iterdir()] == ["views.png"]


def test_augment_is_seeded_and_takes_the_paper_profile(store, tmp_path, capsys):
    outs = [tmp_path / f"s{k}.png" for k in range(3)]
    for out, seed in zip(outs, [4, 4, 5], strict=True):
        code, _, _ = run_cli(capsys, "augment", store, "--random", "2", "--views", "2", "--seed", seed,
                             "--profile", "paper_faithful", "--out", out, "--tile-px", "48")
        assert code == 0
    assert outs[0].read_bytes() == outs[1].read_bytes() != outs[2].read_bytes()
    with Image.open(outs[0]) as image:
        assert image.size == (3 * 50 + 2, 2 * 50 + 2)


@pytest.mark.parametrize("args, message", [
    (["--ids", "101,999"], "unknown object_id 999"),
    (["--ids", "x"], "'x' is not an integer"),
    ([], "exactly one of --ids or --random"),
    (["--ids", "101", "--views", "0"], "--views must be within"),
    (["--ids", "101", "--spec", "grxx"], "unknown augmentation code 'xx'"),
    (["--ids", "101", "--spec", "gnjc"], "'gn' comes before 'jc'"),
    (["--ids", "101", "--profile", "fast"], "--profile must be one of"),
])
def test_bad_input_exits_2_with_one_line(store, tmp_path, capsys, args, message):
    out = tmp_path / "sheet.png"
    code, _, stderr = run_cli(capsys, "augment", store, "--out", out, *args)
    assert code == 2
    lines = error_lines(stderr)
    assert len(lines) == 1 and lines[0].startswith("skyssl: error:") and message in lines[0]
    assert not out.exists()


def test_augment_help(capsys):
    code, stdout, _ = run_cli(capsys, "augment", "--help")
    assert code == 0 and "--views" in stdout and "--profile" in stdout
