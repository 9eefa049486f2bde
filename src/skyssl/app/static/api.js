// Calls to the JSON API, and the two places their outcome is shown: the message area (errors, which are
// never only logged) and the status line (what just succeeded).
import { $ } from "./page.js";

export class ApiError extends Error {}

// Object ids are int64 (DR9 packs release, brick and objid far past 2^53, SDSS ObjIDs too), more than a
// JS number holds exactly, so ids live in the page as their decimal text, read from and written back to
// the JSON as is (JSON source-text access; browsers without it fall back to numbers, exact below 2^53).
const ID_KEYS = new Set(["object_id", "positive_ids", "negative_ids"]);

function parseJson(text) {
  return JSON.parse(text, (key, value, context) => {
    if (key !== "object_id" || typeof value !== "number") return value;
    return context && context.source ? context.source : String(value);
  });
}

function idNumber(id) {
  return typeof JSON.rawJSON === "function" ? JSON.rawJSON(String(id)) : Number(id);
}

function stringifyJson(body) {
  return JSON.stringify(body, (key, value) => {
    if (!ID_KEYS.has(key) || value === null) return value;
    return Array.isArray(value) ? value.map(idNumber) : idNumber(value);
  });
}

let statusTimer = null;

// "Error 404: object 7 is not in this index", from FastAPI's {"detail": "..."} or its validation list.
async function errorDetail(response) {
  let detail = response.statusText || "request failed";
  try {
    const body = await response.json();
    if (typeof body.detail === "string") {
      detail = body.detail;
    } else if (Array.isArray(body.detail)) {
      detail = body.detail.map((d) => `${(d.loc || []).slice(1).join(".") || "request"}: ${d.msg}`).join("; ");
    }
  } catch {
    // the body was not JSON: the status line is all there is to show
  }
  return `Error ${response.status}: ${detail}`;
}

export async function api(path, options = {}) {
  let response;
  try {
    response = await fetch(path, options);
  } catch (err) {
    throw new ApiError(`Cannot reach the server (${err.message}).`);
  }
  if (!response.ok) throw new ApiError(await errorDetail(response));
  return response;
}

export async function apiJson(path, options) {
  return parseJson(await (await api(path, options)).text());
}

export function postJson(path, body) {
  return apiJson(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: stringifyJson(body) });
}

export function showMessage(text, kind = "error") {
  const box = $("#message");
  box.textContent = text;
  box.className = `message ${kind}`;
  box.hidden = false;
}

export function clearMessage() {
  $("#message").hidden = true;
  $("#message").textContent = "";
}

export function showStatus(text) {
  $("#status").textContent = text;
  clearTimeout(statusTimer);
  statusTimer = setTimeout(() => { $("#status").textContent = ""; }, 4000);
}

// Run an action so that any failure is shown to the user; returns the action's promise.
export function guarded(action) {
  return Promise.resolve()
    .then(action)
    .catch((err) => showMessage(err instanceof ApiError ? err.message : `Unexpected error: ${err.message}`));
}
