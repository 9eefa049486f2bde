"""Relevance feedback: a probe fitted on marked examples finds the rest of their class, through the API too."""

from __future__ import annotations

import numpy as np
import pytest

from tests.search.helpers import clustered_vectors, embeddings_for, synthetic_store, uniform_sky

N_OBJECTS, N_CLUSTERS = 600, 6


@pytest.fixture(scope="module")
def clustered(tmp_path_factory):
    """An index over 600 objects in 6 tight clusters of 16-d vectors, and each object's cluster."""
    from skyssl.search.build import build_index

    folder = tmp_path_factory.mktemp("feedback")
    store = synthetic_store(folder / "store", *uniform_sky(N_OBJECTS, seed=1))
    vectors, cluster = clustered_vectors(N_OBJECTS, 16, N_CLUSTERS, spread=0.3, seed=2)
    index = build_index(embeddings_for(store, folder / "emb", vectors), folder / "index", sample_queries=8, k=5)
    return index, cluster


@pytest.fixture(scope="module")
def clustered_client(clustered, tmp_path_factory):
    from fastapi.testclient import TestClient

    from skyssl.app import create_app

    with TestClient(create_app(clustered[0], labels=tmp_path_factory.mktemp("fb") / "labels.sqlite")) as client:
        yield client


def object_ids(n: int) -> np.ndarray:
    return 1_000_000 + np.arange(n, dtype=np.int64) * 7  # synthetic_store's ids


def test_feedback_ranks_the_marked_class_first(clustered_client, clustered):
    _, cluster = clustered
    ids = object_ids(N_OBJECTS)
    positive = ids[cluster == 2][:3].tolist()
    negative = ids[cluster == 4][:2].tolist()
    k = 40
    body = clustered_client.post("/api/feedback", json={"positive_ids": positive, "negative_ids": negative,
                                                        "k": k}).json()
    assert body["method"] == "probe" and body["query"]["positive_ids"] == positive
    assert body["query"]["n_background"] >= 32 - len(negative)
    results = body["results"]
    returned = np.array([r["object_id"] for r in results])
    assert len(results) == k and not set(returned) & set(positive + negative)
    assert (cluster[(returned - 1_000_000) // 7] == 2).mean() == 1.0
    probabilities = [r["similarity"] for r in results]
    assert probabilities == sorted(probabilities, reverse=True) and 0.5 < probabilities[0] <= 1.0
    again = clustered_client.post("/api/feedback", json={"positive_ids": positive, "negative_ids": negative,
                                                         "k": k}).json()
    assert [r["object_id"] for r in again["results"]] == returned.tolist()


def test_feedback_honours_filters_and_exclusions(clustered_client, clustered):
    _, cluster = clustered
    ids = object_ids(N_OBJECTS)
    positive = ids[cluster == 1][:2].tolist()
    banned = ids[cluster == 1][2:12].tolist()
    body = clustered_client.post("/api/feedback", json={"positive_ids": positive, "k": 30, "exclude": banned,
                                                        "zphot_max": 0.5, "min_sep_arcsec": 1.0}).json()
    returned = {r["object_id"] for r in body["results"]}
    assert returned and not returned & set(banned)
    assert all(r["z_phot_mean"] <= 0.5 for r in body["results"])


@pytest.mark.parametrize(("body", "status", "words"), [
    ({"positive_ids": []}, 422, "positive_ids"),
    ({"negative_ids": [1000000]}, 422, "positive_ids"),
    ({"positive_ids": [5]}, 404, "object 5"),
    ({"positive_ids": [1000000], "negative_ids": [1000000]}, 400, "both positive and negative"),
    ({"positive_ids": [1000000], "k": 0}, 422, "k"),
    ({"positive_ids": [1000000], "mag_min": 21, "mag_max": 17}, 400, "min ≤ max"),
])
def test_bad_feedback_gets_a_4xx(clustered_client, body, status, words):
    response = clustered_client.post("/api/feedback", json=body)
    assert response.status_code == status, response.text
    assert words in response.json()["detail"]


def test_feedback_on_the_simulated_survey_returns_results(client, catalogue):
    lenses = catalogue["object_id"][catalogue["is_lens"]].tolist()
    positive = lenses[:1] or [int(catalogue["object_id"][0])]
    body = client.post("/api/feedback", json={"positive_ids": positive, "k": 10}).json()
    assert len(body["results"]) == 10 and body["results"][0]["thumbnail_url"].endswith(".png")
