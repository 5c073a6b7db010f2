// Integrations page: what /api/v2/integrations reports (balena), in words.

import { request } from "./api.js";

const FIELDS = [
  ["balena_device_id", "Device ID"],
  ["balena_device_name_at_init", "Device name at set-up"],
  ["balena_app_id", "Application ID"],
  ["balena_app_name", "Application name"],
  ["balena_supervisor_version", "Supervisor version"],
  ["balena_host_os_version", "Host OS version"],
];

async function load() {
  const box = document.getElementById("integrations");
  const result = await request("GET", "/api/v2/integrations");
  box.removeAttribute("aria-busy");
  if (!result.ok) {
    box.replaceChildren(document.createTextNode(`Could not read the integrations: ${result.message}`));
    return;
  }
  const info = result.data || {};
  if (!info.is_balena) {
    const p = document.createElement("p");
    p.textContent = "Not running on balena: this device is managed on its own.";
    box.replaceChildren(p);
    return;
  }
  const list = document.createElement("dl");
  list.className = "facts";
  list.append(...FIELDS.flatMap(([key, label]) => {
    const dt = document.createElement("dt");
    dt.textContent = label;
    const dd = document.createElement("dd");
    dd.textContent = info[key] ?? "Not known";
    return [dt, dd];
  }));
  const p = document.createElement("p");
  p.textContent = "Running on balena.";
  box.replaceChildren(p, list);
}

load();
