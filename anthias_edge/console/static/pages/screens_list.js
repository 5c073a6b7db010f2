// The fleet list: every linked screen with its state, when it was last seen, what it last
// played and shows now, its software, address and free disk; search and a state filter;
// rename, revoke and commands for those allowed (devices.manage). Pairing codes and claims
// open from the header; the codes still waiting for a screen are listed above the screens.

import {
  COMMANDS, DEVICES, bytes, connection, connectionLabel, onScreen, plainError, relative,
} from "./screens_api.js";
import { pendingCodes } from "./screens_codes.js";
import { openClaimDialog, openPairingDialog } from "./screens_pairing.js";

const PAGE_SIZE = 50;
const SEARCH_DELAY_MS = 300;
const REFRESH_MS = 30_000;
const STATES = [["", "All"], ["online", "Online"], ["stale", "Late"], ["offline", "Offline"],
                ["revoked", "Revoked"]];

export async function render(root, ctx, { claim = "" } = {}) {
  const { h, replaceChildren } = ctx.ui;
  const ui = ctx.ui;
  const manage = ctx.can("devices.manage");
  const state = { items: [], next: null, loading: 0 };

  const search = h("input", { type: "search", name: "q", placeholder: "Name or address",
                              autocomplete: "off" });
  const status = h("select", { name: "status" },
    STATES.map(([value, label]) => h("option", { value }, label)));
  const filterForm = h("form", { class: "filters screen-filters", role: "search",
                                 "aria-label": "Filter screens" },
    ui.field("Search", search), ui.field("State", status));
  filterForm.addEventListener("submit", (event) => { event.preventDefault(); reload(); });
  let timer = null;
  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(reload, SEARCH_DELAY_MS);
  });
  status.addEventListener("change", reload);

  const codes = manage ? pendingCodes(ctx) : null;
  const afterPairing = () => Promise.all([reload(), codes?.reload()]);
  const actions = manage ? [
    h("button", { type: "button", class: "btn btn-primary", "data-action": "pairing-code",
                  onclick: () => openPairingDialog(ctx, { onLinked: afterPairing }) },
      "Create a pairing code"),
    h("button", { type: "button", class: "btn", "data-action": "claim",
                  onclick: () => openClaimDialog(ctx, { onClaimed: reload }) }, "Claim a code"),
  ] : [];
  const list = h("div", { class: "screen-table-wrap", "aria-busy": "true" });
  const summary = h("p", { class: "muted", role: "status" });
  const more = h("div", { class: "more" });
  replaceChildren(root, ui.pageHeader("Screens", actions),
    h("p", { class: "hint page-intro" }, "Every screen linked to your organisation. A "
      + "screen is online when it synced within the last minute, late after that, and "
      + "offline after ten minutes without a word."),
    codes?.element ?? null, filterForm, summary, list, more);
  await Promise.all([reload(), codes?.reload()]);
  if (claim && manage) openClaimDialog(ctx, { code: claim, onClaimed: reload });
  // Keep the states and times fresh while the list is open (only this page's own list).
  const refresher = setInterval(() => {
    if (!root.isConnected) { clearInterval(refresher); return; }
    if (!document.querySelector("dialog[open]")) {
      reload({ quiet: true });
      codes?.reload();
    }
  }, REFRESH_MS);

  async function reload({ quiet = false } = {}) {
    const token = ++state.loading;
    if (!quiet) list.setAttribute("aria-busy", "true");
    let page;
    try {
      page = await ctx.api("GET", DEVICES, { query: {
        limit: PAGE_SIZE, q: search.value.trim(), status: status.value } });
    } catch (error) {
      if (token !== state.loading || error.code === "session_ended") return;
      list.setAttribute("aria-busy", "false");
      if (error.code === "validation_error") ui.formErrors(filterForm, error);
      else replaceChildren(list, h("p", { class: "form-error", role: "alert" }, plainError(error)));
      return;
    }
    if (token !== state.loading) return;
    ui.clearFormErrors(filterForm);
    state.items = page.items || [];
    state.next = page.next_cursor || null;
    draw();
  }

  async function loadMore() {
    const token = ++state.loading;
    try {
      const page = await ctx.api("GET", DEVICES, { query: {
        limit: PAGE_SIZE, cursor: state.next, q: search.value.trim(), status: status.value } });
      if (token !== state.loading) return;
      state.items.push(...(page.items || []));
      state.next = page.next_cursor || null;
      draw();
    } catch (error) {
      ui.toast(plainError(error), { kind: "error" });
    }
  }

  function draw() {
    list.setAttribute("aria-busy", "false");
    replaceChildren(more, state.next ? h("button", { type: "button", class: "btn",
      onclick: loadMore }, "Show more") : null);
    if (!state.items.length) {
      replaceChildren(summary);
      const filtered = Boolean(search.value.trim() || status.value);
      replaceChildren(list, filtered
        ? ui.emptyState("No screen matches these filters.", {
          label: "Clear filters", onclick: () => { filterForm.reset(); reload(); } })
        : ui.emptyState(manage
          ? "No screens yet. Create a pairing code and type it on a screen's Cloud page, or "
            + "claim the code a screen shows."
          : "No screens yet. An admin of your organisation can link one.",
        manage ? { label: "Create a pairing code",
                   onclick: () => openPairingDialog(ctx, { onLinked: afterPairing }) } : null));
      return;
    }
    const counts = {};
    for (const device of state.items) {
      const key = connection(device);
      counts[key] = (counts[key] || 0) + 1;
    }
    const parts = ["online", "stale", "offline", "never", "revoked"].filter((key) => counts[key])
      .map((key) => `${counts[key]} ${connectionLabel(key).toLowerCase()}`);
    replaceChildren(summary, `${state.items.length} screen${state.items.length === 1 ? "" : "s"}`
      + `${state.next ? " shown" : ""}: ${parts.join(", ")}.`);
    replaceChildren(list, h("table", { class: "screen-table" },
      h("caption", { class: "visually-hidden" }, "Screens"),
      h("thead", {}, h("tr", {},
        ["Screen", "State", "Last seen", "Last play", "On screen now", "Software", "Address",
         "Free disk", manage ? "Actions" : null].filter(Boolean)
          .map((title) => h("th", { scope: "col" }, title)))),
      h("tbody", {}, state.items.map(row))));
  }

  function cell(label, ...content) {
    return h("td", { "data-label": label }, ...content);
  }

  function row(device) {
    const key = connection(device);
    const seen = device.last_seen_at
      ? h("time", { datetime: device.last_seen_at, title: ui.formatDate(device.last_seen_at) },
          relative(device.last_seen_at, ui)) : h("span", { class: "muted" }, "never");
    const played = device.last_play_at
      ? h("time", { datetime: device.last_play_at, title: ui.formatDate(device.last_play_at) },
          relative(device.last_play_at, ui)) : h("span", { class: "muted" }, "—");
    const tr = h("tr", { dataset: { device: device.device_id, state: key } },
      h("th", { scope: "row", class: "screen-name" },
        h("a", { href: `#/screens/device/${encodeURIComponent(device.device_id)}` }, device.name)),
      cell("State", h("span", { class: `badge conn conn-${key}` }, connectionLabel(key))),
      cell("Last seen", seen),
      cell("Last play", played),
      cell("On screen now", onScreen(device) || h("span", { class: "muted" }, "—")),
      cell("Software", device.software_version || h("span", { class: "muted" }, "—")),
      cell("Address", device.address ? h("code", {}, device.address)
        : h("span", { class: "muted" }, "—")),
      cell("Free disk", bytes(device.free_disk_bytes) || h("span", { class: "muted" }, "—")));
    if (manage) {
      const label = `“${device.name}”`;
      tr.append(cell("Actions", key === "revoked" ? h("span", { class: "muted" }, "—")
        : h("div", { class: "row-buttons" },
          h("button", { type: "button", class: "btn btn-small", "data-action": "command",
                        "aria-label": `Send a command to ${label}`,
                        onclick: () => openCommandDialog(ctx, device) }, "Command"),
          h("button", { type: "button", class: "btn btn-small", "data-action": "rename",
                        "aria-label": `Rename ${label}`,
                        onclick: () => openRenameDialog(ctx, device, reload) }, "Rename"),
          h("button", { type: "button", class: "btn btn-small btn-danger-quiet",
                        "data-action": "revoke", "aria-label": `Revoke ${label}`,
                        onclick: () => revokeDevice(ctx, device, reload) }, "Revoke"))));
    }
    return tr;
  }
}

