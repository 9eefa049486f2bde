"""Fixtures of the web app tests: an index over the simulated store's embeddings (built once per session),
an app with a fresh labels database per test, and a real uvicorn server in a thread for concurrency tests.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from skyssl.app.serving import bind_socket
from tests.embed.helpers import embedded_store


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory) -> Path:
    """A flat index over the trained run's embeddings of the 64-object simulated store."""
    from skyssl.manifest import has_manifest
    from skyssl.search.build import build_index

    out = tmp_path_factory.getbasetemp() / "skyssl-app-index"
    if not has_manifest(out):
        build_index(embedded_store(tmp_path_factory), out, kind="flat", sample_queries=16, k=8, overwrite=out.exists())
    return out


@pytest.fixture(scope="session")
def catalogue(store) -> dict:
    """Store columns the tests compare with: object ids, positions, lens flags."""
    from skyssl.store import Store

    with Store.open(store) as opened:
        return {name: opened.read_column(name) for name in ("object_id", "ra", "dec", "is_lens")}


@pytest.fixture
def labels_path(tmp_path) -> Path:
    return tmp_path / "labels.sqlite"


@pytest.fixture
def client(index_dir, labels_path):
    from fastapi.testclient import TestClient

    from skyssl.app import create_app

    with TestClient(create_app(index_dir, labels=labels_path)) as test_client:
        yield test_client


@contextmanager
def running_server(app) -> Iterator[str]:
    """Serve `app` with uvicorn on a free loopback port in a thread; yields the base URL."""
    import uvicorn

    sock = bind_socket("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
