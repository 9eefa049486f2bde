"""`simulate_store`: a simulation written as a store, resumable, identical however it was run."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from skyssl.errors import ArtefactError, SkysslError
from skyssl.sim import catalog, driver, render
from skyssl.sim.config import SimConfig
from skyssl.store import Store

N_OBJECTS, ROWS_PER_SHARD = 40, 16


def make_config(seed: int = 4, n: int = N_OBJECTS) -> SimConfig:
    return SimConfig(survey="legacy", n_objects=n, seed=seed, lens_rate=0.05)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted serial run of 40 objects in shards of 16, 16 and 8 rows."""
    out = tmp_path_factory.mktemp("driver") / "reference"
    done: list[int] = []
    path = driver.simulate_store(make_config(), out, rows_per_shard=ROWS_PER_SHARD, workers=1,
                                 on_progress=done.append)
    assert sum(done) == N_OBJECTS
    return path


def read_all(path) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    with Store.open(path) as store:
        images = store.read_images(np.arange(store.n_objects), dtype=None)
        columns = {name: store.read_column(name) for name in store.columns}
    return images, columns


def test_the_store_opens_with_every_truth_column(reference):
    with Store.open(reference) as store:
        assert store.n_objects == N_OBJECTS
        assert store.image_shape == (3, 152, 152) and store.dtype == np.float32
        assert store.bands == ("g", "r", "z") and store.survey.name == "legacy-dr9-south"
        assert set(render.OBSERVED_COLUMNS) <= set(store.columns)
        assert set(render.TRUTH_COLUMNS) <= set(store.columns)
        assert len(store.files) == 3
        ids = store.object_ids
        assert np.unique(ids).size == N_OBJECTS and store.n_duplicate_ids == 0
        np.testing.assert_array_equal(ids, catalog.object_ids(4, np.arange(N_OBJECTS)))
        assert store.manifest["simulation"] == make_config().model_dump()
        table = store.catalog(["flux", "morph_class", "is_lens"])
        assert {"flux_g", "flux_r", "flux_z", "morph_class", "is_lens"} <= set(table.colnames)
        images = store.read_images(np.arange(14, 18), dtype=None)
        grades = store.read_column("lens_grade")
        is_lens = store.read_column("is_lens").astype(bool)
    # rows that straddle a shard boundary are what the renderer makes of them
    expected, columns = render.render_rows(make_config(), 14, 18)
    assert images.tobytes() == expected.tobytes()
    np.testing.assert_array_equal(table["flux_r"][14:18], columns["flux"][:, 1])
    assert set(grades[is_lens]) <= {"A", "B", "undetectable"} and set(grades[~is_lens]) == {""}


def test_an_interrupted_run_resumes_to_the_same_bytes(reference, tmp_path, monkeypatch):
    out = tmp_path / "resumed"
    calls: list[tuple[int, int]] = []
    original = render.render_rows

    def failing_on_third_shard(config, start, stop):
        calls.append((start, stop))
        if start >= 2 * ROWS_PER_SHARD:
            raise RuntimeError("simulated crash")
        return original(config, start, stop)

    monkeypatch.setattr(render, "render_rows", failing_on_third_shard)
    with pytest.raises(RuntimeError, match="simulated crash"):
        driver.simulate_store(make_config(), out, rows_per_shard=ROWS_PER_SHARD, workers=1)
    partial = out.with_name(out.name + ".partial")
    assert not out.exists()
    assert sorted(p.name for p in partial.glob("part-*.h5")) == ["part-00000.h5", "part-00001.h5"]
    assert not list(partial.glob("*.tmp"))

    def counting(config, start, stop):
        calls.append((start, stop))
        return original(config, start, stop)

    calls.clear()
    monkeypatch.setattr(render, "render_rows", counting)
    path = driver.simulate_store(make_config(), out, rows_per_shard=ROWS_PER_SHARD, workers=1)
    assert calls == [(2 * ROWS_PER_SHARD, N_OBJECTS)]  # only the missing shard is rendered again
    assert not partial.exists()
    images, columns = read_all(path)
    ref_images, ref_columns = read_all(reference)
    assert images.tobytes() == ref_images.tobytes()
    assert set(columns) == set(ref_columns)
    for name, values in ref_columns.items():
        np.testing.assert_array_equal(columns[name], values, err_msg=name)


def test_a_resume_with_other_settings_is_refused(tmp_path, monkeypatch):
    out = tmp_path / "store"
    original = render.render_rows

    def crash_after_first_shard(config, start, stop):
        if start >= ROWS_PER_SHARD:
            raise RuntimeError("simulated crash")
        return original(config, start, stop)

    monkeypatch.setattr(render, "render_rows", crash_after_first_shard)
    with pytest.raises(RuntimeError):
        driver.simulate_store(make_config(n=20), out, rows_per_shard=ROWS_PER_SHARD, workers=1)
    with pytest.raises(ArtefactError, match="different job"):
        driver.simulate_store(make_config(seed=5, n=20), out, rows_per_shard=ROWS_PER_SHARD, workers=1)


def test_parallel_workers_write_the_same_bytes(reference, tmp_path):
    path = driver.simulate_store(make_config(), tmp_path / "parallel", rows_per_shard=ROWS_PER_SHARD, workers=2)
    images, _ = read_all(path)
    ref_images, _ = read_all(reference)
    assert images.tobytes() == ref_images.tobytes()


def test_an_existing_output_needs_overwrite(reference, tmp_path):
    before = sorted(p.name for p in reference.iterdir())
    with pytest.raises(SkysslError, match="already exists"):
        driver.simulate_store(make_config(), reference, rows_per_shard=ROWS_PER_SHARD, workers=1)
    assert sorted(p.name for p in reference.iterdir()) == before

    out = tmp_path / "small"
    driver.simulate_store(make_config(n=3), out, rows_per_shard=2, workers=1)
    with pytest.raises(ArtefactError):
        driver.simulate_store(make_config(seed=9, n=3), out, rows_per_shard=2, workers=1)
    driver.simulate_store(make_config(seed=9, n=3), out, rows_per_shard=2, workers=1, overwrite=True)
    with Store.open(out) as store:
        np.testing.assert_array_equal(store.object_ids, catalog.object_ids(9, np.arange(3)))
        assert store.manifest["simulation"]["seed"] == 9
    with h5py.File(out / "part-00001.h5") as handle:
        assert handle["images"].shape == (1, 3, 152, 152)
