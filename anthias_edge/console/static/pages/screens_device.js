// One screen: its facts, what it has (the inventory it last pushed) and what it played.

import {
  DEVICES, bytes, connection, connectionLabel, onScreen, plainError, relative,
} from "./screens_api.js";
import { openCommandDialog, openRenameDialog, revokeDevice } from "./screens_list.js";

const PLAYS_SHOWN = 50;

export async function render(root, ctx, deviceId) {
  const { h, replaceChildren } = ctx.ui;
  const ui = ctx.ui;
  const path = `${DEVICES}/${encodeURIComponent(deviceId)}`;
  let device;
  try {
    device = await ctx.api("GET", path);
  } catch (error) {
    if (error.code === "session_ended") return;
    replaceChildren(root, ui.pageHeader("Screen"),
      h("p", { class: "form-error", role: "alert" }, error.status === 404
        ? "No such screen in your organisation. It may have been removed."
        : plainError(error)),
      h("p", {}, h("a", { href: "#/screens" }, "Back to all screens")));
    return;
  }
  const key = connection(device);
  const manage = ctx.can("devices.manage") && key !== "revoked";
  const again = () => render(root, ctx, deviceId);
  const actions = manage ? [
    h("button", { type: "button", class: "btn btn-primary", "data-action": "command",
                  onclick: () => openCommandDialog(ctx, device) }, "Command"),
    h("button", { type: "button", class: "btn", "data-action": "rename",
                  onclick: () => openRenameDialog(ctx, device, again) }, "Rename"),
    h("button", { type: "button", class: "btn btn-danger-quiet", "data-action": "revoke",
                  onclick: () => revokeDevice(ctx, device, again) }, "Revoke"),
  ] : [];
  const when = (iso) => (iso ? `${relative(iso, ui)} (${ui.formatDate(iso)})` : "never");
  const facts = [
    ["State", h("span", { class: `badge conn conn-${key}` }, connectionLabel(key))],
    ["Last seen", when(device.last_seen_at)],
    ["Last play", when(device.last_play_at)],
    ["On screen now", onScreen(device) || "—"],
    ["Software", device.software_version || "—"],
    ["Address", device.address || "—"],
    ["Free disk", bytes(device.free_disk_bytes) || "—"],
    ["Linked", `${ui.formatDate(device.created_at)}${device.linked_via
      ? ` (${{ code: "pairing code", fleet_token: "fleet token",
                device_code: "code shown on the screen" }[device.linked_via]
                || device.linked_via})` : ""}`],
  ];
  if (device.revoked_at) facts.push(["Revoked", ui.formatDate(device.revoked_at)]);
  const inventory = h("div", { "aria-busy": "true" }, h("p", { class: "muted" }, "Loading…"));
  const plays = h("div", { "aria-busy": "true" }, h("p", { class: "muted" }, "Loading…"));
  replaceChildren(root,
    h("p", { class: "back" }, h("a", { href: "#/screens" }, "← All screens")),
    ui.pageHeader(device.name, actions),
    h("section", { class: "card", "aria-labelledby": "screen-facts" },
      h("h2", { id: "screen-facts", class: "visually-hidden" }, "Facts"),
      h("dl", { class: "facts" }, facts.flatMap(([label, value]) =>
        [h("dt", {}, label), h("dd", {}, value)]))),
    h("section", { class: "card", "aria-labelledby": "screen-inventory" },
      h("h2", { id: "screen-inventory" }, "Content on this screen"), inventory),
    h("section", { class: "card", "aria-labelledby": "screen-plays" },
      h("h2", { id: "screen-plays" }, "Recent plays"), plays));

  const [assets, played] = await Promise.allSettled([
    ctx.api("GET", `${path}/inventory`),
    ctx.api("GET", `${path}/plays`, { query: { limit: PLAYS_SHOWN } }),
  ]);
  inventory.removeAttribute("aria-busy");
  plays.removeAttribute("aria-busy");
  if (assets.status === "rejected") {
    replaceChildren(inventory, h("p", { class: "form-error", role: "alert" },
      plainError(assets.reason)));
  } else if (!(assets.value.items || []).length) {
    replaceChildren(inventory, ui.emptyState("The screen has reported no content yet."));
  } else {
    replaceChildren(inventory, table(["Name", "Type", "Duration", "Enabled", "Shared"],
      assets.value.items.map((asset) => [
        asset.name || asset.asset_id, asset.mimetype || "—",
        asset.duration ? `${asset.duration} s` : "—",
        asset.is_enabled ? "yes" : "no", asset.is_shared ? "yes" : "no"])));
  }
  if (played.status === "rejected") {
    replaceChildren(plays, h("p", { class: "form-error", role: "alert" },
      plainError(played.reason)));
  } else if (!(played.value.items || []).length) {
    replaceChildren(plays, ui.emptyState("No plays reported yet."));
  } else {
    replaceChildren(plays, table(["When", "Asset", "Seconds"],
      played.value.items.map((play) => [
        ui.formatDate(play.started_at), play.asset_name || play.asset_id,
        play.duration_s === null || play.duration_s === undefined ? "—"
          : String(Math.round(play.duration_s))])),
    h("p", {}, h("a", { href: "#/screens/report" }, "Proof-of-play report")));
  }

  function table(headings, rows) {
    return h("div", { class: "table-scroll" }, h("table", { class: "data-table" },
      h("thead", {}, h("tr", {}, headings.map((title) => h("th", { scope: "col" }, title)))),
      h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((value, index) =>
        h("td", { "data-label": headings[index] }, value)))))));
  }
}
