"""Search by uploaded cutout: .npy and FITS in, the stamp's own object out first; and the 4xx cases."""

from __future__ import annotations

import io

import numpy as np
import pytest
from astropy.io import fits


@pytest.fixture(scope="module")
def image_client(index_dir, run, tmp_path_factory):
    from fastapi.testclient import TestClient

    from skyssl.app import create_app

    app = create_app(index_dir, labels=tmp_path_factory.mktemp("labels") / "labels.sqlite", checkpoint=run)
    with TestClient(app) as client:
        yield client


@pytest.fixture(scope="module")
def stamp(store) -> tuple[int, np.ndarray]:
    from skyssl.store import Store

    with Store.open(store) as opened:
        return int(opened.object_ids[7]), opened.read_images([7])[0]


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def fits_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    fits.PrimaryHDU(array).writeto(buffer)
    return buffer.getvalue()


def upload(client, data: bytes, name: str = "query.npy", k: int = 5):
    return client.post("/api/search/image", files={"file": (name, data, "application/octet-stream")},
                       data={"k": str(k)})


@pytest.mark.parametrize("encode", [npy_bytes, fits_bytes])
def test_a_stamp_finds_its_own_object_first(image_client, stamp, encode):
    object_id, image = stamp
    assert image_client.get("/api/health").json()["image_search"] is True
    response = upload(image_client, encode(image), k=4)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert len(results) == 4 and results[0]["object_id"] == object_id
    assert results[0]["similarity"] == pytest.approx(1.0, abs=1e-3)
    assert results[0]["thumbnail_url"].endswith("thumbnail.png")


def test_the_client_file_name_does_not_decide_the_format(image_client, stamp):
    object_id, image = stamp
    response = upload(image_client, fits_bytes(image), name="../../etc/passwd.npy")
    assert response.status_code == 200 and response.json()["results"][0]["object_id"] == object_id


@pytest.mark.parametrize(("data", "words"), [
    (b"\x93NUMPY\x01\x00garbage", "not a readable .npy"),
    (b"hello, this is text", "neither a .npy array nor a FITS file"),
    (b"", "neither a .npy array nor a FITS file"),
    (npy_bytes(np.zeros((3, 10, 10), np.float32)), "(3, 152, 152)"),
    (npy_bytes(np.zeros((152, 152), np.float32)), "bands, height, width"),
    (npy_bytes(np.array(["a", "b"])), "numeric"),
    (npy_bytes(np.full((3, 152, 152), np.nan, np.float32)), "non-finite"),
    (npy_bytes(np.array([{"a": 1}], dtype=object)), "not a readable .npy"),
])
def test_malformed_uploads_get_a_400_with_one_sentence(image_client, data, words):
    response = upload(image_client, data)
    assert response.status_code == 400, response.text
    detail = response.json()["detail"]
    assert words in detail and "/tmp" not in detail


def test_oversized_upload_is_refused_with_413(image_client):
    response = upload(image_client, b"\x93NUMPY" + bytes(17 * 2**20))
    assert response.status_code == 413 and "16 MiB" in response.json()["detail"]


def test_oversized_upload_without_a_content_length_is_refused_after_reading(image_client):
    boundary = "skyssl-test-boundary"

    def chunked_body():  # a generator body goes out chunked, with no Content-Length to check up front
        yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"q.npy\"\r\n"
               "Content-Type: application/octet-stream\r\n\r\n").encode() + b"\x93NUMPY"
        for _ in range(17):
            yield bytes(2**20)
        yield f"\r\n--{boundary}--\r\n".encode()

    response = image_client.post("/api/search/image", content=chunked_body(),
                                 headers={"content-type": f"multipart/form-data; boundary={boundary}"})
    assert response.status_code == 413 and "16 MiB" in response.json()["detail"]


def test_image_search_without_a_checkpoint_is_a_409(client, stamp):
    response = upload(client, npy_bytes(stamp[1]))
    assert response.status_code == 409 and "--checkpoint" in response.json()["detail"]
