"""Index build and queries: exact equals brute force, approximate meets its recorded recall, filters,
multi-example queries, duplicate suppression, coordinates and provenance checks."""

import json

import numpy as np
import pytest

from skyssl.embed import Embeddings
from skyssl.errors import ArtefactError, InputError, SkysslError
from skyssl.search import SearchFilters, SearchIndex, build_index
from skyssl.search.coords import NoObjectNear
from skyssl.search.faiss_index import recall_at_k, search_parameters
from skyssl.search.topk import normalise_rows
from tests.search.helpers import (
    brute_force,
    clustered_vectors,
    embeddings_for,
    sim_store,
    synthetic_store,
    uniform_sky,
)


@pytest.fixture(scope="module")
def flat(tmp_path_factory):
    folder = tmp_path_factory.mktemp("flat")
    store = sim_store(tmp_path_factory)
    emb = embeddings_for(store, folder / "emb", dim=16, seed=7)
    path = build_index(emb, folder / "index", kind="flat", sample_queries=20, k=10)
    with Embeddings.open(emb) as opened:
        vectors, ids = opened.vectors(), opened.object_ids
    with SearchIndex.open(path) as index:
        yield index, vectors, ids


@pytest.fixture(scope="module")
def clustered(tmp_path_factory):
    """3,000 objects in 40 clusters, 32-d; ivfpq and hnsw indexes over them."""
    folder = tmp_path_factory.mktemp("clustered")
    ra, dec = uniform_sky(3000, seed=11)
    store = synthetic_store(folder / "store", ra, dec)
    vectors, _ = clustered_vectors(3000, 32, 40, spread=0.6, seed=12)
    emb = embeddings_for(store, folder / "emb", vectors, rows_per_shard=1000)
    return {kind: build_index(emb, folder / kind, kind=kind, sample_queries=200, k=20, seed=3)
            for kind in ("ivfpq", "hnsw")}, normalise_rows(vectors)


def _ids_and_sims(results):
    return [r["object_id"] for r in results], np.array([r["similarity"] for r in results])


def test_flat_search_by_id_equals_numpy_brute_force(flat):
    index, vectors, ids = flat
    for position in (0, 17, 63):
        order, sims = brute_force(vectors, vectors[position], 9)
        got_ids, got_sims = _ids_and_sims(index.search_by_id(int(ids[position]), k=8))
        assert order[0] == position  # the query itself, excluded by default
        assert got_ids == ids[order[1:]].tolist()
        np.testing.assert_allclose(got_sims, sims[1:], atol=1e-5)


def test_results_carry_catalogue_fields_and_a_viewer_link(flat):
    index, _, ids = flat
    result = index.search_by_id(int(ids[3]), k=1)[0]
    assert {"rank", "object_id", "similarity", "ra", "dec", "mag_g", "mag_r", "mag_z", "z_phot_mean", "type",
            "viewer_url"} <= set(result)
    assert result["viewer_url"].startswith("https://www.legacysurvey.org/viewer?ra=")
    assert "&layer=ls-dr9&zoom=16" in result["viewer_url"]
    assert index.search_by_id(int(ids[3]), k=1, include_query=True)[0]["object_id"] == int(ids[3])


def test_vector_and_multi_example_queries_equal_brute_force(flat):
    index, vectors, ids = flat
    query = np.random.default_rng(3).standard_normal(16)
    order, _ = brute_force(vectors, query, 5)
    assert _ids_and_sims(index.search_by_vector(query, k=5))[0] == ids[order].tolist()
    unit = normalise_rows(vectors)
    combined = unit[[2, 9, 30]].mean(axis=0) - unit[[4]].mean(axis=0)
    order, _ = brute_force(vectors, combined, 10)
    expected = [i for i in ids[order].tolist() if i not in {ids[2], ids[9], ids[30], ids[4]}][:5]
    got, _ = _ids_and_sims(index.search_by_ids([int(ids[2]), int(ids[9]), int(ids[30])], [int(ids[4])], k=5))
    assert got == expected


@pytest.mark.parametrize("kind", ["ivfpq", "hnsw"])
def test_approximate_recall_meets_what_the_manifest_says(clustered, kind):
    paths, unit = clustered
    manifest = json.loads((paths[kind] / "manifest.json").read_text())
    recorded = manifest["recall_at_k"]
    assert manifest["index_kind"] == kind and recorded["k"] == 20 and recorded["n_queries"] == 200
    with SearchIndex.open(paths[kind]) as index:
        queries = unit[np.random.default_rng(99).choice(unit.shape[0], 300, replace=False)]
        _, found = index.index.search(queries, 20, params=search_parameters(kind, index.params))
    truth = np.argsort(-(queries @ unit.T), axis=1)[:, :20]
    fresh = recall_at_k(found, truth)
    sampling_error = np.hypot(recorded["stderr"], fresh.std(ddof=1) / np.sqrt(fresh.size))
    assert fresh.mean() >= recorded["value"] - 3 * sampling_error - 0.01
    if kind == "hnsw":
        assert manifest["recall_target_met"] and recorded["value"] >= 0.95