/** Rename ``device``; ``done()`` after a change. */
export function openRenameDialog(ctx, device, done) {
  const { h } = ctx.ui;
  const input = h("input", { name: "name", value: device.name, maxlength: "100", required: true,
                             autocomplete: "off" });
  const form = h("form", { novalidate: true },
    ctx.ui.field("Name", input, "How the screen is called in this console."),
    h("div", { class: "dialog-actions" },
      h("button", { type: "button", class: "btn", onclick: () => close() }, "Cancel"),
      h("button", { type: "submit", class: "btn btn-primary" }, "Save")));
  const { close } = ctx.ui.openDialog(`Rename “${device.name}”`, form);
  input.select();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = input.value.trim();
    if (!name) {
      ctx.ui.formErrors(form, { fields: { name: ["Enter a name."] } });
      return;
    }
    const button = form.querySelector("[type=submit]");
    button.disabled = true;
    try {
      await ctx.api("PATCH", `${DEVICES}/${encodeURIComponent(device.device_id)}`,
                    { json: { name } });
      close();
      ctx.ui.toast(`Renamed to “${name}”.`);
      await done?.();
    } catch (error) {
      button.disabled = false;
      ctx.ui.formErrors(form, { ...error, message: plainError(error) });
    }
  });
}

/** Revoke ``device`` after a confirmation; ``done()`` after it. */
export async function revokeDevice(ctx, device, done) {
  if (!await ctx.ui.confirmDialog(`Revoke “${device.name}”? The screen is refused by the `
    + "cloud at once and stops syncing. It keeps playing what it has; to link it again, use "
    + "a new code.", { confirmLabel: "Revoke" })) return;
  try {
    await ctx.api("DELETE", `${DEVICES}/${encodeURIComponent(device.device_id)}`);
    ctx.ui.toast(`“${device.name}” was revoked.`);
    await done?.();
  } catch (error) {
    ctx.ui.toast(`“${device.name}” could not be revoked: ${plainError(error)}`, { kind: "error" });
  }
}

