// The Cloud page: this device's link to a cloud tenant. Read /api/v3/device/cloud, link with a
// pairing code or show a code on this screen for an admin to claim, unlink. While a code is
// shown the page asks every few seconds whether it was claimed (the server asks the cloud).

import { request } from "./api.js";
import { formatDateTime } from "./dates.js";

const STATUS = "/api/v3/device/cloud";
const LINK = `${STATUS}/link`;
const CODE_POLL_MS = 3000;
const LINKED_REFRESH_MS = 30000;

const stateBox = document.getElementById("cloud-state");
const unlinkActions = document.getElementById("unlink-actions");
const message = document.getElementById("cloud-message");
const linkSection = document.getElementById("link-section");
const form = document.getElementById("link-form");
const linkMessage = document.getElementById("link-message");
const codeSection = document.getElementById("device-code");
let timer = null;
let countdown = null;
let current = null;

function say(box, text, kind = "error") {
  box.textContent = text;
  box.dataset.kind = kind;
}

/** "3 minutes ago", "just now", "in 20 seconds". */
export function relative(iso, now = Date.now()) {
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return "";
  const seconds = Math.round((then - now) / 1000);
  const size = Math.abs(seconds);
  if (size < 10) return "just now";
  const [value, unit] = size < 90 ? [size, "second"] : size < 5400 ? [Math.round(size / 60), "minute"]
    : size < 129600 ? [Math.round(size / 3600), "hour"] : [Math.round(size / 86400), "day"];
  const words = `${value} ${unit}${value === 1 ? "" : "s"}`;
  return seconds < 0 ? `${words} ago` : `in ${words}`;
}

function when(iso, never) {
  if (!iso) return never;
  return `${relative(iso)} (${formatDateTime(iso)})`;
}

function facts(rows) {
  const list = document.createElement("dl");
  list.className = "facts";
  for (const [label, value, key] of rows) {
    const dt = document.createElement("dt");
    dt.textContent = label;
    const dd = document.createElement("dd");
    dd.textContent = value;
    if (key) dd.dataset.fact = key;
    list.append(dt, dd);
  }
  return list;
}

function badge(linked) {
  const p = document.createElement("p");
  const mark = document.createElement("span");
  mark.className = `link-badge ${linked ? "is-linked" : "is-unlinked"}`;
  mark.id = "link-state";
  mark.textContent = linked ? "Linked" : "Not linked";
  p.append(mark);
  return p;
}

function showState(status) {
  current = status;
  stateBox.removeAttribute("aria-busy");
  const parts = [badge(status.linked)];
  if (status.linked) {
    parts.push(facts([
      ["Organisation", status.tenant_name || "—", "tenant"],
      ["Name in the cloud", status.device_name || "—", "device"],
      ["Cloud address", status.cloud_url || "—", "cloud_url"],
      ["Last successful sync", when(status.last_success_at, "Not yet"), "last_success"],
      ["Changes waiting to be sent", String(status.pending_outbox ?? 0), "pending"],
      ["Sync service", status.agent_running ? "Running"
        : "Not running: nothing is sent or received until the anthias-sync service starts",
       "agent"],
      ["Last problem", status.last_error || "None", "last_error"],
    ]));
    if (status.last_error) parts[parts.length - 1].querySelector('[data-fact="last_error"]').classList.add("error");
  } else {
    const p = document.createElement("p");
    p.textContent = status.unlinked_by_cloud
      ? "The cloud unlinked this device (an admin revoked it). Link it again with a new code."
      : "This device works on its own. Link it to manage it from the cloud console.";
    parts.push(p);
  }
  stateBox.replaceChildren(...parts);
  unlinkActions.hidden = !status.linked;
  linkSection.hidden = status.linked || Boolean(status.device_code);
  showCode(status.linked ? null : status.device_code);
  schedule(status);
}

function showCode(code) {
  clearInterval(countdown);
  codeSection.hidden = !code;
  if (!code) return;
  document.getElementById("device-code-value").textContent = spaced(code.code);
  const img = document.getElementById("device-code-qr");
  const src = `${STATUS}/code.svg?c=${encodeURIComponent(code.code)}`;
  if (img.getAttribute("src") !== src) img.src = src;
  const expiry = document.getElementById("device-code-expiry");
  const tick = () => {
    const left = Math.max(0, Math.round((Date.parse(code.expires_at) - Date.now()) / 1000));
    expiry.textContent = left > 0
      ? `Valid for ${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")} more.`
      : "This code expired. Show a new one.";
  };
  tick();
  countdown = setInterval(tick, 1000);
}

