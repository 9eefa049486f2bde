// Result and candidate tiles, with what a reviewer does to them: mark for relevance feedback, and grade.
// A grade shows on every tile of the object at once and is undone if the server refuses it.
import { ApiError, guarded, postJson, showStatus } from "./api.js";
import { loadDetails, openDetails } from "./details.js";
import { $, el, formatValue, state, thumbnailUrl, tilePx } from "./page.js";

const GRADE_TEXT = { A: "A", B: "B", "not-lens": "no", other: "oth" };

// askedAt: when the request that brought `item` was sent; a grade given here since then is newer than its.
export function makeTile(item, scoreKey, askedAt) {
  const id = item.object_id;
  const px = tilePx();
  const score = formatValue(scoreKey, item[scoreKey]);
  const img = el("img", {
    src: thumbnailUrl(item.thumbnail_url, px), alt: `Cutout of object ${id}`, width: px, height: px, loading: "lazy",
  });
  const plus = el("button", { type: "button", className: "mark-pos", title: "mark positive (p)",
    "aria-label": `Mark object ${id} positive` }, ["+"]);
  const minus = el("button", { type: "button", className: "mark-neg", title: "mark negative (x)",
    "aria-label": `Mark object ${id} negative` }, ["−"]);
  plus.addEventListener("click", (event) => { event.stopPropagation(); toggleMark(id, "pos"); });
  minus.addEventListener("click", (event) => { event.stopPropagation(); toggleMark(id, "neg"); });
  const caption = el("figcaption", {}, [
    el("span", { className: "rank" }, [`#${item.rank}`]),
    el("span", { className: "oid" }, [id]),
    el("span", { className: "sim", title: scoreKey }, [score]),
  ]);
  const tile = el("figure", {
    className: "tile", tabIndex: 0, role: "listitem", dataset: { objectId: id },
    "aria-label": `Object ${id}, rank ${item.rank}, ${scoreKey} ${score}`,
  }, [img, el("span", { className: "mark" }), el("span", { className: "badge" }), caption,
    el("div", { className: "tile-actions" }, [plus, minus])]);
  tile.addEventListener("click", () => tile.focus());
  tile.addEventListener("dblclick", () => guarded(() => openDetails(id)));
  if (item.grade !== undefined && !(state.gradedAt.get(id) > askedAt)) state.grades.set(id, item.grade);
  paintTile(tile);
  return tile;
}

function paintTile(tile) {
  const id = tile.dataset.objectId;
  const mark = state.marks.get(id);
  tile.classList.toggle("pos", mark === "pos");
  tile.classList.toggle("neg", mark === "neg");
  tile.querySelector(".mark").textContent = mark === "pos" ? "+" : mark === "neg" ? "−" : "";
  const grade = state.grades.get(id) || "";
  const badge = tile.querySelector(".badge");
  badge.dataset.grade = grade;
  badge.textContent = grade ? GRADE_TEXT[grade] || grade : "";
  badge.title = grade ? `graded ${grade}` : "";
}

// Every view of one object (tiles in both grids, its table cell) after its mark or grade changed.
export function repaint(id) {
  const key = CSS.escape(id);
  for (const tile of document.querySelectorAll(`.tile[data-object-id="${key}"]`)) paintTile(tile);
  for (const cell of document.querySelectorAll(`td[data-grade-of="${key}"]`)) {
    cell.textContent = state.grades.get(id) || "";
  }
}

export function toggleMark(id, kind) {
  if (state.marks.get(id) === kind) state.marks.delete(id);
  else state.marks.set(id, kind);
  repaint(id);
  updateFeedbackBar();
}

export function clearMarks() {
  const ids = [...state.marks.keys()];
  state.marks.clear();
  ids.forEach(repaint);
  updateFeedbackBar();
}

export function markedIds(kind) {
  return [...state.marks].filter(([, k]) => k === kind).map(([id]) => id);
}

export function updateFeedbackBar() {
  const pos = markedIds("pos").length;
  const neg = markedIds("neg").length;
  $("#feedback-count").textContent = pos + neg === 0
    ? "No examples marked: press p / x (or + / −) on results."
    : `${pos} positive, ${neg} negative marked.`;
  $("#btn-feedback").disabled = pos === 0;
  $("#btn-clear-marks").disabled = pos + neg === 0;
}

function reviewerName() {
  const name = $("#reviewer").value.trim();
  if (!name) {
    $("#reviewer").focus();
    throw new ApiError("Enter your reviewer name (top of the page) before grading.");
  }
  return name;
}

export async function grade(id, value) {
  const reviewer = reviewerName();
  const note = state.detailsId === id ? $("#details-note").value.trim() : "";
  const before = state.grades.get(id) ?? null;
  state.grades.set(id, value);
  state.gradedAt.set(id, performance.now());
  repaint(id);
  try {
    await postJson("/api/labels", { object_id: id, grade: value, reviewer, note });
  } catch (err) {
    state.grades.set(id, before);
    repaint(id);
    throw err;
  }
  showStatus(`Object ${id} graded ${value} by ${reviewer}.`);
  if (state.detailsId === id) {
    $("#details-note").value = "";
    await loadDetails(id);
  }
}