def test_filters_restrict_results_exactly(flat):
    index, vectors, ids = flat
    catalog = index.catalog
    mag_z, photoz = catalog.mag("z"), catalog.column("z_phot_mean")
    colour = catalog.mag("g") - catalog.mag("r")
    filters = SearchFilters(mag_window=1.0, photoz_range=(0.1, 0.6), colour=("g", "r", 0.3, 2.0),
                            exclude_ids=(int(ids[1]),))
    results = index.search_by_id(int(ids[0]), k=5, filters=filters)
    allowed = ((np.abs(mag_z - mag_z[0]) <= 1.0) & (photoz >= 0.1) & (photoz <= 0.6) & (colour >= 0.3)
               & (colour <= 2.0))
    allowed[[0, 1]] = False
    order, _ = brute_force(vectors, vectors[0], 64)
    assert _ids_and_sims(results)[0] == [int(ids[p]) for p in order if allowed[p]][:5]


def test_sky_box_across_ra_zero_and_cone(flat):
    index, _, ids = flat
    ra, dec = index.catalog.ra_deg, index.catalog.dec_deg
    box = SearchFilters(sky_box_deg=(300.0, 60.0, -30.0, 30.0))
    got = {r["object_id"] for r in index.search_by_id(int(ids[0]), k=64, filters=box)}
    inside = ((ra >= 300) | (ra <= 60)) & (np.abs(dec) <= 30)
    inside[0] = False
    assert got == set(ids[inside].tolist()) and got
    cone = SearchFilters(cone_deg=(float(ra[5]), float(dec[5]), 40.0))
    for result in index.search_by_id(int(ids[5]), k=64, filters=cone):
        a = np.radians([result["ra"], result["dec"], ra[5], dec[5]])
        cos_sep = np.sin(a[1]) * np.sin(a[3]) + np.cos(a[1]) * np.cos(a[3]) * np.cos(a[0] - a[2])
        assert cos_sep >= np.cos(np.radians(40.0)) - 1e-12


def test_near_duplicates_are_suppressed(tmp_path):
    rng = np.random.default_rng(8)
    ra, dec = rng.uniform(150, 151, 40), rng.uniform(1, 2, 40)
    ra[20:30], dec[20:30] = ra[:10] + 0.5 / 3600, dec[:10]  # objects 20–29 are 0.5″ copies of 0–9
    vectors = rng.standard_normal((40, 8)).astype(np.float32)
    vectors[20:30] = vectors[:10] + 1e-3
    vectors[1:10] = vectors[0] + 0.05 * rng.standard_normal((9, 8))  # 1–9 (and their copies) look like 0
    store = synthetic_store(tmp_path / "store", ra, dec)
    index_path = build_index(embeddings_for(store, tmp_path / "emb", vectors), tmp_path / "index", sample_queries=10)
    with SearchIndex.open(index_path) as index:
        query = int(index.ids[0])
        plain = index.search_by_id(query, k=10)
        assert int(index.ids[20]) in {r["object_id"] for r in plain}  # the query's own copy tops the list
        kept = index.search_by_id(query, k=10, min_separation_arcsec=2.0)
    assert len(kept) == 10 and int(index.ids[20]) not in {r["object_id"] for r in kept}
    positions = np.radians([[r["ra"], r["dec"]] for r in kept] + [[ra[0], dec[0]]])
    for i in range(len(positions)):
        for j in range(i):
            d = positions[i] - positions[j]
            assert np.hypot(d[0] * np.cos(positions[i][1]), d[1]) * 206264.8 >= 2.0


def test_coordinate_queries_resolve_the_nearest_object(flat):
    index, _, ids = flat
    ra, dec = index.catalog.ra_deg[12], index.catalog.dec_deg[12]
    object_id, separation = index.resolve_coordinates(f"{ra + 0.3 / 3600:.7f} {dec:.7f}")
    assert object_id == int(ids[12]) and separation < 0.5
    assert index.search_by_coordinates(f"{ra} {dec}", k=3) == index.search_by_id(int(ids[12]), k=3)
    with pytest.raises(NoObjectNear, match=f"the nearest is object {int(ids[12])} at 2.00′"):
        index.resolve_coordinates(f"{ra:.7f} {dec + 2 / 60:.7f}")


def test_bad_queries(flat):
    index, _, ids = flat
    with pytest.raises(InputError, match="unknown object_id 4242424242"):
        index.search_by_id(4242424242)
    with pytest.raises(InputError, match="k must be a positive integer"):
        index.search_by_id(int(ids[0]), k=0)
    with pytest.raises(InputError, match="dimensions"):
        index.search_by_vector(np.ones(3))
    with pytest.raises(SkysslError, match="trained encoder"):
        index.search_by_image(np.zeros((3, 8, 8)))


def test_image_queries_use_the_supplied_encoder(flat):
    index, vectors, ids = flat
    index.embed_image_fn = lambda image: vectors[int(image.sum())]
    try:
        results = index.search_by_image(np.full((3, 1, 1), 10 / 3), k=3)
    finally:
        index.embed_image_fn = None
    assert results[0]["object_id"] == int(ids[10])


def test_an_index_notices_its_embeddings_changed(tmp_path_factory, tmp_path):
    store = sim_store(tmp_path_factory)
    emb = embeddings_for(store, tmp_path / "emb", seed=1)
    path = build_index(emb, tmp_path / "index", sample_queries=5)
    embeddings_for(store, tmp_path / "emb2", seed=2)
    (tmp_path / "emb").rename(tmp_path / "old")
    (tmp_path / "emb2").rename(tmp_path / "emb")
    with pytest.raises(ArtefactError, match="changed since the index was built"):
        SearchIndex.open(path)
    with pytest.raises(InputError, match="unknown index kind"):
        build_index(emb, tmp_path / "other", kind="annoy")