/** "ABCD EFGH": two groups of four are easier to read out and type. */
function spaced(code) {
  return code.length === 8 ? `${code.slice(0, 4)} ${code.slice(4)}` : code;
}

function schedule(status) {
  clearTimeout(timer);
  const wait = status.device_code ? CODE_POLL_MS : status.linked ? LINKED_REFRESH_MS : 0;
  if (wait) timer = setTimeout(load, wait);
}

async function load() {
  const result = await request("GET", STATUS);
  if (!result.ok) {
    stateBox.removeAttribute("aria-busy");
    stateBox.replaceChildren(document.createTextNode(`The link could not be read: ${result.message}`));
    clearTimeout(timer);
    timer = setTimeout(load, LINKED_REFRESH_MS);
    return;
  }
  const wasWaiting = Boolean(current?.device_code);
  showState(result.data);
  if (wasWaiting && result.data.linked) {
    say(message, `Claimed: this screen is now linked to ${result.data.tenant_name || "the cloud"}.`, "ok");
  }
}

function fieldError(name, text) {
  const input = form.elements[name];
  const box = document.getElementById(`${name}-error`);
  if (box) box.textContent = text;
  if (input) {
    if (text) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }
}

function clearErrors() {
  for (const name of ["cloud_url", "code", "name"]) fieldError(name, "");
  say(linkMessage, "");
}

/** The server's refusal on the fields it names, or as one message. */
function showRefusal(result) {
  const error = result.data?.error;
  const fields = error?.code === "validation_error" && error.details ? error.details : null;
  let placed = false;
  if (fields) {
    for (const [name, errors] of Object.entries(fields)) {
      if (form.elements[name]) {
        fieldError(name, [].concat(errors).join(" "));
        placed = true;
      }
    }
  }
  if (!placed) say(linkMessage, result.message);
  form.querySelector("[aria-invalid=true]")?.focus();
}

async function submitLink(body, button, busyLabel) {
  clearErrors();
  const label = button.textContent;
  button.disabled = true;
  button.textContent = busyLabel;
  try {
    const result = await request("POST", LINK, { json: body });
    if (!result.ok) {
      showRefusal(result);
      return;
    }
    showState(result.data);
    if (result.data.linked) say(message, `Linked to ${result.data.tenant_name || "the cloud"}.`, "ok");
  } finally {
    button.disabled = false;
    button.textContent = label;
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const f = form.elements;
  const code = f.code.value.replace(/[\s-]/g, "").toUpperCase();
  if (!f.cloud_url.value.trim()) {
    clearErrors();
    fieldError("cloud_url", "Enter the cloud's address.");
    f.cloud_url.focus();
    return;
  }
  if (!code) {
    clearErrors();
    fieldError("code", "Enter the pairing code from the cloud console.");
    f.code.focus();
    return;
  }
  submitLink({ cloud_url: f.cloud_url.value.trim(), code, name: f.name.value.trim() },
             document.getElementById("link-submit"), "Linking…");
});

document.getElementById("device-code-start").addEventListener("click", (event) => {
  const f = form.elements;
  if (!f.cloud_url.value.trim()) {
    clearErrors();
    fieldError("cloud_url", "Enter the cloud's address first.");
    f.cloud_url.focus();
    return;
  }
  submitLink({ cloud_url: f.cloud_url.value.trim(), mode: "device_code", name: f.name.value.trim() },
             event.currentTarget, "Asking the cloud…");
});

document.getElementById("device-code-cancel").addEventListener("click", async () => {
  // Unlinking an unlinked device only drops the code this screen shows.
  const result = await request("DELETE", LINK);
  if (result.ok) showState(result.data);
  else say(message, result.message);
});

document.getElementById("unlink").addEventListener("click", async (event) => {
  const name = current?.tenant_name || "the cloud";
  if (!window.confirm(`Unlink this device from ${name}? It keeps its content and goes on `
                      + "playing; the cloud stops seeing it.")) return;
  const button = event.currentTarget;
  button.disabled = true;
  try {
    const result = await request("DELETE", LINK);
    if (!result.ok) {
      say(message, `The device could not be unlinked: ${result.message}`);
      return;
    }
    showState(result.data);
    say(message, result.data.unlink_note || "Unlinked. This device works on its own now.", "ok");
  } finally {
    button.disabled = false;
  }
});

load();
