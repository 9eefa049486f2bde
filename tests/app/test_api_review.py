"""Review routes: object records, thumbnails, labels and their export, the candidate list; and 4xx."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

import numpy as np
import pytest
from astropy.table import Table
from PIL import Image


def post_label(client, object_id: int, grade: str = "A", reviewer: str = "ada", note: str = ""):
    return client.post("/api/labels", json={"object_id": object_id, "grade": grade, "reviewer": reviewer,
                                            "note": note})


def test_object_record_has_the_catalogue_row_links_and_labels(client, catalogue):
    object_id = int(catalogue["object_id"][4])
    post_label(client, object_id, "B", "ada", "arc at 2 o'clock")
    body = client.get(f"/api/objects/{object_id}").json()
    assert body["object_id"] == object_id and body["ra"] == pytest.approx(float(catalogue["ra"][4]))
    assert {"mag_g", "mag_r", "mag_z", "flux_r", "morph_class", "is_lens", "z_phot_mean"} <= set(body)
    assert body["is_lens"] == bool(catalogue["is_lens"][4])
    assert body["viewer_url"].startswith("https://") and body["thumbnail_url"].endswith("thumbnail.png")
    assert [(lab["grade"], lab["note"]) for lab in body["labels"]] == [("B", "arc at 2 o'clock")]


def test_thumbnail_is_a_cached_png_of_the_asked_size(client, catalogue):
    object_id = int(catalogue["object_id"][1])
    url = f"/api/objects/{object_id}/thumbnail.png"
    response = client.get(url, params={"size": 64})
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert image.size == (64, 64) and image.mode == "RGB"
    assert np.asarray(image).std() > 0  # a rendered galaxy, not a blank tile
    assert "max-age" in response.headers["cache-control"]
    default = client.get(url)
    assert Image.open(io.BytesIO(default.content)).size == (128, 128)
    revalidated = client.get(url, params={"size": 64}, headers={"If-None-Match": response.headers["etag"]})
    assert revalidated.status_code == 304 and not revalidated.content
    assert client.app.state.service.thumbnails.hits >= 1


@pytest.mark.parametrize(("path", "status"), [
    ("/api/objects/123456789", 404),
    ("/api/objects/123456789/thumbnail.png", 404),
    ("/api/objects/..%2F..%2Fetc%2Fpasswd", 404),
    ("/api/objects/..%5Cx", 422),
    ("/api/objects/../x", 404),
    ("/api/objects/0/thumbnail.png?size=8", 422),
    ("/api/objects/0/thumbnail.png?size=4096", 422),
    ("/api/objects/99999999999999999999999", 422),
    ("/static/..%2F..%2Fapi.py", 404),
    ("/static/../../../etc/passwd", 404),
])
def test_unknown_objects_bad_sizes_and_path_tricks_get_a_4xx(client, path, status):
    response = client.get(path)
    assert response.status_code == status, response.text
    assert "root:" not in response.text and "create_app" not in response.text


def test_posted_label_is_stored_and_listed_newest_first(client, catalogue):
    object_id = int(catalogue["object_id"][3])
    first = post_label(client, object_id, "A", "ada")
    assert first.status_code == 201
    stored = first.json()
    assert stored["object_id"] == object_id and stored["grade"] == "A" and stored["reviewer"] == "ada"
    assert datetime.fromisoformat(stored["created_at"]).utcoffset().total_seconds() == 0
    second = post_label(client, object_id, "not-lens", "  bob  ", "on reflection")
    assert second.json()["reviewer"] == "bob"
    listed = client.get("/api/labels", params={"object_id": object_id}).json()["labels"]
    assert [lab["id"] for lab in listed] == [second.json()["id"], stored["id"]]
    assert [lab["grade"] for lab in client.get("/api/labels", params={"reviewer": "ada"}).json()["labels"]] == ["A"]
    results = client.get("/api/search", params={"id": int(catalogue["object_id"][0]), "k": 63}).json()["results"]
    assert {r["object_id"]: r["grade"] for r in results}[object_id] == "not-lens"


@pytest.mark.parametrize(("body", "status", "words"), [
    ({"object_id": 123456789, "grade": "A", "reviewer": "ada"}, 404, "not in this index"),
    ({"object_id": 0, "grade": "C", "reviewer": "ada"}, 422, "grade"),
    ({"object_id": 0, "grade": "A", "reviewer": ""}, 422, "reviewer"),
    ({"object_id": 0, "grade": "A", "reviewer": "   "}, 422, "reviewer"),
    ({"object_id": 0, "grade": "A", "reviewer": "x" * 65}, 422, "reviewer"),
    ({"object_id": 0, "grade": "A", "reviewer": "ada", "note": "n" * 2001}, 422, "note"),
    ({"object_id": 0, "grade": "A", "reviewer": "ada", "note": "\ud800"}, 422, "note"),
    ({"object_id": "../x", "grade": "A", "reviewer": "ada"}, 422, "object_id"),
    ({"object_id": 2**70, "grade": "A", "reviewer": "ada"}, 422, "object_id"),
    ({"grade": "A", "reviewer": "ada"}, 422, "object_id"),
])
def test_bad_labels_are_refused_and_not_stored(client, body, status, words):
    response = client.post("/api/labels", content=json.dumps(body), headers={"content-type": "application/json"})
    assert response.status_code == status, response.text
    assert words in response.json()["detail"]
    assert client.app.state.service.labels.count() == 0


def test_export_holds_every_label_with_its_position(client, catalogue):
    ids = [int(i) for i in catalogue["object_id"][[2, 6]]]
    post_label(client, ids[0], "A", "ada", "clear arc, ünïcode")
    post_label(client, ids[1], "other", "bob", 'quote " and, comma')
    response = client.get("/api/labels/export.csv")
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(int(r["object_id"]), r["grade"], r["reviewer"]) for r in rows] == [(ids[1], "other", "bob"),
                                                                               (ids[0], "A", "ada")]
    assert rows[0]["note"] == 'quote " and, comma' and float(rows[1]["ra"]) == pytest.approx(catalogue["ra"][2])
    fits = client.get("/api/labels/export.fits")
    assert fits.status_code == 200 and fits.content.startswith(b"SIMPLE  =")
    table = Table.read(io.BytesIO(fits.content), format="fits")
    assert table["object_id"].tolist() == ids[::-1]
    assert table["ra"][1] == pytest.approx(catalogue["ra"][2])
    assert table["note"][1] == "clear arc, ünïcode"


def test_candidates_page_through_the_ranked_list(index_dir, labels_path, catalogue, tmp_path):
    from fastapi.testclient import TestClient

    from skyssl.app import create_app

    ids = [int(i) for i in catalogue["object_id"][::4]]
    path = tmp_path / "candidates.csv"
    path.write_text("object_id,score,rank\n" + "".join(f"{i},{1 - r / 100},{r}\n" for r, i in
                                                       reversed(list(enumerate(ids, start=1)))))
    client = TestClient(create_app(index_dir, labels=labels_path, candidates=path))
    post_label(client, ids[1], "B")
    first = client.get("/api/candidates", params={"page": 1, "per_page": 5}).json()
    assert first["total"] == len(ids) and first["page"] == 1
    assert [item["object_id"] for item in first["items"]] == ids[:5]
    assert [item["rank"] for item in first["items"]] == [1, 2, 3, 4, 5]
    assert first["items"][1]["grade"] == "B" and first["items"][0]["score"] == pytest.approx(0.99)
    last = client.get("/api/candidates", params={"page": 4, "per_page": 5}).json()
    assert [item["object_id"] for item in last["items"]] == ids[15:]
    assert client.get("/api/candidates", params={"page": 9}).json()["items"] == []
    assert client.get("/api/health").json()["candidates"] is True


def test_candidates_without_a_list_is_a_404_that_says_how(client):
    response = client.get("/api/candidates")
    assert response.status_code == 404 and "--candidates" in response.json()["detail"]


def test_candidate_file_naming_an_unknown_object_fails_at_start(index_dir, labels_path, tmp_path):
    from skyssl.app import create_app
    from skyssl.errors import InputError

    path = tmp_path / "candidates.csv"
    path.write_text("object_id,score\n0,0.9\n123456789,0.8\n")
    with pytest.raises(InputError, match="123456789"):
        create_app(index_dir, labels=labels_path, candidates=path)
