"""Recognising a file's layout (skyssl shard, authors' DR9, authors' SDSS) without reading pixels."""

import h5py
import numpy as np
import pytest

from skyssl.errors import InputError
from skyssl.store.layout import describe_file, open_h5, read_object_ids
from tests.conftest import MALFORMED


def describe(path):
    with open_h5(str(path)) as handle:
        return describe_file(handle)


def test_dr9_layout(dr9_file):
    path, _ = dr9_file
    layout = describe(path)
    assert (layout.layout, layout.bands, layout.survey_name) == ("dr9", ("g", "r", "z"), "legacy-dr9-south")
    assert layout.image_shape == (3, 152, 152) and layout.n_rows == 16 and layout.dtype == "float32"
    assert layout.id_source == "release/brickid/objid"
    assert layout.column_shapes["flux"] == (16, 3)
    assert layout.problems == [] and layout.warnings == []


def test_sdss_layout(sdss_file):
    path, _ = sdss_file
    layout = describe(path)
    assert (layout.layout, layout.bands, layout.survey_name) == ("sdss", ("u", "g", "r", "i", "z"), "sdss")
    assert layout.id_source == "ObjID" and layout.problems == []


def test_skyssl_layout_takes_bands_from_the_attribute(tmp_path):
    path = tmp_path / "part-00000.h5"
    with h5py.File(path, "w") as handle:
        handle.create_dataset("images", data=np.ones((2, 3, 8, 8), np.float32))
        for name in ("ra", "dec", "ebv"):
            handle.create_dataset(name, data=np.ones(2))
        handle.create_dataset("object_id", data=np.array([1, 2]))
        handle.attrs["bands"] = "g,r,z"
        handle.attrs["survey"] = "legacy-dr9-north"
    layout = describe(path)
    assert layout.layout == "skyssl" and layout.survey_name == "legacy-dr9-north"
    assert layout.id_source == "object_id"


@pytest.mark.parametrize("case", ["length_mismatch", "missing_radec", "four_bands"])
def test_structural_problems_are_found_without_pixels(case, tmp_path):
    builder, expected = MALFORMED[case]
    layout = describe(builder(tmp_path))
    assert any(expected in p for p in layout.problems)


@pytest.mark.parametrize("case", ["truncated", "not_hdf5"])
def test_unreadable_files_give_one_line_input_errors(case, tmp_path):
    builder, expected = MALFORMED[case]
    with pytest.raises(InputError, match=expected) as info:
        open_h5(str(builder(tmp_path)))
    assert "\n" not in str(info.value)


def test_file_without_images_is_refused(tmp_path):
    path = tmp_path / "cat.h5"
    with h5py.File(path, "w") as handle:
        handle.create_dataset("ra", data=np.ones(3))
    with pytest.raises(InputError, match="no 'images' dataset"):
        describe(path)


def test_files_without_positions_still_get_tractor_ids(tmp_path):
    builder, _ = MALFORMED["missing_radec"]
    path = builder(tmp_path)
    with open_h5(str(path)) as handle:
        layout = describe_file(handle)
        ids = read_object_ids(handle, layout)
    assert layout.id_source == "release/brickid/objid" and np.unique(ids).size == ids.size


def test_files_without_ids_or_positions_get_row_derived_ids(tmp_path):
    path = tmp_path / "bare.h5"
    with h5py.File(path, "w") as handle:
        handle.create_dataset("images", data=np.ones((4, 3, 8, 8), np.float32))
    with open_h5(str(path)) as handle:
        layout = describe_file(handle)
        ids = read_object_ids(handle, layout)
    assert layout.id_source.startswith("derived from row") and np.unique(ids).size == 4
