"""`skyssl info`: summaries of authors' files and stores, one clear line per malformed input."""

import json

import pytest

from skyssl.store.convert import convert
from tests.cli.helpers import error_lines, run_cli, run_subprocess
from tests.conftest import MALFORMED

JSON_KEYS = {"n_objects", "bands", "image_shape", "dtype", "columns", "problems"}


def test_info_on_a_dr9_file(dr9_file, capsys):
    code, out, err = run_cli(capsys, "info", dr9_file[0])
    assert code == 0 and err == ""
    assert "legacy-dr9-south" in out and "release/brickid/objid" in out


def test_info_json_on_an_sdss_file(sdss_file, capsys):
    code, out, _ = run_cli(capsys, "info", sdss_file[0], "--json")
    summary = json.loads(out)
    assert code == 0 and JSON_KEYS <= set(summary)
    assert summary["n_objects"] == 12 and summary["bands"] == ["u", "g", "r", "i", "z"]
    assert summary["image_shape"] == [5, 107, 107] and summary["dtype"] == "float32"
    assert "e_bv" in summary["columns"] and summary["problems"] == []


def test_info_json_on_a_folder_and_on_a_store(dr9_folder, tmp_path, capsys):
    folder, _ = dr9_folder
    code, out, _ = run_cli(capsys, "info", folder, "--json")
    assert code == 0 and json.loads(out)["n_objects"] == 26 and json.loads(out)["files"] == 2
    convert(folder, tmp_path / "store", image_dtype="float16")
    code, out, _ = run_cli(capsys, "info", tmp_path / "store", "--json")
    summary = json.loads(out)
    assert code == 0 and summary["layout"] == "skyssl" and summary["dtype"] == "float16"
    assert "object_id" in summary["columns"] and summary["id_source"] == "object_id"


def test_each_malformed_input_gives_one_clear_line(malformed_input, capsys):
    path, expected = malformed_input
    code, _, err = run_cli(capsys, "info", path)
    lines = error_lines(err)
    assert code != 0
    assert len(lines) == 1, err
    assert lines[0].startswith("skyssl: error:") and expected in lines[0] and str(path) in lines[0]
    assert "Traceback" not in err


@pytest.mark.parametrize("case", ["nonfinite", "all_zero", "length_mismatch", "four_bands"])
def test_json_reports_problems_of_files_that_open(case, tmp_path, capsys):
    builder, expected = MALFORMED[case]
    code, out, err = run_cli(capsys, "info", builder(tmp_path), "--json")
    assert code == 1 and any(expected in p for p in json.loads(out)["problems"])
    assert len(error_lines(err)) == 1


def test_no_traceback_from_the_installed_command(tmp_path):
    for case in ("truncated", "nonfinite"):
        folder = tmp_path / case
        folder.mkdir()
        builder, expected = MALFORMED[case]
        result = run_subprocess("info", builder(folder))
        assert result.returncode != 0 and "Traceback" not in result.stderr
        assert error_lines(result.stderr) == [error_lines(result.stderr)[0]]
        assert expected in result.stderr


def test_help(capsys):
    code, out, _ = run_cli(capsys, "info", "--help")
    assert code == 0 and "--json" in out
