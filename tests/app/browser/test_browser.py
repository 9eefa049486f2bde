"""The browser UI end to end: Chromium drives the page, the API (and its labels database) is the witness.

Each test works as a reviewer would: types coordinates, marks examples and searches again, grades
with the keyboard, walks the candidate pages, downloads the export and reads an error. The reviewer
name is unique per test because the service (and its labels database) is shared by the session.
"""

from __future__ import annotations

import time
import uuid

import httpx
import numpy as np

from skyssl.store import Store

K = 12


def expect(locator):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def grid_ids(page, grid: str = "#grid") -> list[int]:
    return [int(v) for v in page.locator(f"{grid} .tile").evaluate_all("tiles => tiles.map(t => t.dataset.objectId)")]


def api_get(served, path: str, **params) -> dict:
    response = httpx.get(served.url + path, params=params, timeout=30.0)
    response.raise_for_status()
    return response.json()


def labels_of(served, reviewer: str, n_expected: int, timeout_s: float = 10.0) -> list[dict]:
    """The reviewer's labels once the page's (asynchronous) posts have all landed."""
    deadline = time.monotonic() + timeout_s
    while True:
        labels = api_get(served, "/api/labels", reviewer=reviewer)["labels"]
        if len(labels) >= n_expected or time.monotonic() > deadline:
            return labels
        time.sleep(0.1)


def search_by_id(page, object_id: int, k: int = K) -> None:
    page.fill("#opt-k", str(k))
    page.fill("#q-id", str(object_id))
    page.press("#q-id", "Enter")
    expect(page.locator("#query-summary")).to_contain_text(f"object {object_id} ")
    expect(page.locator("#grid .tile")).to_have_count(k)


def set_reviewer(page, name: str) -> None:
    page.fill("#reviewer", name)


def some_object(served, row: int) -> tuple[int, float, float]:
    with Store.open(served.store) as store:
        return int(store.object_ids[row]), float(store.read_column("ra")[row]), float(store.read_column("dec")[row])


def test_search_by_coordinates_shows_the_objects_neighbours(page, served, screenshot):
    object_id, ra, dec = some_object(served, 5)
    page.fill("#opt-k", str(K))
    page.fill("#q-coords", f"{ra:.6f} {dec:.6f}")
    page.press("#q-coords", "Enter")
    expect(page.locator("#query-summary")).to_contain_text(f"object {object_id} ")
    expect(page.locator("#grid .tile")).to_have_count(K)
    expected = [r["object_id"] for r in api_get(served, "/api/search", id=object_id, k=K)["results"]]
    assert grid_ids(page) == expected
    expect(page.locator("#query-img")).to_have_attribute("alt", f"Query object {object_id}")
    first = page.locator("#grid .tile").first
    expect(first).to_be_focused()
    assert first.locator("img").get_attribute("alt") == f"Cutout of object {expected[0]}"
    assert page.locator("#grid .tile img").evaluate_all("imgs => imgs.every(i => i.complete && i.naturalWidth > 0)")
    expect(page.locator("#results-table tbody tr")).to_have_count(K)
    csv = httpx.get(served.url + page.locator("#csv-link").get_attribute("href"), timeout=30.0)
    assert csv.status_code == 200 and str(expected[0]) in csv.text
    viewer = page.locator("#results-table tbody tr").first.locator("a").get_attribute("href")
    assert viewer.startswith("https://www.legacysurvey.org/viewer")
    screenshot(page, "search-results")
    page.select_option("#opt-size", "64")
    expect(first.locator("img")).to_have_attribute("src", f"/api/objects/{expected[0]}/thumbnail.png?size=64")
    expect(first.locator("img")).to_have_js_property("naturalWidth", 64)


def test_search_by_an_uploaded_cutout_finds_the_object_itself(page, served, tmp_path):
    object_id, _, _ = some_object(served, 12)
    with Store.open(served.store) as store:
        np.save(tmp_path / "cutout.npy", store.read_images([12])[0])
    expect(page.locator("#upload-field")).to_be_visible()
    page.fill("#opt-k", "6")
    page.set_input_files("#q-file", tmp_path / "cutout.npy")
    page.click("#btn-upload")
    expect(page.locator("#query-summary")).to_contain_text("uploaded cutout cutout.npy")
    expect(page.locator("#grid .tile")).to_have_count(6)
    assert grid_ids(page)[0] == object_id
    assert float(page.locator("#grid .tile .sim").first.inner_text()) > 0.999
    assert page.locator("#csv-link").get_attribute("href").startswith("blob:")
    expect(page.locator("#query-img")).to_be_hidden()


def table_column(page, name: str) -> list[str]:
    headers = page.locator("#results-table thead th").evaluate_all("ths => ths.map(t => t.textContent)")
    return page.locator(f"#results-table tbody td:nth-child({headers.index(name) + 1})").all_inner_texts()


