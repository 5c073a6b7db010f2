// The "Shared" section of the assets page: the device's QR contents with their scan counts,
// newest first; each opens the Share dialog or stops sharing.

import { request, toast } from "./api.js";
import { listShares, onShareChange, openExisting, scansText, statusText } from "./share.js";

const REFRESH_MS = 30_000;
const PAGE_SIZE = 50;
const $ = (id) => document.getElementById(id);
const state = { items: [], next: null, loading: 0 };

async function load({ more = false } = {}) {
  const token = ++state.loading;
  const result = await listShares({ limit: PAGE_SIZE, cursor: more ? state.next : null });
  if (token !== state.loading) return;
  if (!result.ok) {
    $("share-list-error").textContent = `The shared links could not be read: ${result.message}`;
    return;
  }
  $("share-list-error").textContent = "";
  const page = result.data || {};
  state.items = more ? [...state.items, ...(page.items || [])] : page.items || [];
  state.next = page.next_cursor || null;
  render();
}

function render() {
  const list = $("share-list");
  const key = document.activeElement?.closest?.("li.share")?.dataset.code;
  list.replaceChildren(...state.items.map(row));
  $("share-empty").hidden = state.items.length > 0;
  $("share-count").textContent = `(${state.items.length}${state.next ? "+" : ""})`;
  $("share-more").hidden = !state.next;
  if (key) list.querySelector(`li.share[data-code="${CSS.escape(key)}"] button`)?.focus();
}

function row(qr) {
  const item = $("share-row").content.firstElementChild.cloneNode(true);
  const title = qr.title || qr.qr_code;
  item.dataset.code = qr.qr_code;
  item.classList.toggle("stopped", !qr.is_active || qr.is_expired);
  item.querySelector(".name").textContent = title;
  const link = item.querySelector(".share-url");
  link.href = qr.landing_url;
  link.textContent = qr.landing_url;
  item.querySelector(".scans").textContent = scansText(qr);
  item.querySelector(".state").textContent = statusText(qr);
  const show = item.querySelector(".show");
  show.setAttribute("aria-label", `Show code of ${title}`);
  show.addEventListener("click", () => openExisting(qr));
  const stop = item.querySelector(".stop");
  stop.hidden = !qr.is_active;
  stop.setAttribute("aria-label", `Stop sharing ${title}`);
  stop.addEventListener("click", () => stopSharing(qr, title));
  return item;
}

async function stopSharing(qr, title) {
  if (!window.confirm(`Stop sharing “${title}”? Scanning its code will show “no longer available”.`)) {
    return;
  }
  const result = await request("PATCH", `/api/v3/qr-content/${encodeURIComponent(qr.qr_code)}`,
                               { json: { is_active: false } });
  toast(result.ok ? `Stopped sharing “${title}”.` : `Not stopped: ${result.message}`,
        result.ok ? "info" : "error");
  await load();
}

/** Show the section and keep its counts fresh while the page is in view. */
export function startShareList() {
  $("share-more").addEventListener("click", () => load({ more: true }));
  onShareChange(() => load());
  load();
  setInterval(() => { if (!document.hidden) load(); }, REFRESH_MS);
  document.addEventListener("visibilitychange", () => { if (!document.hidden) load(); });
}
