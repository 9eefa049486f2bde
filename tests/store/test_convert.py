"""`skyssl.store.convert`: authors' HDF5 files → store, with checks, resume and clean failure."""

import json

import numpy as np
import pytest

from skyssl.errors import ArtefactError, InputError
from skyssl.store import Store, StoreWriter
from skyssl.store.convert import convert, default_rows_per_shard
from skyssl.store.sources import ebv_from_dr12_extinction
from skyssl.store.writer import shard_name
from tests.conftest import SDSS_DR12_R, build_dr9, rewrite


def assert_no_output(out):
    assert not out.exists()
    assert not out.with_name(out.name + ".partial").exists()


def test_dr9_conversion_keeps_pixels_columns_and_ids(dr9_file, tmp_path):
    path, data = dr9_file
    result = convert(path, tmp_path / "store", rows_per_shard=5)
    assert (result.n_objects, result.n_shards, result.survey) == (16, 4, "legacy-dr9-south")
    with Store.open(path) as source, Store.open(tmp_path / "store") as store:
        assert store.layout == "skyssl" and store.bands == ("g", "r", "z")
        assert store.read_images(np.arange(16), dtype=None).tobytes() == data["images"].tobytes()
        assert np.array_equal(store.object_ids, source.object_ids)
        assert set(store.columns) == set(source.columns) | {"object_id"}
        for name, values in data.items():
            if name == "images":
                continue
            stored = store.read_column(name)
            if values.dtype.kind == "S":
                assert list(stored) == [v.decode() for v in values]
            else:
                assert stored.shape == values.shape and stored.tobytes() == values.tobytes()
    manifest = json.loads((tmp_path / "store" / "manifest.json").read_text())
    assert manifest["source"]["layout"] == "dr9"
    assert manifest["source"]["id_source"] == "release/brickid/objid"
    assert len(manifest["source"]["inputs"][0]["sha256"]) == 64


def test_sdss_conversion_derives_scalar_ebv_and_keeps_e_bv(sdss_file, tmp_path):
    path, data = sdss_file
    convert(path, tmp_path / "store")
    with Store.open(tmp_path / "store") as store:
        assert store.survey.name == "sdss" and store.image_shape == (5, 107, 107)
        assert np.array_equal(store.read_column("e_bv"), data["e_bv"])
        assert np.array_equal(store.object_ids, data["ObjID"])
        expected = (data["e_bv"].astype(np.float64) / SDSS_DR12_R).mean(axis=1)
        assert np.allclose(store.read_column("ebv"), expected, rtol=0, atol=1e-12)
    manifest = json.loads((tmp_path / "store" / "manifest.json").read_text())
    assert "ebv" in manifest["derived_columns"]


def test_ebv_from_dr12_extinction_inverts_r_times_ebv():
    ebv_mag = np.array([0.0, 0.02, 0.3])
    assert np.allclose(ebv_from_dr12_extinction(SDSS_DR12_R * ebv_mag[:, None]), ebv_mag)


def test_float16_conversion_matches_a_cast(dr9_file, tmp_path):
    path, data = dr9_file
    convert(path, tmp_path / "store", image_dtype="float16")
    with Store.open(tmp_path / "store") as store:
        assert store.dtype == np.float16
        stored = store.read_images(np.arange(16), dtype=None)
    assert stored.tobytes() == data["images"].astype(np.float16).tobytes()


def test_float16_overflow_is_refused(tmp_path):
    path = tmp_path / "bright.h5"
    data = build_dr9(path, n=4)
    data["images"][2, 0, 76, 76] = 1.0e5
    rewrite(path, data)
    with pytest.raises(InputError, match="float16 range"):
        convert(path, tmp_path / "store", image_dtype="float16")
    assert_no_output(tmp_path / "store")
    convert(path, tmp_path / "store", image_dtype="float32")


def test_folder_of_authors_files_becomes_one_store(dr9_folder, tmp_path):
    folder, parts = dr9_folder
    convert(folder, tmp_path / "store", rows_per_shard=12)
    with Store.open(tmp_path / "store") as store:
        assert store.n_objects == 26 and len(store.files) == 3
        images = np.concatenate([p["images"] for p in parts])
        assert store.read_images(np.arange(26)).tobytes() == images.tobytes()
        assert np.array_equal(store.read_column("inds"), np.arange(26))


