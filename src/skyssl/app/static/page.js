// The page's shared state and small DOM helpers. Data from the API only ever becomes text, never HTML.

export const $ = (selector) => document.querySelector(selector);

export const state = {
  health: null,
  mode: "search",
  results: [],
  sort: { key: "rank", dir: 1 },
  marks: new Map(), // object id → "pos" | "neg": the examples of the next relevance-feedback search
  grades: new Map(), // object id → latest grade known to this page
  gradedAt: new Map(), // object id → performance.now() of this page's last grade of it
  review: { page: 1, pages: 1 },
  detailsId: null,
};

export function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "dataset") Object.assign(node.dataset, value);
    else if (key in node) node[key] = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

export function currentGrid() {
  return state.mode === "review" ? $("#review-grid") : $("#grid");
}

export function tilePx() {
  return Number($("#opt-size").value);
}

// The API's thumbnail link at the size this page shows.
export function thumbnailUrl(url, px) {
  const resolved = new URL(url, window.location.href);
  resolved.searchParams.set("size", String(px));
  return resolved.pathname + resolved.search;
}

export function formatValue(key, value) {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") {
    if (Number.isInteger(value)) return String(value);
    if (key === "ra" || key === "dec") return value.toFixed(5);
    if (key === "similarity" || key === "score") return value.toFixed(4);
    return value.toFixed(3);
  }
  if (Array.isArray(value)) return value.map((v) => formatValue(key, v)).join(", ");
  return String(value);
}

// Requests whose answers replace a view: only the answer to the latest one may land, so a slow
// answer never overwrites a newer one. `begin(name)` returns a ticket; `isLatest(name, ticket)` checks it.
const latest = new Map();

export function begin(name) {
  const ticket = { at: performance.now() };
  latest.set(name, ticket);
  return ticket;
}

export function isLatest(name, ticket) {
  return latest.get(name) === ticket;
}
