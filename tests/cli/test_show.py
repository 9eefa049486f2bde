"""`skyssl show`: a labelled PNG sheet from a tiny store, and one-line errors for bad selections."""

import json

import numpy as np
import pytest
from PIL import Image

from skyssl import surveys
from skyssl.cli.main import main
from skyssl.store import StoreWriter

N_OBJECTS = 7
IDS = np.array([101, 205, 333, 470, 512, 699, 7001], dtype=np.int64)


def run_cli(args: list[str]) -> int:
    """main() returns the code of a user error; on success typer ends with SystemExit(0)."""
    try:
        return main(args)
    except SystemExit as exc:
        return int(exc.code or 0)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    survey = surveys.get("legacy-dr9-south")
    out = tmp_path_factory.mktemp("show") / "store"
    size = survey.stamp_size_px
    rng = np.random.default_rng(0)
    images = rng.normal(0.0, 0.01, size=(N_OBJECTS, 3, size, size)).astype(np.float32)
    yy, xx = np.mgrid[:size, :size] - size // 2
    images += (np.exp(-(xx**2 + yy**2) / (2 * 4.0**2)) * np.array([0.3, 0.6, 1.0])[:, None, None])[None]
    writer = StoreWriter(out, survey, N_OBJECTS, rows_per_shard=4)
    for k in range(writer.n_shards):
        start, stop = writer.shard_rows(k)
        writer.write_shard(k, images[start:stop], {
            "object_id": IDS[start:stop], "ra": np.linspace(10, 11, N_OBJECTS)[start:stop],
            "dec": np.linspace(-5, -4, N_OBJECTS)[start:stop],
        })
    return writer.finish()


def test_show_ids_writes_labelled_png(store, tmp_path, capsys):
    out = tmp_path / "sheet.png"
    code = run_cli(["show", str(store), "--ids", "333,101,7001", "--out", str(out), "--columns", "2", "--json"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["object_ids"] == [333, 101, 7001] and summary["n_objects"] == 3
    with Image.open(out) as image:
        assert image.format == "PNG" and image.mode == "RGB"
        assert image.size == (2 * (152 + 2) + 2, 2 * (152 + 2) + 2)
        pixels = np.asarray(image)
    centre = pixels[2 + 151 - 76, 2 + 76]  # galaxy centre of tile 0 (rows flipped): lit, z-bright → red
    assert centre.min() > 200 and centre[0] >= centre[2]
    sky = pixels[2 + 130, 2 + 130]
    assert sky.max() < 100
    assert (pixels[2:10, 2:40] == 255).all(axis=2).any()  # white label text
    assert [p.name for p in tmp_path.iterdir()] == ["sheet.png"]


def test_show_random_is_seeded_and_tile_px(store, tmp_path, capsys):
    outs = [tmp_path / f"r{k}.png" for k in range(3)]
    for out, seed in zip(outs, [1, 1, 2], strict=True):
        assert run_cli(["show", str(store), "--random", "4", "--seed", str(seed), "--out", str(out),
                     "--tile-px", "48", "--no-label", "--rgb", "lupton"]) == 0
    capsys.readouterr()
    assert outs[0].read_bytes() == outs[1].read_bytes()
    with Image.open(outs[2]) as image:
        assert image.size == (4 * 50 + 2, 50 + 2)


def test_show_random_more_than_store_shows_all(store, tmp_path, capsys):
    out = tmp_path / "all.png"
    assert run_cli(["show", str(store), "--random", "100", "--out", str(out), "--json"]) == 0
    assert sorted(json.loads(capsys.readouterr().out)["object_ids"]) == IDS.tolist()


@pytest.mark.parametrize("args, message", [
    (["--ids", "101,999"], "unknown object_id 999"),
    (["--ids", "101,abc"], "'abc' is not an integer"),
    (["--ids", " , "], "--ids is empty"),
    ([], "exactly one of --ids or --random"),
    (["--ids", "101", "--random", "2"], "exactly one of --ids or --random"),
    (["--random", "0"], "positive count"),
    (["--ids", "101", "--rgb", "jpeg"], "--rgb must be one of"),
    (["--ids", "101", "--columns", "0"], "--columns"),
])
def test_show_bad_selection_one_line_exit_2(store, tmp_path, capsys, args, message):
    out = tmp_path / "sheet.png"
    code = run_cli(["show", str(store), "--out", str(out), *args])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("skyssl: error:") and message in err
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_show_missing_out_folder(store, tmp_path, capsys):
    code = run_cli(["show", str(store), "--ids", "101", "--out", str(tmp_path / "no" / "sheet.png")])
    assert code == 2 and "does not exist" in capsys.readouterr().err


@pytest.mark.parametrize("rgb", ["dr2", "lupton"])
def test_show_sdss_store(tmp_path, capsys, rgb):
    survey = surveys.get("sdss")
    writer = StoreWriter(tmp_path / "sdss", survey, 2, rows_per_shard=2)
    images = np.random.default_rng(1).normal(0.0, 0.02, size=(2, 5, 107, 107)).astype(np.float32)
    writer.write_shard(0, images, {"object_id": np.array([11, 12]), "ra": np.zeros(2), "dec": np.zeros(2)})
    store_path = writer.finish()
    out = tmp_path / "sheet.png"
    assert run_cli(["show", str(store_path), "--ids", "12", "--out", str(out), "--rgb", rgb]) == 0
    capsys.readouterr()
    with Image.open(out) as image:
        assert image.size == (107 + 4, 107 + 4)


def test_show_help():
    assert run_cli(["show", "--help"]) == 0
