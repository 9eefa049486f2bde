"""Fixtures of the browser tests: the app served by uvicorn on loopback, and Debian's Chromium driven by Playwright.

The main service runs on the app tests' index (the 64-object simulated store's 2-step embeddings, with
the run that made them for image search) and a ranked candidate list of every object; a second one
serves 16 objects whose ids do not fit a JavaScript number. Both run under uvicorn in background threads
of the test process (tests/app/conftest.py), so the tests can read the labels database through the API.
Chromium is the system package (`.ci/run` installs it; no `playwright install`, no network): without it
the tests skip, unless SKYSSL_REQUIRE_BROWSER is set, as in CI, where a missing browser is a failure.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from tests.app.conftest import running_server
from tests.search.helpers import embeddings_for, synthetic_store

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
VIEWPORT = {"width": 1360, "height": 900}
IMAGES_IN_VIEW_LOADED = """() => [...document.images].filter((img) => {
  const box = img.getBoundingClientRect();
  return img.src && box.width > 0 && box.bottom > 0 && box.top < window.innerHeight;
}).every((img) => img.complete && img.naturalWidth > 0)"""


@dataclass(frozen=True)
class Served:
    """A running service: its URL and what it was built from."""

    url: str
    store: Path
    candidate_ids: list[int]


@pytest.fixture(scope="session")
def chromium() -> Path:
    if CHROMIUM.is_file():
        return CHROMIUM
    reason = f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)"
    if os.environ.get("SKYSSL_REQUIRE_BROWSER"):
        pytest.fail(f"SKYSSL_REQUIRE_BROWSER is set but {reason}")
    pytest.skip(reason)


def write_candidates(store_path: Path, out: Path, seed: int = 0) -> list[int]:
    """A ranked candidate CSV (rank, object_id, score) over every object of the store; returns the ids in rank order."""
    from skyssl.store import Store

    with Store.open(store_path) as store:
        ids = np.asarray(store.object_ids, dtype=np.int64)
    scores = np.random.default_rng(seed).uniform(0.0, 1.0, ids.size)
    order = np.argsort(-scores, kind="stable")
    lines = ["rank,object_id,score"] + [f"{rank},{ids[i]},{scores[i]:.6f}" for rank, i in enumerate(order, start=1)]
    out.write_text("\n".join(lines) + "\n")
    return [int(ids[i]) for i in order]


@pytest.fixture(scope="session")
def served(tmp_path_factory, chromium, store, index_dir, run) -> Iterator[Served]:
    from skyssl.app import create_app

    base = tmp_path_factory.mktemp("browser-app")
    candidate_ids = write_candidates(store, base / "candidates.csv")
    app = create_app(index_dir, labels=base / "labels.sqlite", candidates=base / "candidates.csv", checkpoint=run)
    with running_server(app) as url:
        yield Served(url, store, candidate_ids)


@pytest.fixture(scope="session")
def served_big_ids(tmp_path_factory, chromium) -> Iterator[tuple[str, list[int]]]:
    """(URL, ids) of a 16-object service with DR9-style packed ids: int64s past 2^53, where neighbouring ids
    are the same float64, so a page that turns ids into JavaScript numbers grades the wrong object."""
    from skyssl.app import create_app
    from skyssl.search.build import build_index
    from skyssl.store.ids import pack_tractor_id

    base = tmp_path_factory.mktemp("browser-big-ids")
    n = 16
    ids = pack_tractor_id(np.full(n, 9010), np.full(n, 331_245), np.arange(1, n + 1))
    store = synthetic_store(base / "store", np.linspace(150.0, 150.1, n), np.linspace(2.0, 2.1, n),
                            columns={"object_id": ids})
    index = build_index(embeddings_for(store, base / "emb", dim=8), base / "index", kind="flat",
                        sample_queries=4, k=4)
    with running_server(create_app(index, labels=base / "labels.sqlite")) as url:
        yield url, [int(i) for i in ids]


@pytest.fixture(scope="session")
def browser(chromium):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@contextmanager
def app_page(browser, url: str):
    """A fresh browser context (empty localStorage) on the app at `url`; fails on any uncaught page error."""
    from playwright.sync_api import expect

    expect.set_options(timeout=15_000)
    context = browser.new_context(base_url=url, viewport=VIEWPORT, accept_downloads=True)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.goto("/")
    expect(opened.locator("#health")).to_contain_text("objects")
    try:
        yield opened
    finally:
        context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


@pytest.fixture
def page(browser, served):
    with app_page(browser, served.url) as opened:
        yield opened


@pytest.fixture
def big_ids_page(browser, served_big_ids):
    with app_page(browser, served_big_ids[0]) as opened:
        yield opened


@pytest.fixture
def screenshot(tmp_path):
    """Save the viewport as NAME.png: into docs/screenshots/ (the documentation's pictures of the main
    views) when SKYSSL_UPDATE_SCREENSHOTS=1, otherwise into the test's temporary folder, so that a test
    run leaves the tracked tree untouched.

    Noisy sky cutouts make true-colour PNGs of ~1 MB; 256 median-cut colours look the same at a third.
    """
    from PIL import Image

    folder = SCREENSHOTS if os.environ.get("SKYSSL_UPDATE_SCREENSHOTS") == "1" else tmp_path

    def save(page, name: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        page.wait_for_function(IMAGES_IN_VIEW_LOADED)
        shot = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
        shot.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(path, optimize=True)
        return path

    return save