def test_filters_reach_the_search(page, served):
    object_id, _, _ = some_object(served, 7)

    def passes(mag_r: float, z: float) -> bool:
        return 20.3 <= mag_r <= 21.0 and z <= 0.4

    unfiltered = api_get(served, "/api/search", id=object_id, k=5)["results"]
    assert not all(passes(r["mag_r"], r["z_phot_mean"]) for r in unfiltered)  # the filter has work to do
    page.select_option("#f-band", "r")
    page.fill("#f-mag-min", "20.3")
    page.fill("#f-mag-max", "21")
    page.fill("#f-z-max", "0.4")
    page.fill("#f-sep", "1.5")
    page.fill("#opt-k", "5")
    page.fill("#q-id", str(object_id))
    page.click("#btn-id")
    expect(page.locator("#query-summary")).to_contain_text(f"object {object_id} ")
    n = page.locator("#grid .tile").count()
    assert n >= 1
    mags = [float(v) for v in table_column(page, "mag_r")]
    photo_z = [float(v) for v in table_column(page, "z_phot_mean")]
    assert len(mags) == n and all(passes(m, z) for m, z in zip(mags, photo_z, strict=True))
    href = page.locator("#csv-link").get_attribute("href")
    assert "mag_band=r" in href and "mag_min=20.3" in href and "zphot_max=0.4" in href
    assert "min_sep_arcsec=1.5" in href and "format=csv" in href


def test_table_sorts_by_the_clicked_column(page):
    page.fill("#opt-k", str(K))
    page.click("#btn-random")
    expect(page.locator("#query-summary")).to_contain_text("Neighbours of object")
    expect(page.locator("#grid .tile")).to_have_count(K)
    header = page.locator("#results-table th button", has_text="similarity")

    def similarities() -> list[float]:
        return [float(v) for v in table_column(page, "similarity")]

    header.click()
    expect(page.locator("#results-table th[aria-sort='ascending']")).to_have_text("similarity")
    ascending = similarities()
    assert ascending == sorted(ascending) and ascending[0] < ascending[-1]
    header.click()
    expect(page.locator("#results-table th[aria-sort='descending']")).to_have_text("similarity")
    assert similarities() == sorted(ascending, reverse=True)


def test_relevance_feedback_reranks_and_excludes_the_marked(page, served, screenshot):
    object_id, _, _ = some_object(served, 20)
    search_by_id(page, object_id)
    before = grid_ids(page)
    page.locator("#grid .tile").nth(0).focus()
    page.keyboard.press("p")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("p")
    page.locator("#grid .tile").nth(5).locator(".mark-neg").click()
    expect(page.locator("#grid .tile.pos")).to_have_count(2)
    expect(page.locator("#grid .tile.neg")).to_have_count(1)
    expect(page.locator("#feedback-count")).to_have_text("2 positive, 1 negative marked.")
    page.click("#btn-feedback")
    expect(page.locator("#query-summary")).to_contain_text("relevance feedback")
    expect(page.locator("#grid .tile")).to_have_count(K)
    after = grid_ids(page)
    assert after != before
    assert not {before[0], before[1], before[5]} & set(after)
    screenshot(page, "feedback")


def test_grading_with_the_keyboard_reaches_the_labels_database(page, served, screenshot):
    reviewer = f"kb-{uuid.uuid4().hex[:8]}"
    object_id, _, _ = some_object(served, 30)
    set_reviewer(page, reviewer)
    search_by_id(page, object_id)
    ids = grid_ids(page)
    tiles = page.locator("#grid .tile")
    expect(tiles.nth(0)).to_be_focused()
    page.keyboard.press("1")
    expect(tiles.nth(0).locator(".badge")).to_have_attribute("data-grade", "A")
    expect(tiles.nth(1)).to_be_focused()
    page.keyboard.press("j")
    page.keyboard.press("n")
    expect(tiles.nth(2).locator(".badge")).to_have_attribute("data-grade", "not-lens")
    columns = page.locator("#grid").evaluate("g => getComputedStyle(g).gridTemplateColumns.split(' ').length")
    page.keyboard.press("ArrowDown")
    expect(tiles.nth(3 + columns)).to_be_focused()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("k")
    page.keyboard.press("k")
    page.keyboard.press("Enter")
    expect(page.locator("#details-title")).to_have_text(f"Object {ids[1]}")
    expect(page.locator("#details-row")).to_contain_text("ra")
    page.fill("#details-note", "arc to the north-east")
    page.click("#details [data-grade='B']")
    expect(page.locator("#details-labels")).to_contain_text(f"B by {reviewer}")
    expect(tiles.nth(1).locator(".badge")).to_have_attribute("data-grade", "B")
    screenshot(page, "grading")
    labels = {label["object_id"]: label for label in labels_of(served, reviewer, 3)}
    assert {k: v["grade"] for k, v in labels.items()} == {ids[0]: "A", ids[2]: "not-lens", ids[1]: "B"}
    assert labels[ids[1]]["note"] == "arc to the north-east"
    page.keyboard.press("Escape")
    expect(page.locator("#details")).to_be_hidden()
    expect(tiles.nth(1)).to_be_focused()
    page.reload()
    expect(page.locator("#reviewer")).to_have_value(reviewer)


