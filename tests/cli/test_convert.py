"""`skyssl convert`: the verb over `skyssl.store.convert`, its summary and its one-line errors."""

import json

import numpy as np
from astropy.io import fits
from astropy.table import Table

from skyssl.store import Store, StoreWriter
from tests.cli.helpers import error_lines, run_cli, run_subprocess
from tests.conftest import MALFORMED


def test_convert_then_info(dr9_file, tmp_path, capsys):
    out = tmp_path / "store"
    code, stdout, _ = run_cli(capsys, "convert", dr9_file[0], "--out", out, "--rows-per-shard", "6")
    assert code == 0 and stdout.startswith(f"wrote {out}: 16 objects in 3 shard(s)")
    code, stdout, _ = run_cli(capsys, "info", out, "--json")
    assert code == 0 and json.loads(stdout)["n_objects"] == 16


def test_convert_json_summary_and_options(sdss_file, tmp_path, capsys):
    out = tmp_path / "store"
    code, stdout, _ = run_cli(capsys, "convert", sdss_file[0], "--out", out, "--dtype", "float16", "--json")
    summary = json.loads(stdout)
    assert code == 0 and summary["dtype"] == "float16" and summary["survey"] == "sdss"
    assert summary["n_objects"] == 12 and summary["resumed_shards"] == 0
    code, _, err = run_cli(capsys, "convert", sdss_file[0], "--out", out)
    assert code == 2 and "already exists" in err
    code, _, _ = run_cli(capsys, "convert", sdss_file[0], "--out", out, "--overwrite")
    assert code == 0


def test_malformed_input_one_line_and_no_output(malformed_input, tmp_path, capsys):
    path, expected = malformed_input
    out = tmp_path / "store"
    code, _, err = run_cli(capsys, "convert", path, "--out", out, "--rows-per-shard", "4")
    lines = error_lines(err)
    assert code == 2 and len(lines) == 1 and expected in lines[0] and "Traceback" not in err
    assert not out.exists() and not (tmp_path / "store.partial").exists()


def test_fits_folder_with_catalogue(tmp_path, capsys):
    folder = tmp_path / "cutouts"
    folder.mkdir()
    rng = np.random.default_rng(0)
    cubes = rng.normal(0.01, 0.005, (3, 5, 40, 40)).astype(np.float32)
    for k, cube in enumerate(cubes):
        fits.PrimaryHDU(cube).writeto(folder / f"c{k}.fits")
    Table({"ra": [1.0, 2.0, 3.0], "dec": [0.0, 0.5, 1.0], "path": [f"c{k}.fits" for k in range(3)]}).write(
        tmp_path / "cat.fits"
    )
    code, _, err = run_cli(
        capsys,
        "convert",
        folder,
        "--out",
        tmp_path / "store",
        "--catalog",
        tmp_path / "cat.fits",
        "--file-column",
        "path",
    )
    assert code == 0, err
    with Store.open(tmp_path / "store") as store:
        assert store.survey.name == "sdss" and store.image_shape == (5, 40, 40)
        assert store.read_images([0, 1, 2]).tobytes() == cubes.tobytes()
    code, _, err = run_cli(capsys, "convert", folder, "--out", tmp_path / "other")
    assert code == 2 and "needs --catalog" in err


def test_no_traceback_from_the_installed_command(tmp_path):
    builder, expected = MALFORMED["nonfinite"]
    result = run_subprocess(
        "convert", builder(tmp_path), "--out", tmp_path / "store", "--rows-per-shard", "4"
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(error_lines(result.stderr)) == 1 and expected in result.stderr
    assert not (tmp_path / "store").exists() and not (tmp_path / "store.partial").exists()


def test_bad_dtype_is_a_usage_error(dr9_file, tmp_path, capsys):
    code, _, err = run_cli(capsys, "convert", dr9_file[0], "--out", tmp_path / "s", "--dtype", "float64")
    assert code == 2 and "float64" in err and "Traceback" not in err


def test_interrupted_convert_says_how_to_resume(dr9_file, tmp_path, capsys, monkeypatch):
    original = StoreWriter.write_shard

    def interrupted(self, index, images, columns):
        if index == 1:
            raise KeyboardInterrupt
        return original(self, index, images, columns)

    monkeypatch.setattr(StoreWriter, "write_shard", interrupted)
    argv = ("convert", dr9_file[0], "--out", tmp_path / "store", "--rows-per-shard", "8")
    code, _, err = run_cli(capsys, *argv)
    assert code == 130 and "rerun the same command to resume" in err and "Traceback" not in err
    monkeypatch.setattr(StoreWriter, "write_shard", original)
    code, stdout, _ = run_cli(capsys, *argv)
    assert code == 0 and "1 resumed" in stdout