/** Queue a command for ``device``: next, previous, reload, restart, or show one of its assets. */
export function openCommandDialog(ctx, device) {
  const { h, replaceChildren } = ctx.ui;
  const result = h("p", { class: "muted", role: "status" });
  const assetSelect = h("select", { name: "asset_id", disabled: true },
    h("option", { value: "" }, "Loading the screen's assets…"));
  const showButton = h("button", { type: "submit", class: "btn btn-primary", disabled: true },
    "Show it now");
  const showForm = h("form", { class: "command-asset", novalidate: true },
    ctx.ui.field("Show an asset of this screen", assetSelect), showButton);
  const content = h("div", { class: "command-dialog" },
    h("p", { class: "hint" }, "The screen runs a command when it next syncs, within about "
      + "30 seconds."),
    h("div", { class: "command-buttons" }, COMMANDS.map(([command, label]) =>
      h("button", { type: "button", class: "btn", dataset: { command },
                    onclick: () => send(command, label) }, label))),
    showForm, result);
  ctx.ui.openDialog(`Command for “${device.name}”`, content);

  showForm.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!assetSelect.value) return;
    const name = assetSelect.selectedOptions[0]?.textContent || assetSelect.value;
    send("show_asset", `Show “${name}”`, { asset_id: assetSelect.value });
  });

  (async () => {
    try {
      const page = await ctx.api("GET",
        `${DEVICES}/${encodeURIComponent(device.device_id)}/inventory`);
      const items = (page.items || []).filter((asset) => asset.is_enabled !== false);
      if (!items.length) {
        replaceChildren(assetSelect, h("option", { value: "" }, "The screen reported no assets"));
        return;
      }
      replaceChildren(assetSelect, items.map((asset) =>
        h("option", { value: asset.asset_id }, asset.name || asset.asset_id)));
      assetSelect.disabled = false;
      showButton.disabled = false;
    } catch (error) {
      replaceChildren(assetSelect, h("option", { value: "" }, "The assets could not be read"));
      result.textContent = plainError(error);
    }
  })();

  async function send(command, label, args = undefined) {
    if (command === "reboot" && !await ctx.ui.confirmDialog(`Restart “${device.name}”? `
      + "The screen goes dark for a minute or two.", { confirmLabel: "Restart" })) return;
    const buttons = content.querySelectorAll("button");
    for (const button of buttons) button.disabled = true;
    result.className = "muted";
    try {
      await ctx.api("POST", `${DEVICES}/${encodeURIComponent(device.device_id)}/commands`,
                    { json: args ? { command, args } : { command } });
      result.className = "notice";
      result.textContent = `${label}: sent. The screen runs it at its next sync.`;
    } catch (error) {
      result.className = "form-error";
      result.textContent = `${label}: ${plainError(error)}`;
    } finally {
      for (const button of buttons) button.disabled = false;
      showButton.disabled = assetSelect.disabled;
    }
  }
}