def test_resume_after_interruption_gives_the_same_bytes(dr9_file, tmp_path, monkeypatch):
    path, _ = dr9_file
    convert(path, tmp_path / "clean", rows_per_shard=4)
    original = StoreWriter.write_shard

    def interrupted(self, index, images, columns):
        if index == 2:
            raise KeyboardInterrupt
        return original(self, index, images, columns)

    monkeypatch.setattr(StoreWriter, "write_shard", interrupted)
    with pytest.raises(KeyboardInterrupt):
        convert(path, tmp_path / "resumed", rows_per_shard=4)
    partial = tmp_path / "resumed.partial"
    assert sorted(p.name for p in partial.glob("part-*")) == [shard_name(0), shard_name(1)]
    (partial / (shard_name(2) + ".tmp")).write_bytes(b"killed mid-write")
    monkeypatch.setattr(StoreWriter, "write_shard", original)
    result = convert(path, tmp_path / "resumed", rows_per_shard=4)
    assert result.resumed_shards == 2 and not partial.exists()
    for k in range(4):
        assert (tmp_path / "resumed" / shard_name(k)).read_bytes() == (
            tmp_path / "clean" / shard_name(k)
        ).read_bytes()


def test_resume_with_other_settings_is_refused(dr9_file, tmp_path, monkeypatch):
    path, _ = dr9_file
    monkeypatch.setattr(StoreWriter, "write_shard", lambda *a: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        convert(path, tmp_path / "store", rows_per_shard=4)
    monkeypatch.undo()
    with pytest.raises(ArtefactError, match="different job"):
        convert(path, tmp_path / "store", rows_per_shard=8)


def test_malformed_input_leaves_no_output(malformed_input, tmp_path):
    path, expected = malformed_input
    out = tmp_path / "store"
    with pytest.raises(InputError, match=expected) as info:
        convert(path, out, rows_per_shard=4)
    assert "\n" not in str(info.value)
    assert_no_output(out)


def test_bad_pixels_found_after_shards_were_written_remove_them(tmp_path):
    path = tmp_path / "late.h5"
    data = build_dr9(path, n=16)
    data["images"][15, 2, 0, 0] = np.inf
    rewrite(path, data)
    with pytest.raises(InputError, match=r"row 15: non-finite pixels"):
        convert(path, tmp_path / "store", rows_per_shard=4)
    assert_no_output(tmp_path / "store")


def test_survey_option(dr9_file, tmp_path):
    path, _ = dr9_file
    result = convert(path, tmp_path / "north", survey_name="legacy-dr9-north")
    assert result.survey == "legacy-dr9-north"
    with Store.open(tmp_path / "north") as store:
        assert store.survey.name == "legacy-dr9-north"
    with pytest.raises(InputError, match="do not match survey sdss"):
        convert(path, tmp_path / "sdss", survey_name="sdss")
    assert_no_output(tmp_path / "sdss")


def test_existing_output_and_overwrite(dr9_file, tmp_path):
    path, _ = dr9_file
    convert(path, tmp_path / "store", rows_per_shard=8)
    with pytest.raises(ArtefactError, match="already exists"):
        convert(path, tmp_path / "store")
    assert convert(path, tmp_path / "store", overwrite=True).n_shards == 1


def test_bad_arguments(dr9_file, tmp_path):
    path, _ = dr9_file
    with pytest.raises(InputError, match="dtype"):
        convert(path, tmp_path / "a", image_dtype="float64")
    with pytest.raises(InputError, match="rows-per-shard"):
        convert(path, tmp_path / "a", rows_per_shard=0)
    assert_no_output(tmp_path / "a")


def test_progress_reports_every_row(dr9_file, tmp_path):
    seen = []
    convert(
        dr9_file[0], tmp_path / "store", rows_per_shard=5, on_progress=lambda done, n: seen.append((done, n))
    )
    assert seen[-1] == (16, 16) and all(b == 16 for _, b in seen)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_default_shards_are_about_half_a_gigabyte():
    assert default_rows_per_shard((3, 152, 152), "float32") == 512 * 1024**2 // (3 * 152 * 152 * 4)
    assert default_rows_per_shard((3, 152, 152), "float16") == 2 * default_rows_per_shard(
        (3, 152, 152), "float32"
    )


def test_a_store_converts_into_another_keeping_ids(dr9_file, tmp_path):
    path, data = dr9_file
    convert(path, tmp_path / "f32", rows_per_shard=5)
    convert(tmp_path / "f32", tmp_path / "f16", image_dtype="float16", rows_per_shard=16)
    with Store.open(tmp_path / "f32") as first, Store.open(tmp_path / "f16") as second:
        assert np.array_equal(first.object_ids, second.object_ids)
        assert (
            second.read_images(np.arange(16), dtype=None).tobytes()
            == data["images"].astype(np.float16).tobytes()
        )
        assert set(second.columns) == set(first.columns)
    with pytest.raises(InputError, match="--out must differ"):
        convert(tmp_path / "f32", tmp_path / "f32", overwrite=True)
