// The edit dialog: name, dates, duration, flags, play days and window, refresh, headers
// (docs/legacy-api.md §13), and the QR code on screen (issue 13, qr_overlay_fields.js).

import { fromInputValue, toInputValue } from "./asset_format.js";
import { formatDateTime } from "./dates.js";
import { openOverlay, readOverlay, saveOverlay } from "./qr_overlay_fields.js";

const $ = (id) => document.getElementById(id);
const dialog = $("edit-dialog");
const editForm = $("edit-form");
let editing = null;
let hooks = null;

/** What the asset shows: its web address, or just "Uploaded file" (the server's path is no use). */
function describeSource(uri) {
  if (!uri) return "";
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(uri) ? `Address: ${uri}` : "Uploaded file";
}

/** The browser's date picker follows its own locale; below it, the date as the settings ask. */
function showReadbacks() {
  for (const box of editForm.querySelectorAll(".readback")) {
    const value = $(box.dataset.for).value;
    box.textContent = value ? formatDateTime(fromInputValue(value)) : "";
  }
}

/** A message next to a field, tied to it for screen readers; empty text clears it. */
function fieldError(input, text) {
  const box = document.getElementById(input.getAttribute("aria-describedby"));
  box.textContent = text;
  if (text) input.setAttribute("aria-invalid", "true"); else input.removeAttribute("aria-invalid");
}

function openEditor(asset) {
  editing = asset;
  const f = editForm.elements;
  f.name.value = asset.name || "";
  $("edit-uri").textContent = describeSource(asset.uri);
  f.start_date.value = toInputValue(asset.start_date);
  f.end_date.value = toInputValue(asset.end_date);
  f.duration.value = asset.duration ?? 0;
  f.duration.disabled = (asset.mimetype || "").includes("video");
  f.refresh_interval_s.value = asset.refresh_interval_s ?? 0;
  const days = new Set(asset.play_days || [1, 2, 3, 4, 5, 6, 7]);
  for (const box of editForm.querySelectorAll("input[name=play_days]")) {
    box.checked = days.has(Number(box.value));
  }
  f.play_time_from.value = asset.play_time_from || "";
  f.play_time_to.value = asset.play_time_to || "";
  f.is_enabled.checked = asset.is_enabled;
  f.nocache.checked = asset.nocache;
  f.skip_ssl_verify.checked = asset.skip_ssl_verify;
  f.custom_headers.value = Object.entries(asset.custom_headers || {})
    .map(([k, v]) => `${k}: ${v}`).join("\n");
  $("edit-error").textContent = "";
  fieldError(f.end_date, "");
  showReadbacks();
  openOverlay(asset.asset_id);
  dialog.showModal();
  f.name.focus();
}

function readHeaders(text) {
  const headers = {};
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const at = line.indexOf(":");
    if (at <= 0) throw new Error(`“${line.trim()}” is not in the form Name: value.`);
    headers[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return headers;
}

editForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const f = editForm.elements;
  const days = [...editForm.querySelectorAll("input[name=play_days]:checked")]
    .map((box) => Number(box.value));
  const error = $("edit-error");
  error.textContent = "";
  const start = fromInputValue(f.start_date.value);
  const end = fromInputValue(f.end_date.value);
  if (start && end && new Date(end) <= new Date(start)) {
    // Saved as is, the asset would silently move to "Not playing" with its switch still on.
    fieldError(f.end_date, "The end must be after the start.");
    f.end_date.focus();
    return;
  }
  fieldError(f.end_date, "");
  if (!days.length) { error.textContent = "Pick at least one day, or switch the asset off."; return; }
  if (!f.play_time_from.value !== !f.play_time_to.value) {
    error.textContent = "Give both daily times, or leave both empty."; return;
  }
  let customHeaders;
  try { customHeaders = readHeaders(f.custom_headers.value); } catch (e) {
    error.textContent = e.message; return;
  }
  const fields = {
    name: f.name.value.trim(),
    start_date: start,
    end_date: end,
    is_enabled: f.is_enabled.checked,
    nocache: f.nocache.checked,
    skip_ssl_verify: f.skip_ssl_verify.checked,
    play_days: days,
    play_time_from: f.play_time_from.value ? withSeconds(f.play_time_from.value) : null,
    play_time_to: f.play_time_to.value ? withSeconds(f.play_time_to.value) : null,
    refresh_interval_s: Number(f.refresh_interval_s.value || 0),
    custom_headers: customHeaders,
  };
  if (!f.duration.disabled) fields.duration = Number(f.duration.value || 0);
  const overlay = readOverlay();
  if (overlay.error) { overlay.focus.focus(); return; }
  const result = await hooks.save(editing, fields);
  if (!result.ok) { error.textContent = result.message; return; }
  const overlaySaved = await saveOverlay(overlay);
  if (!overlaySaved.ok) { error.textContent = overlaySaved.message; return; }
  dialog.close();
  hooks.saved(result.data);
});
function withSeconds(time) { return time.length === 5 ? `${time}:00` : time; }
$("edit-cancel").addEventListener("click", () => dialog.close());
for (const input of [editForm.elements.start_date, editForm.elements.end_date]) {
  input.addEventListener("input", () => {
    fieldError(editForm.elements.end_date, "");
    showReadbacks();
  });
}


/** Wire the dialog once; ``save(asset, fields)`` resolves to a request result. */
export function setUpEditor(callbacks) {
  hooks = callbacks;
  return openEditor;
}
