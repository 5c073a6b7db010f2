// Sharing an asset through a QR code: the Share dialog (code, link, copy, expiry, downloads,
// print, stop) over /api/v3/qr-content. The dashboard calls v3 with its own sign-in
// (api/v3/dashboard_session.py); images come through fetch() as blobs, because an <img src>
// request carries neither the session's CSRF header nor Basic credentials of its own.

import { baseHeaders, request, toast } from "./api.js";
import { formatDateTime } from "./dates.js";
import { fromInputValue, toInputValue } from "./asset_format.js";

const BASE = "/api/v3/qr-content";
const $ = (id) => document.getElementById(id);
const dialog = $("share-dialog");
const listeners = new Set();
let shown = null; // { asset, qr, svgUrl }

/** Call ``listener()`` whenever the dialog created, changed or stopped a share. */
export function onShareChange(listener) { listeners.add(listener); }
function changed() { for (const listener of listeners) listener(); }

function codePath(qr) { return `${BASE}/${encodeURIComponent(qr.qr_code)}`; }

/** One page of the device's QR contents (``query``: asset, active, expired, q, cursor). */
export async function listShares(query = {}) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.set(key, value);
  }
  return request("GET", `${BASE}?${params}`);
}

/** The bytes of an image the API serves, as an object URL (or null, with a toast). */
async function imageUrl(url) {
  let response;
  try {
    response = await fetch(url, { headers: baseHeaders(), credentials: "same-origin" });
  } catch {
    response = null;
  }
  if (!response?.ok) {
    toast(`The image could not be loaded (${response ? response.status : "no answer"}).`,
          "error");
    return null;
  }
  return URL.createObjectURL(await response.blob());
}

export function slug(text) {
  return (text || "share").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "")
    || "share";
}

/** Save the API's image at ``url`` as ``filename``. */
export async function downloadImage(url, filename) {
  const objectUrl = await imageUrl(url);
  if (!objectUrl) return;
  const link = document.createElement("a");
  link.href = objectUrl;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(objectUrl), 10_000);
}

export function scansText(qr) {
  const count = Number(qr.access_count) || 0;
  const scans = `${count} scan${count === 1 ? "" : "s"}`;
  return qr.last_accessed ? `${scans}, last ${formatDateTime(qr.last_accessed)}` : scans;
}

export function statusText(qr) {
  if (!qr.is_active) return "Stopped";
  if (qr.is_expired) return `Expired ${formatDateTime(qr.expires_at)}`;
  return qr.expires_at ? `Until ${formatDateTime(qr.expires_at)}` : "No expiry";
}

// -- the dialog --------------------------------------------------------------------------

function setBusy(busy) {
  for (const button of dialog.querySelectorAll("button:not(#share-close)")) button.disabled = busy;
}

function showMessage(text, kind = "error") {
  const box = $("share-message");
  box.textContent = text;
  box.dataset.kind = kind;
}

/** Open the dialog on ``asset``: its active share, or the offer to make one. */
export async function openShare(asset) {
  shown = { asset, qr: null, svgUrl: null };
  $("share-title").textContent = `Share “${asset.name}”`;
  showMessage("", "ok");
  showView("loading");
  if (!dialog.open) dialog.showModal();
  const result = await listShares({ asset: asset.asset_id, active: "true", limit: 1 });
  if (!result.ok) { showView("none"); showMessage(`Sharing is not available: ${result.message}`); return; }
  const qr = (result.data?.items || [])[0];
  if (qr) await showCode(qr); else showView("none");
}

/** Open the dialog on a QR content of the list (``asset`` may be only its id and title). */
export async function openExisting(qr) {
  shown = { asset: { asset_id: qr.asset_id, name: qr.title || qr.qr_code }, qr: null, svgUrl: null };
  $("share-title").textContent = `Share “${qr.title || qr.qr_code}”`;
  showMessage("", "ok");
  if (!dialog.open) dialog.showModal();
  await showCode(qr);
}

function showView(view) {
  $("share-loading").hidden = view !== "loading";
  $("share-none").hidden = view !== "none";
  $("share-code").hidden = view !== "code";
  if (view === "none") {
    $("share-new-expiry").value = "";
    $("share-new-barcode").checked = false;
    $("share-create").focus();
  }
}

