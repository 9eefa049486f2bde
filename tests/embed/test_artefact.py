"""The Embeddings artefact: round trip, manifest provenance, resume, and checks against the store."""

import json

import numpy as np
import pytest

from skyssl.embed import Embeddings, EmbeddingWriter, write_embeddings
from skyssl.errors import ArtefactError, InputError
from skyssl.manifest import sha256_file
from skyssl.store import Store
from tests.search.helpers import embeddings_for, synthetic_store, uniform_sky


def test_round_trip_with_projection_in_float16(store, tmp_path):
    rng = np.random.default_rng(1)
    backbone = rng.standard_normal((64, 24)).astype(np.float32)
    projection = rng.standard_normal((64, 128)).astype(np.float32)
    out = embeddings_for(store, tmp_path / "emb", backbone, dtype="float16", projection=projection, rows_per_shard=20)
    with Embeddings.open(out) as emb, Store.open(store) as opened:
        assert emb.n_objects == 64 and emb.kinds == ["backbone", "projection"]
        assert emb.dims == {"backbone": 24, "projection": 128} and emb.dtype == np.float16
        np.testing.assert_array_equal(emb.object_ids, opened.object_ids)
        np.testing.assert_array_equal(emb.rows, np.arange(64))
        np.testing.assert_allclose(emb.vectors(), backbone.astype(np.float16).astype(np.float32))
        np.testing.assert_allclose(emb.vectors("projection"), projection.astype(np.float16).astype(np.float32))
        picks = np.array([63, 0, 21, 21, 40])
        np.testing.assert_array_equal(emb.vectors(positions=picks), emb.vectors()[picks])
        batches = list(emb.iter_batches("backbone", batch=15))
        assert all(b[0].size <= 15 for b in batches)
        assert not any(b[0][0] < 20 <= b[0][-1] or b[0][0] < 40 <= b[0][-1] for b in batches)  # no shard crossing
        np.testing.assert_array_equal(np.concatenate([b[0] for b in batches]), np.arange(64))
        np.testing.assert_array_equal(emb.positions_for_ids(emb.object_ids[[5, 2]]), [5, 2])
        with pytest.raises(InputError, match="unknown object_id 123456789"):
            emb.positions_for_ids([123456789])
        emb.open_store().close()


def test_manifest_records_provenance(store, tmp_path):
    out = embeddings_for(store, tmp_path / "emb", rows_per_shard=40)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "skyssl.embeddings" and manifest["schema_version"] == 1
    assert manifest["n_objects"] == 64 and manifest["dims"] == {"backbone": 16} and manifest["dtype"] == "float32"
    assert manifest["store"]["manifest_sha256"] == sha256_file(store / "manifest.json")
    assert manifest["checkpoint"] == {"path": None, "sha256": None}
    assert [s["n_objects"] for s in manifest["shards"]] == [40, 24]
    for shard in manifest["shards"]:
        assert shard["sha256"] == sha256_file(out / shard["path"])
    assert not (tmp_path / "emb.partial").exists()


def test_writer_resumes_from_the_first_missing_shard(store, tmp_path):
    rng = np.random.default_rng(2)
    vectors = rng.standard_normal((64, 8)).astype(np.float32)
    with Store.open(store) as opened:
        ids = opened.object_ids

    def writer():
        return EmbeddingWriter(tmp_path / "emb", store, 64, {"backbone": 8}, dtype="float32", rows_per_shard=30,
                               checkpoint_info={"sha256": "abc"}, spec={"crop": 64})

    first = writer()
    first.write_shard(0, ids[:30], np.arange(30), {"backbone": vectors[:30]})
    shard = first.open_shard(1)
    shard.write(0, ids[30:40], np.arange(30, 40), {"backbone": vectors[30:40]})  # killed mid-shard: never closed
    resumed = writer()
    assert resumed.done_shards() == [0]
    for k in (1, 2):
        a, b = resumed.shard_rows(k)
        resumed.write_shard(k, ids[a:b], np.arange(a, b), {"backbone": vectors[a:b]})
    with Embeddings.open(resumed.finish()) as emb:
        np.testing.assert_array_equal(emb.vectors(), vectors)
    with pytest.raises(ArtefactError, match="already exists"):
        writer()


def test_a_different_job_is_not_resumed(store, tmp_path):
    EmbeddingWriter(tmp_path / "emb", store, 64, {"backbone": 8}, rows_per_shard=30)
    with pytest.raises(ArtefactError, match="different job"):
        EmbeddingWriter(tmp_path / "emb", store, 64, {"backbone": 16}, rows_per_shard=30)


@pytest.mark.parametrize("problem", ["nan", "wrong_ids", "repeated_ids", "no_backbone", "dtype"])
def test_bad_vectors_are_refused(store, tmp_path, problem):
    with Store.open(store) as opened:
        ids = opened.object_ids.copy()
    vectors = np.ones((64, 4), np.float32)
    kinds, dtype, match = {"backbone": vectors}, "float32", ""
    if problem == "nan":
        vectors[3, 1], match = np.nan, "non-finite"
    elif problem == "wrong_ids":
        ids[7], match = 999_999, "row 7 holds object_id"
    elif problem == "repeated_ids":
        ids[7], match = ids[8], "repeat"
    elif problem == "no_backbone":
        kinds, match = {"projection": vectors}, "backbone"
    else:
        dtype, match = "int8", "dtype"
    with pytest.raises(ArtefactError, match=match):
        write_embeddings(tmp_path / "emb", ids, np.arange(64), kinds, store, dtype=dtype)
    assert not (tmp_path / "emb").exists()


def test_open_store_notices_a_changed_store(tmp_path):
    ra, dec = uniform_sky(30, seed=3)
    store = synthetic_store(tmp_path / "store", ra, dec)
    out = embeddings_for(store, tmp_path / "emb")
    rebuilt = synthetic_store(tmp_path / "other", ra, dec, columns={"object_id": np.arange(30, dtype=np.int64)})
    (tmp_path / "store").rename(tmp_path / "old")
    rebuilt.rename(tmp_path / "store")
    with Embeddings.open(out) as emb, pytest.raises(ArtefactError, match="do not match"):
        emb.open_store()
    smaller = synthetic_store(tmp_path / "small", ra[:20], dec[:20])
    with Embeddings.open(out) as emb, pytest.raises(ArtefactError, match="store of 30 objects"):
        emb.open_store(smaller)


def test_opening_something_else_fails_clearly(store, tmp_path):
    with pytest.raises(ArtefactError, match=r"kind is 'skyssl.store', expected 'skyssl.embeddings'"):
        Embeddings.open(store)
    with pytest.raises(InputError, match="no such embeddings folder"):
        Embeddings.open(tmp_path / "missing")
