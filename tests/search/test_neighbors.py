"""All-pairs tables: rows equal exact search, the magnitude window is exact per object, resume is
byte-identical, and a row is one small read."""

import json

import numpy as np
import pytest

from skyssl.embed import Embeddings
from skyssl.errors import ArtefactError, InputError
from skyssl.search import NeighborTable, build_neighbors
from skyssl.search.catalog import SearchCatalog
from tests.search.helpers import brute_force, embeddings_for, sim_store, synthetic_store, uniform_sky


@pytest.fixture(scope="module")
def emb(tmp_path_factory):
    folder = tmp_path_factory.mktemp("nn")
    ra, dec = uniform_sky(300, seed=21)
    mag = np.random.default_rng(22).uniform(16.0, 21.0, (300, 3))
    mag[7, 2] = np.nan  # an undefined z magnitude (non-positive flux)
    mag[8, 2] = np.nan
    store = synthetic_store(folder / "store", ra, dec, mag=mag)
    vectors = np.random.default_rng(23).standard_normal((300, 12)).astype(np.float32)
    vectors[40] = vectors[41]  # an exact duplicate must not displace the self-match
    return embeddings_for(store, folder / "emb", vectors, rows_per_shard=128), vectors


def test_rows_equal_exact_search_with_self_at_rank_zero(emb, tmp_path):
    path, vectors = emb
    table = build_neighbors(path, tmp_path / "table", k=15, block_rows=64)
    with NeighborTable.open(table) as opened, Embeddings.open(path) as embeddings:
        for position in (0, 40, 41, 63, 64, 299):
            row = opened.row(position=position)
            order, _ = brute_force(vectors, vectors[position], 16)
            rest = [p for p in order if p != position][:14]
            assert row.positions[0] == position and row.similarities[0] == pytest.approx(1.0, abs=1e-5)
            assert row.positions[1:].tolist() == rest
            unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
            np.testing.assert_allclose(row.similarities[1:], unit[rest] @ unit[position], atol=1e-5)
            assert row.object_ids.tolist() == embeddings.object_ids[row.positions].tolist()
        by_id = opened.row(int(opened.object_ids[63]))
        assert by_id.positions.tolist() == opened.row(position=63).positions.tolist()
        with pytest.raises(InputError, match="unknown object_id"):
            opened.row(12345)
    manifest = json.loads((table / "manifest.json").read_text())
    assert manifest["kind"] == "skyssl.neighbors" and manifest["self_match_at_rank0"] is True
    assert [b["n_rows"] for b in manifest["blocks"]] == [64, 64, 64, 64, 44]
    assert (table / "indices-00004.bin").stat().st_size == 44 * 15 * 4


def test_magnitude_window_is_exact_per_object(emb, tmp_path):
    path, vectors = emb
    table = build_neighbors(path, tmp_path / "table", k=10, mag_window=0.5, block_rows=100,
                            similarity_dtype="float16")
    with Embeddings.open(path) as embeddings, embeddings.open_store() as store:
        mag_z = SearchCatalog(store, embeddings.rows).mag("z")
    with NeighborTable.open(table) as opened:
        for position in range(0, 300, 7):
            row = opened.row(position=position)
            allowed = (np.abs(mag_z - mag_z[position]) <= 0.5) | (np.isnan(mag_z) & np.isnan(mag_z[position]))
            order, _ = brute_force(vectors, vectors[position], 300)
            expected = [position, *[p for p in order if allowed[p] and p != position][:9]]
            got = row.positions[row.positions >= 0].tolist()
            assert got == expected
            if np.isfinite(mag_z[position]):
                assert np.all(np.abs(mag_z[row.positions[1:len(got)]] - mag_z[position]) <= 0.5)
        undefined = opened.row(position=7)
        assert undefined.positions.tolist()[:2] == [7, 8] and (undefined.positions[2:] == -1).all()
        assert np.isneginf(undefined.similarities[2:]).all() and undefined.similarities.dtype == np.float32
    manifest = json.loads((table / "manifest.json").read_text())
    assert manifest["mag_window"] == {"window_mag": 0.5, "band": "z", "exact_per_object": True, "n_undefined_mag": 2}
    assert (table / "similarities-00000.bin").stat().st_size == 100 * 10 * 2


def test_a_resumed_table_is_byte_identical(emb, tmp_path):
    path, _ = emb
    whole = build_neighbors(path, tmp_path / "whole", k=8, block_rows=50, mag_window=1.0)

    def crash_after_two_blocks(done, total):
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_neighbors(path, tmp_path / "resumed", k=8, block_rows=50, mag_window=1.0,
                        on_block=crash_after_two_blocks)
    partial = tmp_path / "resumed.partial"
    assert sorted(p.name for p in partial.glob("*.bin")) == [
        "indices-00000.bin", "indices-00001.bin", "similarities-00000.bin", "similarities-00001.bin"]
    (partial / "indices-00002.bin.tmp").write_bytes(b"half a block")  # a crash mid-write leaves only a tmp
    resumed = build_neighbors(path, tmp_path / "resumed", k=8, block_rows=50, mag_window=1.0)
    names = sorted(p.name for p in whole.glob("*.bin"))
    assert names == sorted(p.name for p in resumed.glob("*.bin")) and len(names) == 12
    for name in [*names, "object_ids.npy"]:
        assert (whole / name).read_bytes() == (resumed / name).read_bytes(), name
    with pytest.raises(ArtefactError, match="already exists"):
        build_neighbors(path, tmp_path / "resumed", k=8)


def test_bad_arguments(tmp_path_factory, tmp_path):
    path = embeddings_for(sim_store(tmp_path_factory), tmp_path / "emb")
    for kwargs, match in (({"k": 0}, "k must be between 1"), ({"k": 65}, "k must be between 1"),
                          ({"similarity_dtype": "int8"}, "similarity dtype"), ({"mag_window": -1.0}, "non-negative"),
                          ({"mag_window": 0.5, "mag_band": "q"}, "no band 'q'")):
        with pytest.raises(InputError, match=match):
            build_neighbors(path, tmp_path / "table", **kwargs)
