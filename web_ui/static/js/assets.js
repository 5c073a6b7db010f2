// The asset manager: lists, add by URL or upload, edit, toggle, reorder, delete, preview.

import { request, toast } from "./api.js";
import { uploadFile, uploadKind } from "./uploads.js";
import { describeAsset, detectMimetype, shortDate } from "./asset_format.js";
import { download, preview } from "./asset_content.js";
import { setUpEditor } from "./asset_editor.js";
import { openShare } from "./share.js";
import { startShareList } from "./share_list.js";

const POLL_MS = 3000;
const DAY_MS = 86_400_000;
const app = document.getElementById("assets-app");
const defaults = {
  duration: Number(app.dataset.defaultDuration) || 10,
  streaming: Number(app.dataset.defaultStreamingDuration) || 300,
};
const $ = (id) => document.getElementById(id);
const state = { assets: [], etag: "", body: "", dragging: null, busy: 0 };

function activeAssets() {
  return state.assets.filter((a) => a.is_active).sort((a, b) => a.play_order - b.play_order);
}
function activeIds() { return activeAssets().map((a) => a.asset_id); }

/** Poll the list; a 304 costs nothing and changes nothing. */
async function load() {
  const headers = state.etag ? { "If-None-Match": state.etag } : {};
  const result = await request("GET", "/api/v2/assets", { headers });
  if (result.status === 304 || !result.ok) return;
  state.etag = result.response.headers.get("ETag") || "";
  if (result.text === state.body) return;
  state.body = result.text;
  state.assets = result.data || [];
  if (!state.dragging) render();
}

function focusKey() {
  const el = document.activeElement;
  const row = el?.closest?.("li.asset");
  return row ? { id: row.dataset.id, cls: el.className.split(" ")[0] } : null;
}

function render() {
  const key = focusKey();
  const active = activeAssets();
  const inactive = state.assets.filter((a) => !a.is_active)
    .sort((a, b) => (a.name || "").localeCompare(b.name || ""));
  fill($("active-list"), active, true);
  fill($("inactive-list"), inactive, false);
  $("active-empty").hidden = active.length > 0;
  $("inactive-empty").hidden = inactive.length > 0;
  $("active-count").textContent = `(${active.length})`;
  $("inactive-count").textContent = `(${inactive.length})`;
  if (key) {
    const row = document.querySelector(`li.asset[data-id="${CSS.escape(key.id)}"]`);
    const same = key.cls ? row?.querySelector(`.${CSS.escape(key.cls)}`) : null;
    (same || row?.querySelector("button"))?.focus();
  }
}

function fill(list, assets, isActive) {
  const template = $("asset-row");
  list.replaceChildren(...assets.map((asset, index) => {
    const row = template.content.firstElementChild.cloneNode(true);
    const name = asset.name || asset.uri || asset.asset_id;
    row.dataset.id = asset.asset_id;
    row.draggable = isActive;
    row.classList.toggle("processing", asset.is_processing);
    row.querySelector(".name").textContent = name;
    row.querySelector(".meta").textContent = describeAsset(asset);
    for (const [cls, iso] of [["start", asset.start_date], ["end", asset.end_date]]) {
      const time = row.querySelector(`.${cls} time`);
      time.textContent = shortDate(iso);
      if (iso) time.dateTime = iso;
    }
    const toggle = row.querySelector(".toggle");
    toggle.checked = asset.is_enabled;
    toggle.disabled = asset.is_processing;
    row.querySelector(".toggle-label").textContent = `Enabled: ${name}`;
    const labels = { up: "Move up", down: "Move down", edit: "Edit", "preview-btn": "Preview",
                     download: "Download", share: "Share", delete: "Delete" };
    for (const [cls, verb] of Object.entries(labels)) {
      row.querySelector(`.${cls}`).setAttribute("aria-label", `${verb} ${name}`);
    }
    row.querySelector(".up").hidden = !isActive;
    row.querySelector(".down").hidden = !isActive;
    row.querySelector(".up").disabled = index === 0;
    row.querySelector(".down").disabled = index === assets.length - 1;
    row.querySelector(".handle").hidden = !isActive;
    return row;
  }));
}

/** Anthias renumbers on create and update, so the UI re-sends the order it shows. */
async function saveOrder(ids) {
  const result = await request("POST", "/api/v2/assets/order", { json: { ids: ids.join(",") } });
  if (!result.ok) toast(`The new order was not saved: ${result.message}`, "error");
  return result.ok;
}

async function refreshAfter(promise) {
  state.busy += 1;
  try { return await promise; } finally { state.busy -= 1; state.etag = ""; await load(); }
}

/** Keep the shown order, with ``id`` at the end when it just became active. */
async function keepOrder(before, updated) {
  const ids = before.filter((id) => id !== updated.asset_id);
  if (updated.is_active) {
    const at = before.indexOf(updated.asset_id);
    ids.splice(at >= 0 ? at : ids.length, 0, updated.asset_id);
  }
  await saveOrder(ids);
}

