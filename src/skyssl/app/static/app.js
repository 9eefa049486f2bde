// skyssl web app, entry point: start-up and the keyboard. Plain ES modules, no build step, and no network
// beyond this server. The modules: page (state, DOM helpers), api (calls, messages), tiles (marks, grades),
// search (searches, results table), details (one object), review (candidate pages).
import { apiJson, guarded } from "./api.js";
import { closeDetails, openDetails } from "./details.js";
import { $, currentGrid, el, state, thumbnailUrl, tilePx } from "./page.js";
import { loadPage, setMode, turnPage } from "./review.js";
import { queryKind, searchFeedback, searchGet, searchUpload } from "./search.js";
import { clearMarks, grade, toggleMark, updateFeedbackBar } from "./tiles.js";

const GRADE_KEYS = { 1: "A", 2: "B", 3: "not-lens", 4: "other", a: "A", b: "B", n: "not-lens", o: "other" };
const STEP_KEYS = { ArrowRight: 1, ArrowLeft: -1, j: 1, k: -1 };
const REVIEWER_KEY = "skyssl.reviewer";

function gridColumns(grid) {
  return getComputedStyle(grid).gridTemplateColumns.split(" ").filter(Boolean).length || 1;
}

// Focus the tile `step` places on (the first if none has focus); false when there is no tile to focus.
function moveFocus(step) {
  const tiles = [...currentGrid().querySelectorAll(".tile")];
  if (!tiles.length) return false;
  const at = tiles.indexOf(document.activeElement.closest(".tile"));
  const next = at < 0 ? 0 : Math.min(tiles.length - 1, Math.max(0, at + step));
  tiles[next].focus();
  tiles[next].scrollIntoView({ block: "nearest" });
  return true;
}

function focusedId() {
  const tile = document.activeElement && document.activeElement.closest(".tile");
  return tile ? tile.dataset.objectId : null;
}

// One key, one action; typing in a field is left alone, and Enter/Space still press a focused button.
function onKey(event) {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (target.matches("input, textarea, select")) {
    if (event.key === "Escape") target.blur();
    return;
  }
  if (target.matches("button, a") && (event.key === "Enter" || event.key === " ")) return;
  const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
  const id = focusedId();
  const columns = gridColumns(currentGrid());
  const rowSteps = { ArrowDown: columns, ArrowUp: -columns };
  if (key in STEP_KEYS || key in rowSteps) {
    if (!moveFocus(STEP_KEYS[key] ?? rowSteps[key])) return; // no tiles: arrows scroll the page as usual
  } else if (key in GRADE_KEYS && id !== null) {
    guarded(() => grade(id, GRADE_KEYS[key]));
    moveFocus(1); // on to the next object: a review is one key per object
  } else if ((key === "p" || key === "x") && id !== null) {
    toggleMark(id, key === "p" ? "pos" : "neg");
  } else if (key === "Enter" && id !== null) {
    guarded(() => openDetails(id));
  } else if (key === "Escape" && state.detailsId !== null) {
    closeDetails();
  } else if (key === "g") {
    guarded(searchFeedback);
  } else if ((key === "]" || key === "PageDown") && state.mode === "review") {
    turnPage(1);
  } else if ((key === "[" || key === "PageUp") && state.mode === "review") {
    turnPage(-1);
  } else if (key === "?") {
    $("#keys-help").hidden = !$("#keys-help").hidden;
  } else {
    return;
  }
  event.preventDefault();
}

async function loadHealth() {
  const health = await apiJson("/api/health");
  state.health = health;
  $("#health").textContent = `${health.n_objects} objects · ${health.survey} · ${health.index_kind} index`;
  const bands = health.mag_bands || health.bands || []; // the bands with magnitudes, where the server says
  $("#f-band").replaceChildren(...bands.map((band) => el("option", { value: band }, [band])));
  if (bands.includes("z")) $("#f-band").value = "z";
  $("#upload-field").hidden = !health.image_search;
  $("#mode-review").disabled = !health.candidates;
  $("#mode-review").title = health.candidates ? "walk the ranked candidate list" : "start the server with --candidates";
}

function setTileSize() {
  const px = tilePx();
  document.documentElement.style.setProperty("--tile", `${px}px`);
  for (const img of document.querySelectorAll(".grid .tile img")) {
    img.width = px;
    img.height = px;
    img.src = thumbnailUrl(img.getAttribute("src"), px);
  }
}

function start() {
  const reviewer = $("#reviewer");
  reviewer.value = localStorage.getItem(REVIEWER_KEY) || "";
  reviewer.addEventListener("input", () => localStorage.setItem(REVIEWER_KEY, reviewer.value.trim()));
  $("#search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const kind = queryKind(event);
    guarded(() => (kind === "upload" ? searchUpload() : searchGet(kind)));
  });
  $("#btn-feedback").addEventListener("click", () => guarded(searchFeedback));
  $("#btn-clear-marks").addEventListener("click", clearMarks);
  $("#mode-search").addEventListener("click", () => setMode("search"));
  $("#mode-review").addEventListener("click", () => setMode("review"));
  $("#page-prev").addEventListener("click", () => turnPage(-1));
  $("#page-next").addEventListener("click", () => turnPage(1));
  $("#per-page").addEventListener("change", () => guarded(() => loadPage(1)));
  $("#opt-size").addEventListener("change", setTileSize);
  $("#details-close").addEventListener("click", closeDetails);
  $("#details-similar").addEventListener("click", () => {
    $("#q-id").value = state.detailsId;
    setMode("search");
    guarded(() => searchGet("id"));
  });
  for (const button of document.querySelectorAll("#details [data-grade]")) {
    button.addEventListener("click", () => guarded(() => grade(state.detailsId, button.dataset.grade)));
  }
  document.addEventListener("keydown", onKey);
  setTileSize();
  updateFeedbackBar();
  guarded(loadHealth);
}

start();
