"""Reading the authors' DR9 and SDSS files, folders of them and skyssl stores through one `Store`."""

import numpy as np
import pytest

from skyssl.errors import InputError
from skyssl.store import Store
from skyssl.store import ids as idlib
from tests.conftest import build_dr9, build_sdss, rewrite

PER_BAND = ("flux", "fiberflux", "psfsize", "psfdepth", "nobs")


def test_dr9_file_reads_with_bands_survey_and_tractor_ids(dr9_file):
    path, data = dr9_file
    with Store.open(path) as store:
        assert store.layout == "dr9" and store.bands == ("g", "r", "z")
        assert store.survey.name == "legacy-dr9-south" and store.pixel_scale_arcsec == 0.262
        assert store.n_objects == len(store) == 16 and store.image_shape == (3, 152, 152)
        expected_ids = idlib.pack_tractor_id(data["release"], data["brickid"], data["objid"])
        assert np.array_equal(store.object_ids, expected_ids)
        assert np.array_equal(store.read_images(np.arange(16)), data["images"])


def test_dr9_catalog_splits_per_band_fields_and_decodes_strings(dr9_file):
    path, data = dr9_file
    with Store.open(path) as store:
        table = store.catalog()
    assert table.colnames[0] == "object_id"
    for field in PER_BAND:
        assert field not in table.colnames
        for j, band in enumerate("grz"):
            assert np.array_equal(table[f"{field}_{band}"], data[field][:, j])
    assert list(table["source_type"]) == [s.decode() for s in data["source_type"]]
    assert np.array_equal(table["ra"], data["ra"]) and np.array_equal(table["inds"], data["inds"])


def test_sdss_file_reads_with_five_bands_and_objid(sdss_file):
    path, data = sdss_file
    with Store.open(path) as store:
        assert store.layout == "sdss" and store.bands == ("u", "g", "r", "i", "z")
        assert store.survey.name == "sdss" and store.image_shape == (5, 107, 107)
        assert np.array_equal(store.object_ids, data["ObjID"])
        table = store.catalog(["e_bv", "specz_redshift"])
        assert np.array_equal(store.read_images([3]), data["images"][3:4])
    for j, band in enumerate("ugriz"):
        assert np.array_equal(table[f"e_bv_{band}"], data["e_bv"][:, j])
    assert np.array_equal(table["specz_redshift"], data["specz_redshift"])


def test_folder_of_authors_files_opens_as_one_store(dr9_folder):
    folder, parts = dr9_folder
    images = np.concatenate([p["images"] for p in parts])
    with Store.open(folder) as store:
        assert store.n_objects == 26 and len(store.files) == 2
        assert np.array_equal(store.read_images(np.arange(26)), images)
        assert np.array_equal(store.read_column("inds"), np.arange(26))
        assert np.array_equal(
            store.read_column("flux", [20, 3, 15, 16]),
            np.concatenate([p["flux"] for p in parts])[[20, 3, 15, 16]],
        )
        batches = list(store.iter_image_batches(batch_size=7))
    assert [len(rows) for rows, _ in batches] == [7, 7, 2, 7, 3]
    assert np.array_equal(np.concatenate([b for _, b in batches]), images)


def test_random_access_by_row_and_by_id(dr9_folder):
    folder, parts = dr9_folder
    images = np.concatenate([p["images"] for p in parts])
    rows = np.array([25, 0, 17, 16, 15, 3, 3])
    with Store.open(folder) as store:
        assert np.array_equal(store.read_images(rows), images[rows])
        ids = store.object_ids[rows]
        assert np.array_equal(store.rows_for_ids(ids), rows)
        assert np.array_equal(store.read_images_by_id(ids), images[rows])
        assert store.read_images([], dtype=np.float16).shape == (0, 3, 152, 152)
        assert store.rows_for_ids(ids[2:3]).tolist() == [17]
        for wanted in ([ids[0], 12345], [12345], [np.iinfo(np.int64).max]):
            with pytest.raises(InputError, match=f"unknown object_id {wanted[-1]}"):
                store.rows_for_ids(wanted)
        for bad in ([26], [-1], [3, 26]):
            with pytest.raises(InputError, match="row out of range"):
                store.read_images(bad)


def test_repeated_tractor_ids_are_rekeyed_from_positions(tmp_path):
    path = tmp_path / "dup.h5"
    data = build_dr9(path, n=8)
    data["objid"][5] = data["objid"][2]
    data["brickid"][5] = data["brickid"][2]
    rewrite(path, data)
    with Store.open(path) as store:
        assert store.n_duplicate_ids == 1
        assert np.unique(store.object_ids).size == 8
        assert (
            store.object_ids[2] == idlib.pack_tractor_id(data["release"], data["brickid"], data["objid"])[2]
        )


def test_folder_mixing_surveys_is_refused(tmp_path):
    build_dr9(tmp_path / "a.h5", n=4)
    build_sdss(tmp_path / "b.h5", n=4)
    with pytest.raises(InputError, match="a store holds one kind of cutout"):
        Store.open(tmp_path)


def test_missing_path_and_unknown_column(tmp_path, dr9_file):
    with pytest.raises(InputError, match="no such file or folder"):
        Store.open(tmp_path / "nowhere")
    with Store.open(dr9_file[0]) as store, pytest.raises(InputError, match="no column 'flux_g'"):
        store.read_column("flux_g")
