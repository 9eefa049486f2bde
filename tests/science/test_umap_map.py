"""The UMAP map: seeded fits and out-of-sample placement, the fit sample, and the Map artefact.

UMAP's cost in tests is numba's compile time, paid once per process; the fitted maps are shared by
the module. Data: well-separated Gaussian clusters, so "lands near" has an unambiguous meaning.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from skyssl.errors import ArtefactError, InputError
from skyssl.science.umap_artefact import load_map_model, open_map, write_map
from skyssl.science.umap_map import (
    check_map_options,
    fit_map,
    fit_sample_positions,
    map_embeddings,
    place_with,
)
from tests.search.helpers import clustered_vectors, embeddings_for, synthetic_store, uniform_sky

N_TRAIN, N_NEW, DIM, CLUSTERS = 300, 60, 16, 4


@pytest.fixture(scope="module")
def data():
    vectors, labels = clustered_vectors(N_TRAIN + N_NEW, DIM, CLUSTERS, spread=0.15, seed=1)
    return vectors[:N_TRAIN], labels[:N_TRAIN], vectors[N_TRAIN:], labels[N_TRAIN:]


@pytest.fixture(scope="module")
def fitted(data):
    train = data[0]
    return fit_map(train, seed=3)


def nearest_fitted_label(xy_fitted: np.ndarray, labels: np.ndarray, xy: np.ndarray) -> np.ndarray:
    distances = np.linalg.norm(xy[:, None, :] - xy_fitted[None, :, :], axis=2)
    return labels[distances.argmin(axis=1)]


def test_out_of_sample_placement_is_reproducible_under_a_seed(data, fitted):
    train, _, new, _ = data
    model, xy = fitted
    again_model, again_xy = fit_map(train, seed=3)
    assert np.array_equal(xy, again_xy)
    placed = model.transform(new)
    assert placed.dtype == np.float32 and placed.shape == (N_NEW, 2)
    assert np.array_equal(placed, again_model.transform(new))
    assert np.array_equal(placed, model.transform(new, batch=N_NEW))  # a repeat call gives the same bytes


def test_new_objects_land_in_their_own_cluster(data, fitted):
    _, labels, new, new_labels = data
    model, xy = fitted
    assert (nearest_fitted_label(xy, labels, model.transform(new)) == new_labels).mean() >= 0.95


def test_transforming_fitted_points_lands_near_their_fitted_positions(data, fitted):
    train, labels, _, _ = data
    model, xy = fitted
    placed = model.transform(train[:80])
    assert (nearest_fitted_label(xy, labels, placed) == labels[:80]).mean() >= 0.95
    span = np.linalg.norm(xy.max(axis=0) - xy.min(axis=0))
    assert np.median(np.linalg.norm(placed - xy[:80], axis=1)) < 0.1 * span


def test_the_map_uses_cosine_distances(data, fitted):
    """Rescaling a vector does not change what UMAP sees: the map works on directions only."""
    _, _, new, _ = data
    model, _ = fitted
    assert np.allclose(model.reduce_inputs(new * 7.5), model.reduce_inputs(new), atol=1e-6)
    assert np.allclose(np.linalg.norm(model.reduce_inputs(new), axis=1), 1.0, atol=1e-6)
    assert model.params["metric_in_umap"] == "cosine" and model.pca is None


def test_pca_first_projects_unit_vectors_and_maps_euclidean(data):
    train, labels, new, new_labels = data
    model, xy = fit_map(train, pca_dims=8, seed=0)
    assert model.pca.n_components_ == 8 and model.params["metric_in_umap"] == "euclidean"
    assert model.reduce_inputs(new).shape == (N_NEW, 8)
    assert (nearest_fitted_label(xy, labels, model.transform(new)) == new_labels).mean() >= 0.95


def test_fit_sample_positions_are_seeded_sorted_and_capped():
    sample = fit_sample_positions(1000, 100, seed=4)
    assert sample.size == 100 and np.all(np.diff(sample) > 0)
    assert np.array_equal(sample, fit_sample_positions(1000, 100, seed=4))
    assert not np.array_equal(sample, fit_sample_positions(1000, 100, seed=5))
    assert np.array_equal(fit_sample_positions(50, 100, seed=4), np.arange(50))


@pytest.mark.parametrize(("args", "message"), [
    ((100, 0, 0, 15), "--fit-sample must be at least 1"),
    ((100, 100, -1, 15), "--pca must be 0"),
    ((100, 100, 0, 1), "at least 2 neighbours"),
    ((10, 100, 0, 15), "a map of 10 fitted objects"),
])
def test_unusable_map_options_are_one_line_errors(args, message):
    with pytest.raises(InputError, match=message):
        check_map_options(*args)


@pytest.fixture(scope="module")
def clustered_embeddings(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("umap-map")
    vectors = np.concatenate([data[0], data[2]])
    ra, dec = uniform_sky(vectors.shape[0], seed=0)
    store = synthetic_store(folder / "store", ra, dec)
    return embeddings_for(store, folder / "emb", vectors=vectors, rows_per_shard=100)


@pytest.fixture(scope="module")
def mapped(clustered_embeddings):
    from skyssl.embed.reader import Embeddings

    seen = []
    with Embeddings.open(clustered_embeddings) as opened:
        model, coords = map_embeddings(opened, fit_sample=200, seed=2, batch=64, on_batch=seen.append)
        ids = opened.object_ids
    return model, coords, ids, seen


def test_map_embeddings_fits_a_sample_and_places_the_rest(clustered_embeddings, mapped, data):
    from skyssl.embed.reader import Embeddings

    model, coords, _, seen = mapped
    labels = np.concatenate([data[1], data[3]])
    assert coords.fitted.sum() == 200 and np.isfinite(coords.xy).all() and sum(seen) == labels.size
    fitted, placed = coords.fitted, ~coords.fitted
    assert (nearest_fitted_label(coords.xy[fitted], labels[fitted], coords.xy[placed]) == labels[placed]).mean() >= 0.95
    with Embeddings.open(clustered_embeddings) as opened:
        again = place_with(model, opened, "backbone", batch=64)
        repeat = place_with(model, opened, "backbone", batch=64)
    assert not again.fitted.any() and np.array_equal(again.xy, repeat.xy)  # same batches, same bytes
    assert (nearest_fitted_label(coords.xy[fitted], labels[fitted], again.xy) == labels).mean() >= 0.95


def test_the_map_artefact_round_trips_and_guards_its_model(mapped, tmp_path):
    model, coords, ids, _ = mapped
    path = write_map(tmp_path / "map.umap", model, ids, coords, {"embeddings": "test"})
    read = open_map(path)
    assert np.array_equal(read.object_ids, ids) and np.array_equal(read.xy, coords.xy)
    assert np.array_equal(read.fitted, coords.fitted) and read.manifest["n_fitted"] == 200
    assert read.manifest["kind"] == "skyssl.umap_map" and read.manifest["params"]["n_fit"] == 200
    assert np.array_equal(read.positions_for_ids(ids[[5, 2]]), [5, 2])
    with pytest.raises(InputError, match="is not in the map"):
        read.positions_for_ids([-1])
    loaded = load_map_model(path)
    new = np.random.default_rng(0).standard_normal((5, DIM)).astype(np.float32)
    assert np.array_equal(loaded.transform(new), model.transform(new))
    with pytest.raises(ArtefactError, match="already exists"):
        write_map(path, model, ids, coords, {"embeddings": "test"})
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["files"]["model.joblib"] = "0" * 64
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ArtefactError, match="refusing to unpickle"):
        load_map_model(path)


def test_placing_with_a_map_of_other_vectors_is_refused(clustered_embeddings, fitted, tmp_path):
    from skyssl.embed.reader import Embeddings

    model, _ = fitted
    model.params["input_dim"] = DIM + 1
    try:
        with Embeddings.open(clustered_embeddings) as opened, pytest.raises(InputError, match="fitted on 17-d"):
            place_with(model, opened, "backbone")
        with Embeddings.open(clustered_embeddings) as opened, pytest.raises(InputError, match="not 'projection'"):
            place_with(model, opened, "projection")
    finally:
        model.params["input_dim"] = DIM
