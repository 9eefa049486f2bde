"""Search routes: by id, coordinates (degrees and sexagesimal), at random, with filters, as CSV; and 4xx."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from astropy.coordinates import SkyCoord


def test_health_describes_the_index(client, catalogue):
    body = client.get("/api/health").json()
    assert body["status"] == "ok"
    assert body["n_objects"] == catalogue["object_id"].size
    assert body["index_kind"] == "flat" and body["bands"] == ["g", "r", "z"]
    assert {"ra", "dec", "mag_r", "z_phot_mean", "type"} <= set(body["columns"])
    assert body["image_search"] is False and body["candidates"] is False


def test_search_by_id_returns_k_ranked_results_without_the_query(client, catalogue):
    query = int(catalogue["object_id"][5])
    body = client.get("/api/search", params={"id": query, "k": 7}).json()
    results = body["results"]
    assert body["method"] == "cosine" and body["query"]["object_id"] == query
    assert [r["rank"] for r in results] == list(range(1, 8))
    assert query not in {r["object_id"] for r in results}
    sims = [r["similarity"] for r in results]
    assert sims == sorted(sims, reverse=True)
    first = results[0]
    assert first["thumbnail_url"] == f"/api/objects/{first['object_id']}/thumbnail.png"
    assert first["viewer_url"].startswith("https://www.legacysurvey.org/viewer?ra=")
    assert first["grade"] is None and "mag_z" in first


def test_coordinates_find_the_object_at_that_position(client, catalogue):
    i = 9
    ra, dec = float(catalogue["ra"][i]), float(catalogue["dec"][i])
    by_degrees = client.get("/api/search", params={"ra": ra, "dec": dec, "k": 3}).json()
    assert by_degrees["query"]["object_id"] == int(catalogue["object_id"][i])
    assert by_degrees["query"]["separation_arcsec"] < 0.01
    sexagesimal = SkyCoord(ra, dec, unit="deg").to_string("hmsdms", sep=":", precision=3)
    by_text = client.get("/api/search", params={"coords": sexagesimal, "k": 3}).json()
    assert by_text["query"]["object_id"] == int(catalogue["object_id"][i])
    assert [r["object_id"] for r in by_text["results"]] == [r["object_id"] for r in by_degrees["results"]]


def test_random_search_is_reproducible_with_a_seed(client):
    first = client.get("/api/search", params={"random": "true", "seed": 3, "k": 2}).json()
    again = client.get("/api/search", params={"random": "true", "seed": 3, "k": 2}).json()
    assert first["query"]["object_id"] == again["query"]["object_id"]


def test_filters_restrict_results(client, catalogue):
    query = int(catalogue["object_id"][0])
    everything = client.get("/api/search", params={"id": query, "k": 63}).json()["results"]
    mags = np.array([r["mag_r"] for r in everything])
    lo, hi = np.percentile(mags, [25, 75])
    windowed = client.get("/api/search", params={"id": query, "k": 63, "mag_band": "r", "mag_min": lo,
                                                 "mag_max": hi}).json()["results"]
    assert windowed and all(lo <= r["mag_r"] <= hi for r in windowed)
    assert len(windowed) == int(((mags >= lo) & (mags <= hi)).sum())
    zphot = client.get("/api/search", params={"id": query, "k": 63, "zphot_max": 0.2}).json()["results"]
    assert all(r["z_phot_mean"] <= 0.2 for r in zphot) and len(zphot) < len(everything)
    banned = [r["object_id"] for r in everything[:3]]
    excluded = client.get("/api/search", params={"id": query, "k": 5,
                                                 "exclude": ",".join(map(str, banned))}).json()["results"]
    assert not set(banned) & {r["object_id"] for r in excluded}


def test_csv_download_has_the_same_rows(client, catalogue):
    params = {"id": int(catalogue["object_id"][2]), "k": 4}
    as_json = client.get("/api/search", params=params).json()["results"]
    response = client.get("/api/search", params={**params, "format": "csv"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [int(r["object_id"]) for r in rows] == [r["object_id"] for r in as_json]
    assert {"rank", "similarity", "ra", "dec", "mag_r", "grade", "viewer_url"} <= set(rows[0])


@pytest.mark.parametrize(("params", "status", "words"), [
    ({"ra": 999, "dec": 0}, 422, "ra"),
    ({"ra": 10, "dec": 100}, 422, "dec"),
    ({"ra": 10}, 400, "both ra and dec"),
    ({"id": 123456789}, 404, "not in this index"),
    ({"id": "../x"}, 422, "id"),
    ({"coords": "not a place"}, 400, "cannot parse coordinates"),
    ({"coords": "10 nan"}, 400, "finite"),
    ({"coords": "-00:30:00 -00:30:00"}, 404, "no object within"),
    ({}, 400, "exactly one query"),
    ({"id": 1, "random": "true"}, 400, "exactly one query"),
    ({"id": 1, "k": 0}, 422, "k"),
    ({"id": 1, "k": 1001}, 422, "k"),
    ({"id": 1, "mag_band": "q", "mag_min": 18}, 400, "no band 'q'"),
    ({"id": 1, "mag_min": 20, "mag_max": 18}, 400, "min ≤ max"),
    ({"id": 1, "mag_min": "nan"}, 422, "mag_min"),
    ({"id": 1, "exclude": "1,x"}, 400, "not an object id"),
    ({"id": 1, "format": "xml"}, 422, "format"),
])
def test_bad_queries_get_a_4xx_with_one_sentence(client, params, status, words):
    response = client.get("/api/search", params=params)
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail and words in detail
