// Review mode: the ranked candidate list, a page of tiles at a time, graded with the same keys as results.
import { apiJson, guarded, showMessage } from "./api.js";
import { $, begin, isLatest, state } from "./page.js";
import { makeTile } from "./tiles.js";

export async function loadPage(page) {
  const perPage = Number($("#per-page").value);
  const ticket = begin("review");
  const data = await apiJson(`/api/candidates?page=${page}&per_page=${perPage}`);
  if (!isLatest("review", ticket)) return;
  const pages = Math.max(1, Math.ceil(data.total / data.per_page));
  state.review = { page: data.page, pages };
  const first = (data.page - 1) * data.per_page + 1;
  const last = first + data.items.length - 1;
  $("#page-info").textContent = data.items.length
    ? `Page ${data.page} of ${pages} · candidates ${first}–${last} of ${data.total}`
    : `Page ${data.page} of ${pages} · no candidates here`;
  $("#page-prev").disabled = data.page <= 1;
  $("#page-next").disabled = data.page >= pages;
  const grid = $("#review-grid");
  grid.replaceChildren(...data.items.map((item) => makeTile(item, "score", ticket.at)));
  const tile = grid.querySelector(".tile");
  if (tile) tile.focus();
}

export function turnPage(step) {
  const page = state.review.page + step;
  if (page < 1 || page > state.review.pages) return Promise.resolve();
  return guarded(() => loadPage(page));
}

export function setMode(mode) {
  if (mode === "review" && !(state.health && state.health.candidates)) {
    showMessage("No candidate list: start the server with --candidates CSV to use review mode.");
    return Promise.resolve();
  }
  state.mode = mode;
  $("#search-view").hidden = mode !== "search";
  $("#review-view").hidden = mode !== "review";
  $("#mode-search").setAttribute("aria-pressed", String(mode === "search"));
  $("#mode-review").setAttribute("aria-pressed", String(mode === "review"));
  if (mode === "review" && !$("#review-grid").childElementCount) return guarded(() => loadPage(1));
  return Promise.resolve();
}
