// The edit dialog's "QR code on screen" fields (issue 13): on/off, corner, size.
//
// qr_overlay is a v3 field only (v1-v2 stay Anthias's), so it is read from and written to
// /api/v3/assets/<id>; the dashboard calls v3 with its own sign-in (api.js marks every
// request). The screen draws the code of the asset's active QR content: switching the code
// on for an asset without one makes one first (POST /api/v3/qr-content), so what is on
// screen always opens something.

import { request } from "./api.js";

const $ = (id) => document.getElementById(id);
const MIN_SIZE = 5;
const MAX_SIZE = 40;
const DEFAULTS = { enabled: false, corner: "bottom-right", size: 18 };
const SIZE_MESSAGE = `Give a whole number from ${MIN_SIZE} to ${MAX_SIZE}.`;

let shown = null;  // {assetId, overlay, activeCode} of the open dialog, once read
let reading = 0;   // a newer open wins over an older one's late answers

function fields() {
  return { enabled: $("edit-qr-enabled"), corner: $("edit-qr-corner"), size: $("edit-qr-size"),
           hint: $("edit-qr-hint"), error: $("edit-qr-size-error") };
}

function sizeError(text) {
  const f = fields();
  f.error.textContent = text;
  if (text) f.size.setAttribute("aria-invalid", "true"); else f.size.removeAttribute("aria-invalid");
}

function describe() {
  const f = fields();
  f.corner.disabled = f.size.disabled = !f.enabled.checked || shown === null;
  if (shown === null) { f.hint.textContent = "Reading…"; return; }
  if (!f.enabled.checked) { f.hint.textContent = ""; return; }
  f.hint.textContent = shown.activeCode
    ? `Phones that scan it open ${shown.activeCode.landing_url}`
    : "Saving also shares this asset: it gets a code anyone who scans it can open.";
}

function fill(overlay) {
  const f = fields();
  const value = { ...DEFAULTS, ...(overlay || {}) };
  f.enabled.checked = value.enabled;
  f.corner.value = value.corner;
  f.size.value = value.size;
  sizeError("");
  describe();
}

/** Show the asset's overlay in the dialog: defaults at once, then what v3 says. */
export async function openOverlay(assetId) {
  const mine = ++reading;
  shown = null;
  fill(null);
  fields().enabled.disabled = true;
  const query = new URLSearchParams({ asset_id: assetId, active: "true", expired: "false",
                                      limit: "1" });
  const [asset, codes] = await Promise.all([
    request("GET", `/api/v3/assets/${encodeURIComponent(assetId)}`),
    request("GET", `/api/v3/qr-content?${query}`),
  ]);
  if (mine !== reading) return;
  fields().enabled.disabled = false;
  if (!asset.ok) {
    fields().hint.textContent = `The QR code setting could not be read: ${asset.message}`;
    fields().enabled.disabled = true;
    return;
  }
  shown = { assetId, overlay: asset.data.qr_overlay,
            activeCode: codes.ok ? (codes.data.items[0] || null) : null };
  fill(shown.overlay);
}

/** The overlay the fields ask for, or {error} for a size out of range. */
export function readOverlay() {
  const f = fields();
  const size = Number(f.size.value);
  if (f.enabled.checked && (!Number.isInteger(size) || size < MIN_SIZE || size > MAX_SIZE)) {
    sizeError(SIZE_MESSAGE);
    return { error: true, focus: f.size };
  }
  sizeError("");
  return { enabled: f.enabled.checked, corner: f.corner.value,
           size: f.enabled.checked ? size : (shown?.overlay?.size ?? DEFAULTS.size) };
}

function unchanged(wanted) {
  const current = { ...DEFAULTS, ...(shown.overlay || {}) };
  return current.enabled === wanted.enabled && current.corner === wanted.corner
    && current.size === wanted.size;
}

/** Write the overlay when it changed; resolves to {ok, message}. */
export async function saveOverlay(wanted) {
  if (shown === null) return { ok: true };  // never read: leave it as it is
  if (unchanged(wanted)) return { ok: true };
  const { assetId } = shown;
  if (wanted.enabled && !shown.activeCode) {
    const made = await request("POST", "/api/v3/qr-content", { json: { asset_id: assetId } });
    if (!made.ok) return { ok: false, message: `The asset could not be shared: ${made.message}` };
    shown.activeCode = made.data;
  }
  const saved = await request("PATCH", `/api/v3/assets/${encodeURIComponent(assetId)}`,
                              { json: { qr_overlay: wanted } });
  if (!saved.ok) return { ok: false, message: `The QR code setting was not saved: ${saved.message}` };
  shown.overlay = saved.data.qr_overlay;
  return { ok: true };
}

$("edit-qr-enabled").addEventListener("change", describe);
$("edit-qr-size").addEventListener("input", () => sizeError(""));
// The browser checks min and max before the form's submit handler runs: say it here too.
$("edit-qr-size").addEventListener("invalid", () => sizeError(SIZE_MESSAGE));
