// System page: device facts in plain words, power buttons, backup download and restore.

import { request, xhrUpload } from "./api.js";
import { backupProblem } from "./backup_check.js";

const $ = (id) => document.getElementById(id);

/** 1536 MiB → "1.5 GiB"; small values stay in MiB. */
export function mebibytes(mib) {
  if (mib == null) return "unknown";
  return mib >= 1024 ? `${(mib / 1024).toFixed(1)} GiB` : `${mib} MiB`;
}

const FREE_UNITS = { B: "bytes", K: "KiB", M: "MiB", G: "GiB", T: "TiB", P: "PiB" };
function freeSpace(text) {
  const match = /^(\d+)([BKMGTP])$/.exec(text || "");
  return match ? `${match[1]} ${FREE_UNITS[match[2]]}` : text || "unknown";
}

function uptime(value) {
  if (!value) return "unknown";
  const hours = Math.floor(value.hours);
  const minutes = Math.round((value.hours - hours) * 60);
  const parts = [];
  if (value.days) parts.push(`${value.days} day${value.days === 1 ? "" : "s"}`);
  parts.push(`${hours} hour${hours === 1 ? "" : "s"}`);
  if (!value.days) parts.push(`${minutes} minute${minutes === 1 ? "" : "s"}`);
  return parts.join(", ");
}

function displayPower(value) {
  if (value == null) return "Not known";
  return { True: "On", False: "Off", on: "On", off: "Off" }[value] || value;
}

/** Where another machine opens the dashboard: links with the port, or why there are none. */
function addresses() {
  const facts = $("facts").dataset;
  if (facts.loopbackOnly === "yes" && facts.behindProxy === "yes") {
    return `Through the reverse proxy in front of the server (which listens only on ${facts.listen}).`;
  }
  if (facts.loopbackOnly === "yes") {
    return `None from other machines: the server listens only on ${facts.listen}. ` +
      "Set listen to 0.0.0.0 with that port (ANTHIAS_LISTEN or screenly.conf) to change it.";
  }
  const urls = JSON.parse(facts.addresses || "[]");
  if (!urls.length) return "None known";
  return urls.flatMap((url, i) => {
    const link = document.createElement("a");
    link.href = `${url}/`;
    link.textContent = url;
    return i ? [", ", link] : [link];
  });
}

async function loadFacts() {
  const result = await request("GET", "/api/v2/info");
  const facts = $("facts");
  facts.removeAttribute("aria-busy");
  if (!result.ok) {
    facts.replaceChildren(document.createTextNode(`Could not read the device facts: ${result.message}`));
    return;
  }
  const info = result.data;
  const m = info.memory || {};
  const rows = [
    ["Device", info.device_model || "Unknown"],
    ["Software version", info.anthias_version || "unknown"],
    ["Up to date", info.up_to_date ? "Yes" : "An update is available"],
    ["Running for", uptime(info.uptime)],
    ["Load (15-minute average)", String(info.loadavg)],
    ["Free disk space", freeSpace(info.free_space)],
    ["Memory", `${mebibytes(m.used)} used of ${mebibytes(m.total)} (${mebibytes(m.available)} available)`],
    ["Display power", displayPower(info.display_power)],
    ["Addresses", addresses()],
    ["MAC address", info.mac_address],
  ];
  facts.replaceChildren(...rows.flatMap(([term, value]) => {
    const dt = document.createElement("dt");
    dt.textContent = term;
    const dd = document.createElement("dd");
    if (Array.isArray(value)) dd.replaceChildren(...value); else dd.textContent = value;
    return [dt, dd];
  }));
}

async function power(command, question, done) {
  if (!window.confirm(question)) return;
  const result = await request("POST", `/api/v2/${command}`);
  const box = $("power-message");
  box.textContent = result.ok ? done : `Not done: ${result.message}`;
  box.dataset.kind = result.ok ? "ok" : "error";
}
$("reboot").addEventListener("click", () => power("reboot",
  "Restart the device now? The screen goes blank for a minute or two.",
  "The device is restarting. This page works again once it is back."));
$("shutdown").addEventListener("click", () => power("shutdown",
  "Shut the device down? It stays off until its power is switched off and on again.",
  "The device is shutting down."));

$("backup").addEventListener("click", async () => {
  const box = $("backup-message");
  const button = $("backup");
  button.disabled = true;
  box.dataset.kind = "info";
  box.textContent = "Making the backup…";
  const result = await request("POST", "/api/v2/backup");
  button.disabled = false;
  if (!result.ok) {
    box.dataset.kind = "error";
    box.textContent = `The backup failed: ${result.message}`;
    return;
  }
  const name = result.data;
  box.dataset.kind = "ok";
  box.textContent = `Backup “${name}” is downloading.`;
  window.location.assign(`/static_with_mime/${encodeURIComponent(name)}?mime=application/x-tgz`);
});

$("restore-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const file = $("restore-file").files[0];
  const box = $("backup-message");
  if (!file) { box.dataset.kind = "error"; box.textContent = "Choose a backup file first."; return; }
  // Check first: asking "Replace everything?" about a file that is no backup at all misleads.
  $("restore").disabled = true;
  box.dataset.kind = "info";
  box.textContent = `Checking “${file.name}”…`;
  const problem = await backupProblem(file);
  $("restore").disabled = false;
  if (problem) {
    box.dataset.kind = "error";
    box.textContent = `The backup was not restored: “${file.name}” ${problem}.`;
    return;
  }
  if (!window.confirm(`Replace everything on this device with “${file.name}”?`)) {
    box.dataset.kind = "info";
    box.textContent = "Not restored: nothing was changed.";
    return;
  }
  const bar = $("restore-progress");
  bar.hidden = false;
  bar.value = 0;
  $("restore").disabled = true;
  box.dataset.kind = "info";
  box.textContent = `Uploading “${file.name}”…`;
  const body = new FormData();
  body.append("backup_upload", file, file.name);
  const result = await xhrUpload("/api/v2/recover", body, {
    onProgress: (loaded, total) => {
      bar.value = total ? Math.floor((loaded / total) * 100) : 0;
      if (bar.value >= 100) box.textContent = "Restoring…";
    },
  });
  $("restore").disabled = false;
  bar.value = 100;
  box.dataset.kind = result.ok ? "ok" : "error";
  box.textContent = result.ok ? `Restored “${file.name}”: ${result.data}`
    : `The backup was not restored: ${result.message}`;
  if (result.ok) loadFacts();
});

loadFacts();
