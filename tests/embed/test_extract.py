"""Bulk extraction: one row per object, the model's own vectors, byte-identical resume, ranks, checks."""

import threading

import numpy as np
import pytest
import torch

from skyssl.embed import Embeddings, extract
from skyssl.embed.extract import batch_spans, embed_store, prefetched, read_in_background, read_in_turn
from skyssl.embed.ranks import Ranks, assigned_shards
from skyssl.embed.readahead import RowReader
from skyssl.errors import ArtefactError, SkysslError
from skyssl.store import Store
from tests.search.helpers import synthetic_store, uniform_sky


class Killed(Exception):
    """Stands in for a kill: raised from the progress callback in the middle of a shard."""


def _direct(encoder, store):
    """The model applied by hand to every stamp's centre view, in one batch."""
    with Store.open(store) as opened:
        images = torch.from_numpy(opened.read_images(np.arange(opened.n_objects)))
    with torch.no_grad():
        views = encoder.pipeline.center_view(images)
        return encoder.moco.representation(views).numpy(), encoder.moco.project(views).numpy()


def _shard_bytes(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.glob("part-*.h5"))}


def test_one_row_per_object_equal_to_a_direct_forward(encoder, store, emb):
    backbone, projection = _direct(encoder, store)
    with Embeddings.open(emb) as out, Store.open(store) as opened:
        np.testing.assert_array_equal(out.object_ids, opened.object_ids)
        np.testing.assert_array_equal(out.rows, np.arange(64))
        assert out.dims == {"backbone": 256, "projection": 32} and out.dtype == np.float32
        np.testing.assert_allclose(out.vectors("backbone"), backbone, rtol=0, atol=1e-5)
        np.testing.assert_allclose(out.vectors("projection"), projection, rtol=0, atol=1e-5)
        assert out.manifest["checkpoint"]["sha256"] == encoder.checkpoint_sha256
        assert out.manifest["preprocessing"]["crop_px"] == 32
        assert [s["n_objects"] for s in out.manifest["shards"]] == [20, 20, 20, 4]


def test_float16_vectors_are_the_float32_ones_rounded(encoder, store, emb, tmp_path):
    out = embed_store(encoder, store, tmp_path / "emb16", batch_size=64, dtype="float16", rows_per_shard=64)
    with Embeddings.open(out) as half, Embeddings.open(emb) as full:
        assert half.dtype == np.float16 and half.kinds == ["backbone"]
        exact = full.vectors("backbone")
        ulp = np.spacing(np.abs(exact).astype(np.float16)).astype(np.float32)  # one float16 step at each value
        assert np.all(np.abs(half.vectors("backbone") - exact) <= ulp)


def test_a_killed_run_resumes_to_identical_bytes(encoder, store, emb, tmp_path):
    out = tmp_path / "emb"
    seen = []

    def die_in_second_shard(n):
        seen.append(n)
        if sum(seen) > 28:  # shard 0 (20 rows) is on disk, shard 1 half written
            raise Killed

    options = {"batch_size": 16, "dtype": "float32", "projection": True, "rows_per_shard": 20}
    with pytest.raises(Killed):
        embed_store(encoder, store, out, on_rows=die_in_second_shard, **options)
    partial = tmp_path / "emb.partial"
    assert sorted(p.name for p in partial.glob("part-*")) == ["part-00000.h5"] and not out.exists()
    (partial / "part-00001.h5.tmp").write_bytes(b"left by a hard kill")
    progress = []
    embed_store(encoder, store, out, on_start=lambda todo, done: progress.append((todo, done)), **options)
    assert progress == [(44, 20)]
    assert _shard_bytes(out) == _shard_bytes(emb)
    with Embeddings.open(out) as resumed, Embeddings.open(emb) as whole:
        assert [s["sha256"] for s in resumed.manifest["shards"]] == [s["sha256"] for s in whole.manifest["shards"]]
        assert np.unique(resumed.object_ids).size == 64


def test_ranks_write_disjoint_shards_and_rank_zero_finishes(encoder, store, emb, tmp_path):
    out = tmp_path / "emb"
    options = {"batch_size": 16, "dtype": "float32", "projection": True, "rows_per_shard": 20}
    assert embed_store(encoder, store, out, ranks=Ranks(rank=1, world_size=2), **options) is None  # shards 2, 3
    assert sorted(p.name for p in (tmp_path / "emb.partial").glob("part-*")) == ["part-00002.h5", "part-00003.h5"]
    assert embed_store(encoder, store, out, ranks=Ranks(rank=0, world_size=2), **options) == out
    assert _shard_bytes(out) == _shard_bytes(emb)


def test_shares_cover_every_shard_once():
    for n_shards in (1, 3, 7, 64):
        for world in (1, 2, 3, 8):
            shares = [assigned_shards(n_shards, r, world) for r in range(world)]
            assert [k for share in shares for k in share] == list(range(n_shards))
            assert max(map(len, shares)) - min(map(len, shares)) <= 1