def test_review_mode_walks_the_candidate_pages(page, served, screenshot):
    reviewer = f"rv-{uuid.uuid4().hex[:8]}"
    set_reviewer(page, reviewer)
    page.click("#mode-review")
    expect(page.locator("#search-view")).to_be_hidden()
    page.select_option("#per-page", "24")
    pages = int(np.ceil(len(served.candidate_ids) / 24))
    expect(page.locator("#page-info")).to_contain_text(f"Page 1 of {pages}")
    expect(page.locator("#review-grid .tile")).to_have_count(24)
    assert grid_ids(page, "#review-grid") == served.candidate_ids[:24]
    page.keyboard.press("2")
    expect(page.locator("#review-grid .tile").first.locator(".badge")).to_have_attribute("data-grade", "B")
    screenshot(page, "review")
    page.keyboard.press("]")
    expect(page.locator("#page-info")).to_contain_text(f"Page 2 of {pages}")
    assert grid_ids(page, "#review-grid") == served.candidate_ids[24:48]
    page.keyboard.press("o")
    page.click("#page-next")
    expect(page.locator("#page-info")).to_contain_text(f"Page 3 of {pages}")
    expect(page.locator("#page-next")).to_be_disabled()
    assert grid_ids(page, "#review-grid") == served.candidate_ids[48:72]
    page.keyboard.press("[")
    expect(page.locator("#page-info")).to_contain_text(f"Page 2 of {pages}")
    expect(page.locator("#review-grid .tile").first.locator(".badge")).to_have_attribute("data-grade", "other")
    grades = {label["object_id"]: label["grade"] for label in labels_of(served, reviewer, 2)}
    assert grades == {served.candidate_ids[0]: "B", served.candidate_ids[24]: "other"}


def test_export_link_downloads_the_graded_catalogue(page, served):
    reviewer = f"ex-{uuid.uuid4().hex[:8]}"
    object_id, _, _ = some_object(served, 40)
    set_reviewer(page, reviewer)
    search_by_id(page, object_id)
    graded = grid_ids(page)[0]
    page.keyboard.press("4")
    expect(page.locator("#status")).to_contain_text(f"Object {graded} graded other by {reviewer}")
    with page.expect_download() as download:
        page.click("#export-csv")
    text = download.value.path().read_text()
    rows = [line for line in text.splitlines() if reviewer in line]
    assert len(rows) == 1 and str(graded) in rows[0] and "other" in rows[0]


def test_api_errors_are_shown_in_the_message_area(page, served, screenshot):
    page.fill("#q-coords", "999 0")
    page.press("#q-coords", "Enter")
    message = page.locator("#message")
    expect(message).to_be_visible()
    expect(message).to_contain_text("Error 4")
    assert len(message.inner_text()) > len("Error 400: ")
    expect(page.locator("#results")).to_be_hidden()
    screenshot(page, "error")
    object_id, _, _ = some_object(served, 3)
    search_by_id(page, object_id)
    expect(message).to_be_hidden()
    page.keyboard.press("1")
    expect(message).to_contain_text("reviewer name")
    expect(page.locator("#reviewer")).to_be_focused()
    expect(page.locator("#grid .tile").first.locator(".badge")).to_have_attribute("data-grade", "")
    page.locator("#grid .tile").first.focus()
    page.keyboard.press("?")
    expect(page.locator("#keys-help")).to_be_hidden()
    page.keyboard.press("?")
    expect(page.locator("#keys-help")).to_be_visible()


def test_int64_ids_survive_the_page_exactly(big_ids_page, served_big_ids):
    page = big_ids_page
    url, ids = served_big_ids
    assert float(ids[0]) == float(ids[1])  # the ids a JavaScript number cannot tell apart
    reviewer = f"id-{uuid.uuid4().hex[:8]}"
    set_reviewer(page, reviewer)
    expect(page.locator("#mode-review")).to_be_disabled()
    page.fill("#opt-k", "5")
    page.fill("#q-id", str(ids[3]))
    page.press("#q-id", "Enter")
    expect(page.locator("#query-summary")).to_contain_text(f"object {ids[3]} ")
    expect(page.locator("#grid .tile")).to_have_count(5)
    response = httpx.get(f"{url}/api/search", params={"id": ids[3], "k": 5}, timeout=30.0).json()
    shown = grid_ids(page)
    assert shown == [r["object_id"] for r in response["results"]]
    page.keyboard.press("1")
    page.keyboard.press("p")
    page.keyboard.press("j")
    page.keyboard.press("x")
    page.keyboard.press("g")
    expect(page.locator("#query-summary")).to_contain_text("relevance feedback")
    assert not {shown[1], shown[2]} & set(grid_ids(page))
    labels = httpx.get(f"{url}/api/labels", params={"reviewer": reviewer}, timeout=30.0).json()["labels"]
    assert [(label["object_id"], label["grade"]) for label in labels] == [(shown[0], "A")]
