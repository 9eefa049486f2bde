// The details panel of one object: a large cutout, the sky-viewer link, its labels and its catalogue row.
import { apiJson } from "./api.js";
import { $, currentGrid, el, formatValue, state, thumbnailUrl } from "./page.js";

const NOT_SHOWN = new Set(["thumbnail_url", "viewer_url", "labels"]);

export async function openDetails(id) {
  state.detailsId = id;
  $("#details").hidden = false;
  $("#details-title").textContent = `Object ${id}`;
  $("#details-img").src = thumbnailUrl(`/api/objects/${encodeURIComponent(id)}/thumbnail.png`, 256);
  $("#details-img").alt = `Cutout of object ${id}`;
  $("#details-note").value = "";
  await loadDetails(id);
}

export async function loadDetails(id) {
  const row = await apiJson(`/api/objects/${encodeURIComponent(id)}`);
  if (state.detailsId !== id) return; // another object was opened meanwhile
  $("#details-viewer").href = row.viewer_url;
  const labels = row.labels || [];
  $("#details-labels").replaceChildren(...(labels.length ? labels.map((label) => el("li", {}, [
    `${label.grade} by ${label.reviewer}${label.note ? ` — “${label.note}”` : ""} (${label.created_at})`,
  ])) : [el("li", {}, ["not graded yet"])]));
  const fields = Object.entries(row).filter(([key]) => !NOT_SHOWN.has(key));
  $("#details-row tbody").replaceChildren(...fields.map(([key, value]) => el("tr", {}, [
    el("th", { scope: "row" }, [key]), el("td", {}, [formatValue(key, value)]),
  ])));
}

export function closeDetails() {
  const id = state.detailsId;
  state.detailsId = null;
  $("#details").hidden = true;
  const tile = currentGrid().querySelector(`.tile[data-object-id="${CSS.escape(id)}"]`);
  if (tile) tile.focus();
}
