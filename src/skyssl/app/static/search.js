// Searches (by id, coordinates, at random, by an uploaded cutout, by relevance feedback) and their results:
// the tile grid in rank order and a catalogue table sortable by any column.
import { ApiError, apiJson, clearMessage, guarded, postJson } from "./api.js";
import { openDetails } from "./details.js";
import { $, begin, el, formatValue, isLatest, state, thumbnailUrl } from "./page.js";
import { makeTile, markedIds, updateFeedbackBar } from "./tiles.js";

const FILTER_FIELDS = ["mag_min", "mag_max", "zphot_min", "zphot_max", "min_sep_arcsec"];
const HIDDEN_COLUMNS = new Set(["thumbnail_url", "viewer_url"]);

// The options panel as API parameters: only the filled fields, and the band only with a magnitude bound.
function filterValues() {
  const values = {};
  for (const name of FILTER_FIELDS) {
    const raw = document.querySelector(`[name="${name}"]`).value.trim();
    if (raw !== "") values[name] = Number(raw);
  }
  if ("mag_min" in values || "mag_max" in values) values.mag_band = $("#f-band").value;
  const k = $("#opt-k").value.trim();
  if (k !== "") values.k = Number(k);
  return values;
}

// Which search a form submission means. Pressing Enter in a field submits with the form's first button,
// so the focused field decides before the button does.
export function queryKind(event) {
  const active = document.activeElement;
  if (event.submitter && active === event.submitter) return event.submitter.value;
  if (active === $("#q-coords")) return "coords";
  if (active === $("#q-file")) return "upload";
  if (active === $("#q-id")) return "id";
  if ($("#q-coords").value.trim() && !$("#q-id").value.trim()) return "coords";
  return event.submitter ? event.submitter.value : "id";
}

export async function searchGet(kind) {
  const query = {};
  if (kind === "id") {
    const id = $("#q-id").value.trim();
    if (!id) throw new ApiError("Type an object id to search by.");
    query.id = id;
  } else if (kind === "coords") {
    const coords = $("#q-coords").value.trim();
    if (!coords) throw new ApiError("Type coordinates: 'RA DEC' in degrees or sexagesimal.");
    query.coords = coords;
  } else {
    query.random = "true";
  }
  const params = new URLSearchParams({ ...query, ...filterValues() });
  const ticket = begin("search");
  const data = await apiJson(`/api/search?${params}`);
  params.set("format", "csv");
  showResults(ticket, data, describeQuery(data.query), { href: `/api/search?${params}` });
}

export async function searchUpload() {
  const file = $("#q-file").files[0];
  if (!file) throw new ApiError("Choose a cutout file (.npy or .fits) to search with.");
  const form = new FormData();
  form.append("file", file);
  form.append("k", String(filterValues().k ?? 24));
  const ticket = begin("search");
  const data = await apiJson("/api/search/image", { method: "POST", body: form });
  showResults(ticket, data, `Neighbours of the uploaded cutout ${file.name}.`, { rows: true });
}

export async function searchFeedback() {
  const positive = markedIds("pos");
  const negative = markedIds("neg");
  if (positive.length === 0) throw new ApiError("Mark at least one result positive (p) before searching again.");
  const ticket = begin("search");
  const data = await postJson("/api/feedback", { positive_ids: positive, negative_ids: negative, ...filterValues() });
  const method = data.method ? ` (${data.method})` : "";
  showResults(ticket, data, `Ranked by relevance feedback${method} on ${positive.length} positive and ${negative.length} `
    + "negative examples; marked objects excluded.", { rows: true });
}

function describeQuery(query) {
  if (!query || query.object_id === null || query.object_id === undefined) return "";
  let text = `Neighbours of object ${query.object_id} at RA ${formatValue("ra", query.ra)}°, `
    + `Dec ${formatValue("dec", query.dec)}°`;
  if (typeof query.separation_arcsec === "number") {
    text += ` (nearest object, ${query.separation_arcsec.toFixed(2)}″ from the typed position)`;
  }
  return `${text}.`;
}