// Adding by URL -----------------------------------------------------------------------------
const urlForm = $("url-form");
let typePicked = false;
let durationPicked = false;
$("url-mimetype").addEventListener("change", () => { typePicked = true; suggestDuration(); });
$("url-duration").addEventListener("input", () => { durationPicked = true; });
$("url-uri").addEventListener("input", () => {
  if (!typePicked) $("url-mimetype").value = detectMimetype($("url-uri").value);
  suggestDuration();
});
function suggestDuration() {
  if (durationPicked) return;
  const type = $("url-mimetype").value;
  $("url-duration").value = type === "video" || type === "youtube_asset" ? 0
    : type === "streaming" ? defaults.streaming : defaults.duration;
}

function newAssetDates() {
  const now = Date.now();
  return { start_date: new Date(now - 60_000).toISOString(),
           end_date: new Date(now + 30 * DAY_MS).toISOString() };
}

async function createAsset(fields) {
  const before = activeIds();
  const result = await request("POST", "/api/v2/assets", {
    json: { ...newAssetDates(), is_enabled: true, nocache: false, play_order: before.length,
            ...fields },
  });
  if (result.ok) await keepOrder(before, result.data);
  return result;
}

urlForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const uri = $("url-uri").value.trim();
  const mimetype = $("url-mimetype").value;
  const name = $("url-name").value.trim() || uri;
  const submit = urlForm.querySelector("button[type=submit]");
  submit.disabled = true;
  const result = await refreshAfter(createAsset({
    name, uri, mimetype, duration: Number($("url-duration").value || 0),
    skip_asset_check: mimetype === "streaming",
  }));
  submit.disabled = false;
  if (result.ok) {
    toast(`Added “${result.data.name}”.`);
    urlForm.reset();
    typePicked = durationPicked = false;
    suggestDuration();
  } else {
    toast(`“${name}” was not added: ${result.message}`, "error");
  }
});

// Uploads -----------------------------------------------------------------------------------
function startUploads(files) {
  for (const file of files) startUpload(file);
}

function startUpload(file) {
  const item = document.createElement("li");
  item.className = "upload";
  const label = document.createElement("span");
  label.className = "upload-name";
  label.textContent = file.name;
  const bar = document.createElement("progress");
  bar.max = 100;
  bar.value = 0;
  bar.setAttribute("aria-label", `Upload progress of ${file.name}`);
  const status = document.createElement("span");
  status.className = "upload-status";
  status.textContent = "0%";
  const cancel = document.createElement("button");
  cancel.type = "button";
  cancel.textContent = "Cancel";
  cancel.setAttribute("aria-label", `Cancel upload of ${file.name}`);
  item.append(label, bar, status, cancel);
  $("uploads").append(item);
  const handle = uploadFile(file, {
    onProgress: (sent, total) => {
      const percent = total ? Math.floor((sent / total) * 100) : 100;
      bar.value = percent;
      status.textContent = `${percent}%`;
    },
  });
  cancel.addEventListener("click", () => handle.cancel());
  // A finished row stays until dismissed, so its result can be read; then it goes.
  const dismissable = () => {
    const dismiss = document.createElement("button");
    dismiss.type = "button";
    dismiss.className = "dismiss";
    dismiss.textContent = "Dismiss";
    dismiss.setAttribute("aria-label", `Dismiss ${file.name}`);
    dismiss.addEventListener("click", () => {
      const next = item.nextElementSibling?.querySelector("button.dismiss");
      item.remove();
      (next || $("file-input"))?.focus();
    });
    item.append(dismiss);
  };
  handle.done.then(async (result) => {
    cancel.remove();
    if (result.cancelled) {
      item.dataset.state = "cancelled";
      status.textContent = "Cancelled";
      dismissable();
      return;
    }
    if (!result.ok) {
      item.dataset.state = "error";
      status.textContent = result.message;
      status.setAttribute("role", "alert");
      dismissable();
      return;
    }
    status.textContent = "Adding…";
    const kind = uploadKind(file, result.ext);
    const created = await refreshAfter(createAsset({
      name: file.name, uri: result.uri, ext: result.ext, mimetype: kind,
      duration: kind === "video" ? 0 : defaults.duration, skip_asset_check: true,
    }));
    item.dataset.state = created.ok ? "done" : "error";
    status.textContent = created.ok ? "Added" : `Not added: ${created.message}`;
    dismissable();
  });
}

const dropzone = $("dropzone");
$("file-input").addEventListener("change", (event) => {
  startUploads([...event.target.files]);
  event.target.value = "";
});
dropzone.addEventListener("dragover", (event) => {
  if (!event.dataTransfer.types.includes("Files")) return;
  event.preventDefault();
  dropzone.classList.add("over");
});
dropzone.addEventListener("dragleave", () => dropzone.classList.remove("over"));
dropzone.addEventListener("drop", (event) => {
  if (!event.dataTransfer.files.length) return;
  event.preventDefault();
  dropzone.classList.remove("over");
  startUploads([...event.dataTransfer.files]);
});

