"""`skyssl simulate`: a seeded store that `info` and `show` read, and one-line errors for bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from skyssl.cli.main import main
from skyssl.store import Store
from tests.cli.helpers import error_lines, run_cli, run_subprocess

ARGS = ("--preset", "legacy", "--lens-rate", "eval", "--seed", "5", "--workers", "1")


def simulate(out, n: int = 24, *extra: str) -> int:
    try:
        return main(["simulate", *ARGS, "--n", str(n), "--out", str(out), *extra])
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    out = tmp_path_factory.mktemp("simulate") / "X"
    assert simulate(out) == 0
    return out


def read_images(path) -> np.ndarray:
    with Store.open(path) as store:
        return store.read_images(np.arange(store.n_objects), dtype=None)


def test_info_describes_the_simulated_store(store_path, capsys):
    code, out, err = run_cli(capsys, "info", store_path, "--json")
    summary = json.loads(out)
    assert code == 0 and err == ""
    assert summary["n_objects"] == 24 and summary["bands"] == ["g", "r", "z"]
    assert summary["image_shape"] == [3, 152, 152] and summary["dtype"] == "float32"
    assert summary["problems"] == [] and summary["layout"] == "skyssl"
    assert {"object_id", "flux", "z_true", "morph_class", "is_lens", "lens_grade"} <= set(summary["columns"])


def test_show_draws_a_sheet_of_random_objects(store_path, tmp_path, capsys):
    png = tmp_path / "x.png"
    code, out, err = run_cli(capsys, "show", store_path, "--random", "8", "--out", png, "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["n_objects"] == 8 and len(set(summary["object_ids"])) == 8
    with Image.open(png) as sheet:
        assert sheet.size[0] > 8 * 152 and sheet.size[1] >= 152
        pixels = np.asarray(sheet.convert("RGB"))
    assert pixels.std() > 5  # not a blank sheet


def test_the_same_arguments_give_the_same_images(store_path, tmp_path, capsys):
    again = tmp_path / "again"
    assert simulate(again) == 0
    capsys.readouterr()
    assert read_images(again).tobytes() == read_images(store_path).tobytes()
    with Store.open(again) as a, Store.open(store_path) as b:
        for name in ("object_id", "flux", "morph_class", "lens_grade"):
            np.testing.assert_array_equal(a.read_column(name), b.read_column(name))


def test_float16_store(store_path, tmp_path, capsys):
    out = tmp_path / "half"
    assert simulate(out, 4, "--dtype", "float16") == 0
    capsys.readouterr()
    with Store.open(out) as store:
        assert store.dtype == np.float16 and store.n_objects == 4
        half = store.read_images(np.arange(4), dtype=None)
    assert half.dtype == np.float16
    # rows do not depend on the run size: the same objects as the float32 run, rounded to float16
    np.testing.assert_array_max_ulp(half, read_images(store_path)[:4].astype(np.float16), maxulp=1)


def test_an_existing_output_is_refused_without_overwrite(store_path, capsys):
    code, _, err = run_cli(capsys, "simulate", *ARGS, "--n", "24", "--out", store_path)
    assert code == 2 and len(error_lines(err)) == 1 and "already exists" in err
    with Store.open(store_path) as store:
        assert store.n_objects == 24


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--preset", "hsc"), "--preset"),
        (("--n", "0"), "n_objects"),
        (("--lens-rate", "banana"), "--lens-rate"),
        (("--lens-rate", "2"), "--lens-rate"),
        (("--dtype", "float64"), "dtype"),
        (("--workers", "0"), "--workers"),
    ],
)
def test_bad_inputs_give_one_line_and_exit_code_2(args, expected, tmp_path, capsys):
    out = tmp_path / "never"
    code, stdout, err = run_cli(capsys, "simulate", "--n", "4", "--workers", "1", *args, "--out", out)
    lines = error_lines(err)
    assert code == 2
    assert len(lines) == 1 and lines[0].startswith("skyssl: error:") and expected in lines[0], err
    assert "Traceback" not in err and stdout == ""
    assert not out.exists() and not out.with_name("never.partial").exists()


def test_the_installed_command_reports_bad_input_without_a_traceback(tmp_path):
    result = run_subprocess("simulate", "--preset", "hsc", "--n", "4", "--out", tmp_path / "never")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = error_lines(result.stderr)
    assert len(lines) == 1 and "hsc" in lines[0]
    result = run_subprocess("simulate", "--n", "2", "--lens-rate", "0", "--workers", "1", "--json",
                            "--out", tmp_path / "tiny")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    summary = json.loads(result.stdout)
    assert summary["n_objects"] == 2 and summary["survey"] == "legacy-dr9-south" and summary["lens_rate"] == 0.0
    with Store.open(tmp_path / "tiny") as store:
        assert store.n_objects == 2
