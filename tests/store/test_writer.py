"""Writing stores: byte-identical round trips, atomic finish, resumable shards."""

import json

import h5py
import numpy as np
import pytest

from skyssl import surveys
from skyssl.errors import ArtefactError
from skyssl.store import Store, StoreWriter
from skyssl.store.writer import shard_name

SOUTH = surveys.get("legacy-dr9-south")


def make_rows(n, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.normal(0, 0.01, (n, 3, 152, 152)).astype(np.float32)
    columns = {
        "object_id": np.arange(1000, 1000 + n, dtype=np.int64),
        "ra": rng.uniform(0, 360, n),
        "dec": rng.uniform(-30, 30, n),
        "flux": rng.uniform(1, 10, (n, 3)).astype(np.float32),
        "nobs": rng.integers(1, 5, (n, 3)).astype(np.int16),
        "source_type": np.array(["DEV", "EXP", "REX", "SER", "PSF"])[np.arange(n) % 5],
    }
    return images, columns


def write_store(out, images, columns, rows_per_shard=4, dtype="float32", **kwargs):
    writer = StoreWriter(out, SOUTH, len(images), rows_per_shard, dtype, job={"test": 1}, **kwargs)
    for k in range(writer.n_shards):
        a, b = writer.shard_rows(k)
        writer.write_shard(k, images[a:b], {n: v[a:b] for n, v in columns.items()})
    return writer.finish()


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_round_trip_is_byte_identical(tmp_path, dtype):
    images, columns = make_rows(10)
    out = write_store(tmp_path / "store", images, columns, dtype=dtype)
    with Store.open(out) as store:
        assert store.layout == "skyssl" and store.dtype == np.dtype(dtype) and len(store.files) == 3
        back = store.read_images(np.arange(10), dtype=None)
        assert back.dtype == np.dtype(dtype)
        assert back.tobytes() == images.astype(dtype).tobytes()
        for name in ("object_id", "ra", "dec", "flux", "nobs"):
            value = store.read_column(name)
            assert value.dtype == columns[name].dtype and value.tobytes() == columns[name].tobytes()
        assert list(store.read_column("source_type")) == list(columns["source_type"])
        assert np.array_equal(store.object_ids, columns["object_id"])
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["n_objects"] == 10 and manifest["dtype"] == dtype and manifest["bands"] == ["g", "r", "z"]
    assert [s["n_objects"] for s in manifest["shards"]] == [4, 4, 2]
    assert all(len(s["sha256"]) == 64 for s in manifest["shards"])


def test_shards_carry_survey_attributes_and_contiguous_images(tmp_path):
    images, columns = make_rows(5)
    out = write_store(tmp_path / "store", images, columns)
    with h5py.File(out / shard_name(1), "r") as handle:
        assert handle.attrs["survey"] == "legacy-dr9-south" and handle.attrs["bands"] == "g,r,z"
        assert handle.attrs["units"] == "nanomaggy per pixel" and handle.attrs["first_row"] == 4
        assert handle["images"].chunks is None and handle["images"].id.get_offset() is not None


def test_partial_output_resumes_and_finish_renames_atomically(tmp_path):
    images, columns = make_rows(10)
    out = tmp_path / "store"
    first = StoreWriter(out, SOUTH, 10, 4, job={"test": 1})
    first.write_shard(0, images[:4], {n: v[:4] for n, v in columns.items()})
    assert not out.exists() and (tmp_path / "store.partial" / shard_name(0)).is_file()
    (tmp_path / "store.partial" / (shard_name(1) + ".tmp")).write_bytes(b"half")
    again = StoreWriter(out, SOUTH, 10, 4, job={"test": 1})
    assert again.done_shards() == [0]
    assert not (tmp_path / "store.partial" / (shard_name(1) + ".tmp")).exists()
    with pytest.raises(ArtefactError, match="shard"):
        again.finish()
    with pytest.raises(ArtefactError, match="different job"):
        StoreWriter(out, SOUTH, 10, 4, job={"test": 2})


def test_existing_output_needs_overwrite_and_abort_cleans_up(tmp_path):
    images, columns = make_rows(3)
    out = write_store(tmp_path / "store", images, columns)
    with pytest.raises(ArtefactError, match="already exists"):
        StoreWriter(out, SOUTH, 3, 4)
    writer = StoreWriter(out, SOUTH, 3, 4, overwrite=True)
    writer.abort()
    assert not writer.partial.exists() and (out / "manifest.json").is_file()
    other = tmp_path / "not-a-store"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(ArtefactError, match="not a skyssl artefact"):
        StoreWriter(other, SOUTH, 3, 4, overwrite=True)


def test_shape_and_column_checks(tmp_path):
    images, columns = make_rows(4)
    writer = StoreWriter(tmp_path / "store", SOUTH, 4, 4)
    with pytest.raises(ArtefactError, match="expected"):
        writer.write_shard(0, images[:3], columns)
    with pytest.raises(ArtefactError, match="object_id"):
        writer.write_shard(0, images, {"ra": columns["ra"]})
    with pytest.raises(ArtefactError, match="dtype"):
        StoreWriter(tmp_path / "other", SOUTH, 4, 4, image_dtype="float64")


def test_stamp_size_override(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.normal(size=(2, 3, 64, 64)).astype(np.float32)
    writer = StoreWriter(tmp_path / "store", SOUTH, 2, 2, stamp_size_px=64)
    writer.write_shard(0, images, {"object_id": np.array([1, 2]), "ra": np.zeros(2), "dec": np.zeros(2)})
    with Store.open(writer.finish()) as store:
        assert store.image_shape == (3, 64, 64)


def test_shard_filled_chunk_by_chunk_equals_whole_shard(tmp_path):
    images, columns = make_rows(10)
    whole = write_store(tmp_path / "whole", images, columns, rows_per_shard=10)
    writer = StoreWriter(tmp_path / "chunked", SOUTH, 10, 10, job={"test": 1})
    shard = writer.open_shard(0)
    for start in (6, 0, 3):  # any order of chunks
        stop = {0: 3, 3: 6, 6: 10}[start]
        shard.write_images(start, images[start:stop])
    shard.close(columns)
    with Store.open(whole) as a, Store.open(writer.finish()) as b:
        np.testing.assert_array_equal(a.read_images(np.arange(10)), b.read_images(np.arange(10)))
        np.testing.assert_array_equal(a.object_ids, b.object_ids)


def test_incomplete_shard_is_refused_and_discarded(tmp_path):
    images, columns = make_rows(4)
    writer = StoreWriter(tmp_path / "store", SOUTH, 4, 4)
    shard = writer.open_shard(0)
    shard.write_images(0, images[:3])
    with pytest.raises(ArtefactError, match="never written"):
        shard.close(columns)
    shard.discard()
    with pytest.raises(ArtefactError, match="do not fit"):
        writer.open_shard(0).write_images(2, images[:3])
    assert writer.done_shards() == []
    assert not list(writer.partial.glob("*.h5"))