async function showCode(qr) {
  shown.qr = qr;
  const link = $("share-link");
  link.value = qr.landing_url;
  $("share-open").href = qr.landing_url;
  $("share-scans").textContent = scansText(qr);
  $("share-status").textContent = statusText(qr);
  $("share-expiry").value = toInputValue(qr.expires_at);
  $("share-barcode-png").hidden = !qr.barcode;
  $("share-barcode-text").textContent = qr.barcode ? `Barcode: ${qr.barcode}` : "";
  const image = $("share-image");
  image.alt = `QR code that opens ${qr.landing_url}`;
  showView("code");
  const svgUrl = await imageUrl(qr.qr_svg_url);
  if (shown?.qr !== qr) { if (svgUrl) URL.revokeObjectURL(svgUrl); return; }
  if (shown.svgUrl) URL.revokeObjectURL(shown.svgUrl);
  shown.svgUrl = svgUrl;
  if (svgUrl) image.src = svgUrl; else image.removeAttribute("src");
  const active = qr.is_active && !qr.is_expired;
  $("share-stop").hidden = !qr.is_active;
  $("share-inactive").hidden = active;
  $("share-inactive").textContent = qr.is_active
    ? "This link has expired: a scan shows “no longer available”. Set a later expiry to share it again."
    : "Sharing was stopped: a scan shows “no longer available”.";
}

async function createShare() {
  const expires = fromInputValue($("share-new-expiry").value);
  setBusy(true);
  const result = await request("POST", BASE, { json: {
    asset_id: shown.asset.asset_id, title: shown.asset.name, expires_at: expires,
    include_barcode: $("share-new-barcode").checked } });
  setBusy(false);
  if (!result.ok) { showMessage(`Not shared: ${result.message}`); return; }
  showMessage("", "ok");
  await showCode(result.data);
  $("share-copy").focus();
  toast(`“${shown.asset.name}” is shared.`);
  changed();
}

async function patch(fields, done) {
  setBusy(true);
  const result = await request("PATCH", codePath(shown.qr), { json: fields });
  setBusy(false);
  if (!result.ok) { showMessage(result.message); return false; }
  showMessage(done, "ok");
  await showCode(result.data);
  changed();
  return true;
}

/** Copy through the Clipboard API where the page may (HTTPS, localhost), else by selection:
 *  a device on its LAN is plain HTTP, where navigator.clipboard does not exist. */
async function copyLink() {
  const link = $("share-link");
  let copied = false;
  if (navigator.clipboard && window.isSecureContext) {
    try { await navigator.clipboard.writeText(link.value); copied = true; } catch { copied = false; }
  }
  if (!copied) {
    link.focus();
    link.select();
    try { copied = document.execCommand("copy"); } catch { copied = false; }
  }
  showMessage(copied ? "Link copied." : "Select the link and copy it yourself.",
              copied ? "ok" : "error");
}

/** Fill the sheet that the print stylesheet shows alone, then print. */
function printCode() {
  const sheet = $("print-sheet");
  const image = document.createElement("img");
  image.src = $("share-image").src;
  image.alt = $("share-image").alt;
  const title = document.createElement("h1");
  title.textContent = shown.qr.title || shown.asset.name;
  const link = document.createElement("p");
  link.textContent = shown.qr.landing_url;
  sheet.replaceChildren(image, title, link);
  if (shown.qr.description) {
    const text = document.createElement("p");
    text.textContent = shown.qr.description;
    sheet.insertBefore(text, link);
  }
  window.print();
}

$("share-create").addEventListener("click", createShare);
$("share-copy").addEventListener("click", copyLink);
$("share-link").addEventListener("focus", (event) => event.target.select());
$("share-save-expiry").addEventListener("click", () => {
  const value = $("share-expiry").value;
  if (!value) { showMessage("Pick a date and time, or choose “No expiry”."); return; }
  patch({ expires_at: fromInputValue(value) }, `Expires ${formatDateTime(fromInputValue(value))}.`);
});
$("share-clear-expiry").addEventListener("click", () => patch({ expires_at: null }, "No expiry."));
$("share-stop").addEventListener("click", async () => {
  if (!window.confirm("Stop sharing? Scanning the code will show “no longer available”.")) return;
  if (await patch({ is_active: false }, "Sharing stopped.")) $("share-close").focus();
});
$("share-png").addEventListener("click", () => downloadImage(
  shown.qr.qr_png_url, `${slug(shown.qr.title)}-${shown.qr.qr_code}.png`));
$("share-svg").addEventListener("click", () => downloadImage(
  shown.qr.qr_svg_url, `${slug(shown.qr.title)}-${shown.qr.qr_code}.svg`));
$("share-barcode-png").addEventListener("click", () => downloadImage(
  shown.qr.barcode_png_url, `${slug(shown.qr.title)}-${shown.qr.barcode}.png`));
$("share-print").addEventListener("click", printCode);
$("share-close").addEventListener("click", () => dialog.close());
dialog.addEventListener("close", () => {
  if (shown?.svgUrl) URL.revokeObjectURL(shown.svgUrl);
  shown = null;
  $("share-image").removeAttribute("src");
  $("print-sheet").replaceChildren();
});
