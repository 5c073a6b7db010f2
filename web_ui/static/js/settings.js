// The settings form: read /api/v2/device_settings, PATCH the changes, show each refusal.
// The public address QR codes lead to (issue 13) is not an Anthias setting, so v2 does not
// carry it: the dashboard reads and writes it at /settings/sharing.

import { request } from "./api.js";

const form = document.getElementById("settings-form");
const message = document.getElementById("settings-message");
const BOOLEANS = ["show_splash", "default_assets", "shuffle_playlist", "use_24_hour_clock",
                  "debug_logging"];
const VALUES = ["player_name", "audio_output", "date_format", "auth_backend", "username"];
const NUMBERS = ["default_duration", "default_streaming_duration"];
const SHARING = "/settings/sharing";
let current = null;
let sharing = null;

function say(text, kind) {
  message.textContent = text;
  message.dataset.kind = kind;
}

function showAuthFields() {
  const on = form.elements.auth_backend.value === "auth_basic";
  form.querySelector(".auth-fields").hidden = !on;
  // Asked for only when a password is in force: with none ever set there is nothing to give.
  const field = document.getElementById("current-password-field");
  const protectedNow = current && current.auth_backend === "auth_basic" &&
    field.dataset.passwordSet === "yes";
  field.hidden = !protectedNow;
}

function publicUrlError(text) {
  const input = form.elements.public_url;
  document.getElementById("public_url-error").textContent = text;
  if (text) input.setAttribute("aria-invalid", "true"); else input.removeAttribute("aria-invalid");
}

function showSharing(problem) {
  const input = form.elements.public_url;
  input.value = sharing ? sharing.public_url : "";
  input.disabled = !sharing;  // unread, it would be saved empty over the real value
  document.getElementById("public_url-now").textContent = !sharing
    ? `The public address could not be read: ${problem}`
    : sharing.landing_base ? `Codes on the screen now lead to ${sharing.landing_base}…`
    : "This device is reachable on no network address, so the screen shows no codes "
      + "until a public address is set.";
  publicUrlError("");
}

async function load() {
  const [result, shared] = await Promise.all([request("GET", "/api/v2/device_settings"),
                                              request("GET", SHARING)]);
  if (!result.ok) { say(`The settings could not be read: ${result.message}`, "error"); return; }
  current = result.data;
  sharing = shared.ok ? shared.data : null;
  showSharing(shared.message);
  for (const key of [...VALUES, ...NUMBERS]) form.elements[key].value = current[key] ?? "";
  for (const key of BOOLEANS) form.elements[key].checked = Boolean(current[key]);
  for (const key of ["current_password", "password", "password_2"]) form.elements[key].value = "";
  showAuthFields();
  setReady(true);
}

// Until the values are read the fields are disabled, so nothing typed is overwritten by load().
function setReady(ready) {
  for (const fieldset of form.querySelectorAll("fieldset")) fieldset.disabled = !ready;
  form.querySelector("button[type=submit]").disabled = !ready;
  if (ready) form.removeAttribute("aria-busy"); else form.setAttribute("aria-busy", "true");
}

form.elements.auth_backend.addEventListener("change", showAuthFields);

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const f = form.elements;
  const body = {};
  for (const key of VALUES) body[key] = f[key].value;
  for (const key of NUMBERS) {
    const text = f[key].value.trim();
    const problem = /^-\s*\d/.test(text) ? "cannot be negative"
      : /^\d+$/.test(text) ? "" : "must be a whole number of seconds";
    if (problem) {
      say(`${f[key].labels[0].textContent} ${problem}.`, "error");
      f[key].focus();
      return;
    }
    body[key] = Number(f[key].value);
  }
  for (const key of BOOLEANS) body[key] = f[key].checked;
  for (const key of ["current_password", "password", "password_2"]) {
    if (f[key].value) body[key] = f[key].value;
  }
  if (body.auth_backend !== "auth_basic") delete body.username;
  const publicUrl = f.public_url.value.trim();
  if (sharing && publicUrl !== sharing.public_url) {
    // First, so a refused address leaves every other setting as it was.
    const saved = await request("PATCH", SHARING, { json: { public_url: publicUrl } });
    if (!saved.ok) {
      const reason = saved.data?.error?.message || saved.message;
      publicUrlError(reason.replace(/^Setting public_url: /, "The public address: "));
      say("Not saved: check the public address.", "error");
      f.public_url.focus();
      return;
    }
    sharing = saved.data;
  }
  publicUrlError("");
  const turningOn = body.auth_backend === "auth_basic" && current?.auth_backend !== "auth_basic";
  const credentialsChanged = body.auth_backend === "auth_basic" &&
    (turningOn || body.password || body.username !== current?.username);
  setReady(false);
  const result = await request("PATCH", "/api/v2/device_settings", { json: body });
  if (!result.ok) {
    setReady(true);
    say(result.message.replace(/^An error occurred while saving settings: /, "Not saved: "),
        "error");
    return;
  }
  if (credentialsChanged) {
    // The sign-in page says so too (saved=1): this message is only on screen for a moment.
    say("Settings were successfully saved. Sign in with the new user name and password.", "ok");
    setTimeout(() => window.location.assign("/login?next=/settings&saved=1"), 1200);
    return;
  }
  say(result.data.message || "Settings were successfully saved.", "ok");
  await load();
});

load();
