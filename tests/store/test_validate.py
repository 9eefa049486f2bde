"""Content checks: bad pixels, bad positions, sampling of large stores."""

import numpy as np

from skyssl.store import Store
from skyssl.store import validate as validate_module
from skyssl.store.validate import bad_image_rows, validate
from tests.conftest import MALFORMED, build_dr9, rewrite


def test_bad_image_rows_masks():
    images = np.ones((4, 3, 5, 5), np.float32)
    images[1, 2, 0, 0] = np.inf
    images[2] = 0
    images[3, 0, 1, 1] = np.nan
    nonfinite, allzero = bad_image_rows(images)
    assert nonfinite.tolist() == [False, True, False, True]
    assert allzero.tolist() == [False, False, True, False]


def test_clean_file_has_no_problems(dr9_file):
    with Store.open(dr9_file[0]) as store:
        report = validate(store)
    assert report.problems == [] and report.warnings == [] and report.checked_rows == 16


def test_pixel_problems_name_the_object(tmp_path):
    for case in ("nonfinite", "all_zero"):
        builder, expected = MALFORMED[case]
        folder = tmp_path / case
        folder.mkdir()
        with Store.open(builder(folder)) as store:
            report = validate(store)
            bad_row = 11 if case == "nonfinite" else 13
            assert len(report.problems) == 1 and expected in report.problems[0]
            assert str(store.object_ids[bad_row]) in report.problems[0]
            assert validate(store, pixels=False).problems == []


def test_invalid_positions_are_a_problem(tmp_path):
    path = tmp_path / "dr9.h5"
    data = build_dr9(path, n=6)
    data["dec"][4] = 95.0
    rewrite(path, data)
    with Store.open(path) as store:
        assert "invalid ra/dec" in validate(store).problems[0]


def test_large_stores_are_checked_on_a_sample(dr9_file, monkeypatch):
    monkeypatch.setattr(validate_module, "FULL_SCAN_BYTES", 1)
    monkeypatch.setattr(validate_module, "SAMPLE_ROWS", 5)
    with Store.open(dr9_file[0]) as store:
        assert validate(store).checked_rows == 5
        assert validate(store, full=True).checked_rows == 16


def test_missing_recommended_columns_are_warnings(tmp_path):
    path = tmp_path / "dr9.h5"
    data = build_dr9(path, n=4)
    del data["psfsize"], data["psfdepth"]
    rewrite(path, data)
    with Store.open(path) as store:
        report = validate(store)
    assert report.problems == [] and len(report.warnings) == 2