function showQueryImage(query) {
  const img = $("#query-img");
  const id = query ? query.object_id : null;
  img.hidden = id === null || id === undefined;
  if (img.hidden) return;
  img.src = thumbnailUrl(`/api/objects/${encodeURIComponent(id)}/thumbnail.png`, 64);
  img.alt = `Query object ${id}`;
}

function csvOf(rows, columns) {
  const cell = (v) => {
    const text = v === null || v === undefined ? "" : String(v);
    return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  return [columns.join(","), ...rows.map((row) => columns.map((c) => cell(row[c])).join(","))].join("\n");
}

// csv: {href} for a GET search (the server renders the same query as CSV), {rows: true} otherwise
// (a POSTed ranking cannot be re-fetched by a link, so its rows are offered as a local file).
function showResults(ticket, data, summary, csv) {
  if (!isLatest("search", ticket)) return;
  clearMessage();
  state.results = data.results;
  state.sort = { key: "rank", dir: 1 };
  $("#results").hidden = false;
  $("#query-summary").textContent = `${summary} ${data.results.length} results.`;
  showQueryImage(data.query);
  const link = $("#csv-link");
  if (link.href.startsWith("blob:")) URL.revokeObjectURL(link.href);
  link.href = csv.href || URL.createObjectURL(new Blob([csvOf(data.results, tableColumns(data.results))],
    { type: "text/csv" }));
  const grid = $("#grid");
  grid.replaceChildren(...data.results.map((item) => makeTile(item, "similarity", ticket.at)));
  renderTable();
  updateFeedbackBar();
  const first = grid.querySelector(".tile");
  if (first) first.focus();
}

function tableColumns(rows) {
  const columns = [];
  for (const row of rows) {
    for (const key of Object.keys(row)) if (!HIDDEN_COLUMNS.has(key) && !columns.includes(key)) columns.push(key);
  }
  return columns;
}

function compareBy(key, dir) {
  return (a, b) => {
    const x = a[key];
    const y = b[key];
    const xMissing = x === null || x === undefined;
    const yMissing = y === null || y === undefined;
    if (xMissing || yMissing) return xMissing - yMissing; // missing values last in either direction
    if (typeof x === "number" && typeof y === "number") return dir * (x - y);
    if (key === "object_id") return dir * (BigInt(x) < BigInt(y) ? -1 : BigInt(x) > BigInt(y) ? 1 : 0);
    return dir * String(x).localeCompare(String(y));
  };
}

function tableCell(row, column) {
  if (column === "object_id") {
    const button = el("button", { type: "button", title: "show details" }, [row.object_id]);
    button.addEventListener("click", () => guarded(() => openDetails(row.object_id)));
    return el("td", {}, [button]);
  }
  if (column === "grade") {
    return el("td", { dataset: { gradeOf: row.object_id } }, [state.grades.get(row.object_id) || ""]);
  }
  return el("td", {}, [formatValue(column, row[column])]);
}

function renderTable() {
  const columns = tableColumns(state.results);
  const { key, dir } = state.sort;
  const head = el("tr", {}, columns.map((column) => {
    const button = el("button", { type: "button", title: `sort by ${column}` }, [column]);
    button.addEventListener("click", () => sortTable(column));
    const th = el("th", { scope: "col" }, [button]);
    th.setAttribute("aria-sort", column === key ? (dir > 0 ? "ascending" : "descending") : "none");
    return th;
  }));
  head.append(el("th", { scope: "col" }, ["viewer"]));
  const rows = [...state.results].sort(compareBy(key, dir)).map((row) => el("tr", {}, [
    ...columns.map((column) => tableCell(row, column)),
    el("td", {}, [el("a", { href: row.viewer_url, target: "_blank", rel: "noopener" }, ["sky viewer"])]),
  ]));
  $("#results-table thead").replaceChildren(head);
  $("#results-table tbody").replaceChildren(...rows);
}

function sortTable(column) {
  const { key, dir } = state.sort;
  state.sort = { key: column, dir: key === column ? -dir : 1 };
  renderTable();
  const header = [...document.querySelectorAll("#results-table th button")].find((b) => b.textContent === column);
  if (header) header.focus();
}