// Row actions -------------------------------------------------------------------------------
function assetOf(row) { return state.assets.find((a) => a.asset_id === row.dataset.id); }

async function patchAsset(asset, fields) {
  const before = activeIds();
  const result = await request("PATCH", `/api/v2/assets/${asset.asset_id}`, { json: fields });
  if (result.ok) await keepOrder(before, result.data);
  return result;
}

async function move(row, delta) {
  const ids = activeIds();
  const from = ids.indexOf(row.dataset.id);
  const to = from + delta;
  if (from < 0 || to < 0 || to >= ids.length) return;
  ids.splice(to, 0, ids.splice(from, 1)[0]);
  const focusClass = delta < 0 ? "up" : "down";
  await refreshAfter(saveOrder(ids));
  const moved = document.querySelector(`li.asset[data-id="${CSS.escape(row.dataset.id)}"]`);
  const button = moved?.querySelector(`.${focusClass}`);
  (button && !button.disabled ? button : moved?.querySelector(".edit"))?.focus();
}

async function remove(asset) {
  if (!window.confirm(`Delete “${asset.name}”? This cannot be undone.`)) return;
  const result = await refreshAfter(request("DELETE", `/api/v2/assets/${asset.asset_id}`));
  toast(result.ok ? `Deleted “${asset.name}”.` : `Not deleted: ${result.message}`,
        result.ok ? "info" : "error");
}

for (const list of [$("active-list"), $("inactive-list")]) {
  list.addEventListener("click", async (event) => {
    const button = event.target.closest("button");
    const row = event.target.closest("li.asset");
    if (!button || !row) return;
    const asset = assetOf(row);
    if (!asset) return;
    if (button.classList.contains("up")) await move(row, -1);
    else if (button.classList.contains("down")) await move(row, 1);
    else if (button.classList.contains("edit")) openEditor(asset);
    else if (button.classList.contains("delete")) await remove(asset);
    else if (button.classList.contains("preview-btn")) await preview(asset);
    else if (button.classList.contains("download")) await download(asset);
    else if (button.classList.contains("share")) await openShare(asset);
  });
  list.addEventListener("change", async (event) => {
    if (!event.target.classList.contains("toggle")) return;
    const asset = assetOf(event.target.closest("li.asset"));
    const enabled = event.target.checked;
    const result = await refreshAfter(patchAsset(asset, { is_enabled: enabled }));
    if (!result.ok) toast(`“${asset.name}” was not changed: ${result.message}`, "error");
    else toast(`“${asset.name}” is now ${enabled ? "enabled" : "disabled"}.`);
  });
}

// Drag-and-drop reorder of the active list ---------------------------------------------------
const activeList = $("active-list");
activeList.addEventListener("dragstart", (event) => {
  const row = event.target.closest("li.asset");
  if (!row) return;
  state.dragging = row;
  row.classList.add("dragging");
  event.dataTransfer.effectAllowed = "move";
  event.dataTransfer.setData("text/plain", row.dataset.id);
});
activeList.addEventListener("dragover", (event) => {
  if (!state.dragging) return;
  event.preventDefault();
  const over = event.target.closest("li.asset");
  if (!over || over === state.dragging) return;
  const box = over.getBoundingClientRect();
  const after = event.clientY > box.top + box.height / 2;
  activeList.insertBefore(state.dragging, after ? over.nextSibling : over);
});
activeList.addEventListener("drop", (event) => event.preventDefault());
activeList.addEventListener("dragend", async () => {
  const row = state.dragging;
  if (!row) return;
  row.classList.remove("dragging");
  const ids = [...activeList.children].map((li) => li.dataset.id);
  state.dragging = null;
  if (ids.join() !== activeIds().join()) {
    await refreshAfter(saveOrder(ids));
    toast("Playing order saved.");
  }
});

const openEditor = setUpEditor({
  save: (asset, fields) => refreshAfter(patchAsset(asset, fields)),
  saved: (asset) => toast(`Saved “${asset.name}”.`),
});

// Player controls ---------------------------------------------------------------------------
for (const [id, command, words] of [["previous-asset", "previous", "previous"],
                                    ["next-asset", "next", "next"]]) {
  $(id).addEventListener("click", async () => {
    const result = await request("GET", `/api/v2/assets/control/${command}`);
    toast(result.ok ? `Asked the player to show the ${words} asset.` : result.message,
          result.ok ? "info" : "error");
  });
}

load();
startShareList();
setInterval(() => { if (!document.hidden && !state.busy) load(); }, POLL_MS);
document.addEventListener("visibilitychange", () => { if (!document.hidden) load(); });