def test_batches_align_with_their_shard_and_reads_keep_order():
    assert batch_spans(20, 40, 16) == [(20, 36), (36, 40)]
    reads = list(prefetched(lambda a, b: torch.arange(a, b), batch_spans(0, 10, 3)))
    assert [(a, b) for a, b, _ in reads] == [(0, 3), (3, 6), (6, 9), (9, 10)]
    assert torch.cat([t for _, _, t in reads]).tolist() == list(range(10))

    def failing(a, b):
        if a == 6:
            raise OSError("disk on fire")
        return torch.zeros(b - a)

    batches = prefetched(failing, batch_spans(0, 10, 3))
    assert [a for a, _, _ in (next(batches), next(batches))] == [0, 3]
    with pytest.raises(OSError, match="disk on fire"):
        next(batches)


def test_the_reader_thread_advises_ahead_of_its_reads_off_the_main_thread():
    events = []

    def log(kind):
        return lambda a, b: events.append((kind, a, threading.current_thread().name)) or torch.arange(a, b)

    reads = list(prefetched(log("read"), batch_spans(0, 10, 3), advise=log("advise"), advise_depth=2))
    assert torch.cat([t for _, _, t in reads]).tolist() == list(range(10))
    assert [e[:2] for e in events] == [("advise", 0), ("advise", 3), ("advise", 6), ("read", 0), ("advise", 9),
                                       ("read", 3), ("read", 6), ("read", 9)]
    assert all(name.startswith("skyssl-embed-read") for _, _, name in events)


def test_reads_in_turn_write_the_same_bytes_as_the_reader_thread(encoder, store, emb, tmp_path, monkeypatch):
    monkeypatch.setattr(extract, "read_in_background", lambda device, threads, cores: False)
    out = embed_store(encoder, store, tmp_path / "emb", batch_size=16, dtype="float32", projection=True,
                      rows_per_shard=20)
    assert _shard_bytes(out) == _shard_bytes(emb)


def test_a_reader_thread_only_where_it_has_a_core_or_a_gpu():
    cpu, gpu = torch.device("cpu"), torch.device("cuda")
    assert read_in_background(cpu, torch_threads=1, cores=2) and read_in_background(gpu, 16, 16)
    assert not read_in_background(cpu, torch_threads=2, cores=2)


def test_reads_in_turn_advise_the_next_spans_first():
    events = []
    reads = read_in_turn(lambda a, b: events.append(("read", a)) or torch.arange(a, b),
                         lambda a, b: events.append(("advise", a)), batch_spans(0, 10, 3), depth=2)
    assert torch.cat([t for _, _, t in reads]).tolist() == list(range(10))
    assert events == [("advise", 0), ("advise", 3), ("advise", 6), ("read", 0), ("advise", 9), ("read", 3),
                      ("read", 6), ("read", 9)]


def test_row_reader_reuses_its_buffers_across_files(tmp_path):
    path = synthetic_store(tmp_path / "two-files", *uniform_sky(10, seed=3))  # files of rows 0–4 and 5–9
    with Store.open(path) as opened, RowReader(opened, batch_rows=4, n_buffers=2) as reader:
        assert len(opened.files) == 2
        expected = opened.read_images(np.arange(10), dtype=None)
        reader.advise(0, 10)
        first, second, third = reader.read(3, 7), reader.read(7, 10), reader.read(0, 2)
        np.testing.assert_array_equal(second.numpy(), expected[7:10])
        np.testing.assert_array_equal(third.numpy(), expected[0:2])
        assert third.data_ptr() == first.data_ptr()  # the first buffer, overwritten two reads later
        with pytest.raises(ValueError, match="exceed the reader's 4-row buffers"):
            reader.read(0, 5)
        np.testing.assert_array_equal(reader.read(3, 7).numpy(), expected[3:7])


def test_embeddings_and_store_must_match(encoder, store, emb, tmp_path, sdss_file):
    ra, dec = uniform_sky(64, seed=2)
    other = synthetic_store(tmp_path / "other", ra, dec)
    with Embeddings.open(emb) as out, pytest.raises(ArtefactError, match="do not match"):
        out.open_store(other)  # vectors are keyed by object_id: another store's ids are refused
    with pytest.raises(SkysslError, match="smaller than the model's 32 px view"):
        embed_store(encoder, other, tmp_path / "tiny")
    with pytest.raises(SkysslError, match="holds 5 bands"):
        embed_store(encoder, sdss_file[0], tmp_path / "sdss")


def test_a_different_job_does_not_resume_into_partial_output(encoder, store, tmp_path):
    def kill(todo, done):
        raise Killed

    with pytest.raises(Killed):
        embed_store(encoder, store, tmp_path / "emb", rows_per_shard=20, on_start=kill)
    with pytest.raises(ArtefactError, match="partial output of a different job"):
        embed_store(encoder, store, tmp_path / "emb", rows_per_shard=10)
    with pytest.raises(SkysslError, match="dtype must be one of"):
        embed_store(encoder, store, tmp_path / "emb", dtype="int8")
