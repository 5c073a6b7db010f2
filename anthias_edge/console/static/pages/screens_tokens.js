// Fleet tokens: one secret many new screens enrol with (from a file on their SD card), up to
// a number of screens and until a date. The secret is shown once, with a copy button.

import { FLEET_TOKENS, copyInput, plainError } from "./screens_api.js";

const DAY_MS = 24 * 60 * 60 * 1000;
const EXPIRY = [["7", "In 7 days"], ["1", "Tomorrow"], ["30", "In 30 days"], ["90", "In 90 days"],
                ["date", "On a date…"]];
const TOKEN_FILE = "/boot/firmware/anthias-fleet.token";

export async function render(root, ctx) {
  const { h, replaceChildren } = ctx.ui;
  const ui = ctx.ui;
  const manage = ctx.can("devices.manage");
  const state = { adding: false, secret: null, tokens: [], error: null };
  await load();

  async function load() {
    try {
      const page = await ctx.api("GET", FLEET_TOKENS);
      state.tokens = page.items || [];
      state.error = null;
    } catch (error) {
      if (error.code === "session_ended") return;
      state.error = plainError(error);
    }
    draw();
  }

  function draw() {
    const add = manage ? h("button", { type: "button", class: "btn btn-primary",
      "data-action": "add-fleet-token", "aria-expanded": String(state.adding),
      onclick: () => { state.adding = !state.adding; state.secret = null; draw();
                       root.querySelector("[data-editor] input")?.focus(); } },
    "Create a fleet token") : null;
    const children = [ui.pageHeader("Fleet tokens", add ? [add] : []),
      h("p", { class: "hint page-intro" }, "A fleet token links many screens without typing "
        + "a code on each: put it in the file ", h("code", {}, TOKEN_FILE),
        " of a screen's SD card and the screen links itself at its first start, then deletes "
        + "the file. Each token links at most its number of screens, until it expires.")];
    if (state.secret) children.push(secretPanel(state.secret));
    if (state.adding) children.push(createForm());
    if (state.error) {
      children.push(h("p", { class: "form-error", role: "alert" }, state.error));
    } else if (!state.tokens.length) {
      children.push(ui.emptyState("No fleet tokens yet.", manage && !state.adding
        ? { label: "Create a fleet token", onclick: () => add.click() } : null));
    } else {
      children.push(h("ul", { class: "token-list", "aria-label": "Fleet tokens" },
        state.tokens.map(item)));
    }
    replaceChildren(root, ...children);
    if (state.secret) root.querySelector("[data-secret] [data-action=copy]")?.focus();
  }

  function createForm() {
    const name = h("input", { id: "fleet-token-name", name: "name", required: true,
                              maxlength: "100", autocomplete: "off" });
    const cap = h("input", { id: "fleet-token-cap", name: "max_devices", type: "number",
                             min: "1", max: "10000", step: "1", value: "10", required: true,
                             inputmode: "numeric" });
    const expiry = h("select", { id: "fleet-token-expiry", name: "expiry" },
      EXPIRY.map(([value, label]) => h("option", { value }, label)));
    const date = h("input", { id: "fleet-token-date", name: "expires_on", type: "date",
                              min: localDate(new Date(Date.now() + DAY_MS)) });
    const dateField = h("div", { class: "field", "data-error-for": "expires_at", hidden: true },
      h("label", { for: "fleet-token-date" }, "Expiry date"), date);
    expiry.addEventListener("change", () => { dateField.hidden = expiry.value !== "date"; });
    const form = h("form", { class: "card form", "data-editor": "fleet-token", novalidate: true },
      h("h2", {}, "Create a fleet token"),
      ui.field("Name", name, "Say what it is for, e.g. “shop roll-out, March”."),
      ui.field("Screens it may link", cap),
      ui.field("Expires", expiry),
      dateField,
      h("div", { class: "form-actions" },
        h("button", { type: "submit", class: "btn btn-primary" }, "Create the token"),
        h("button", { type: "button", class: "btn",
                      onclick: () => { state.adding = false; draw(); } }, "Cancel")));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const missing = {};
      if (!name.value.trim()) missing.name = ["Enter a name."];
      const count = Number(cap.value);
      if (!Number.isInteger(count) || count < 1) missing.max_devices = ["Enter a whole number, 1 or more."];
      if (expiry.value === "date" && !date.value) missing.expires_at = ["Choose a date."];
      if (Object.keys(missing).length) {
        ui.formErrors(form, { fields: missing });
        return;
      }
      const button = form.querySelector("[type=submit]");
      button.disabled = true;
      try {
        const created = await ctx.api("POST", FLEET_TOKENS, { json: {
          name: name.value.trim(), max_devices: count,
          expires_at: expiresAt(expiry.value, date.value) } });
        state.adding = false;
        state.secret = { name: created.name, token: created.token };
        ui.toast(`Fleet token “${created.name}” was created.`);
        await load();
      } catch (error) {
        button.disabled = false;
        ui.formErrors(form, { ...error, message: plainError(error) });
      }
    });
    return form;
  }

  function secretPanel(secret) {
    const value = h("input", { id: "fleet-token-secret", readonly: true, value: secret.token,
                               class: "secret", spellcheck: "false" });
    const fileText = `token=${secret.token}\ncloud=${location.origin}\n`;
    const file = h("textarea", { id: "fleet-token-file", readonly: true, rows: "4",
                                 class: "secret", spellcheck: "false" }, fileText);
    return h("section", { class: "card secret-panel", "data-secret": "", role: "region",
                          "aria-labelledby": "fleet-secret-title" },
      h("h2", { id: "fleet-secret-title" }, `Your new fleet token “${secret.name}”`),
      h("p", {}, "Copy it now: it is shown only this once."),
      h("div", { class: "secret-row" },
        h("label", { for: "fleet-token-secret", class: "visually-hidden" }, "Fleet token"),
        value,
        h("button", { type: "button", class: "btn btn-primary", "data-action": "copy",
                      onclick: () => copyInput(ctx, value, "Token") }, "Copy")),
      h("div", { class: "field" },
        h("label", { for: "fleet-token-file" }, `The file ${TOKEN_FILE}, ready to paste`), file,
        h("div", {}, h("button", { type: "button", class: "btn btn-small",
                                   onclick: () => copyInput(ctx, file, "File text") },
          "Copy the file text"))),
      h("button", { type: "button", class: "btn", "data-action": "done",
                    onclick: () => { state.secret = null; draw(); } }, "I have copied it"));
  }

  function item(token) {
    const status = tokenStatus(token);
    const used = Number(token.used_count || 0);
    const cap = Number(token.max_devices || 0);
    const fill = h("span", { class: "bar-fill" });
    fill.style.width = `${percent(used, cap)}%`; // CSSOM: the CSP refuses style attributes
    const li = h("li", { class: `card token ${status}`, dataset: { fleetToken: token.name } },
      h("div", { class: "person-head" },
        h("h2", { class: "person-name" }, token.name),
        h("div", { class: "badges" }, h("span", { class: `badge ${status}` },
          { active: "active", revoked: "revoked", expired: "expired",
            used_up: "used up" }[status] || status))),
      h("p", { class: "meta" }, h("span", { "data-used": "" }, `${used} of ${cap} screens linked`),
        token.prefix ? [" · ", h("code", {}, `${token.prefix}…`)] : null),
      h("div", { class: `usage ${used >= cap ? "full" : ""}` }, h("div", { class: "bar",
        role: "progressbar", "aria-label": "Screens linked", "aria-valuemin": "0",
        "aria-valuemax": String(cap), "aria-valuenow": String(Math.min(used, cap)) }, fill)),
      h("p", { class: "meta" }, [
        `created ${ui.formatDate(token.created_at)}`,
        token.revoked_at ? `revoked ${ui.formatDate(token.revoked_at)}`
          : `expires ${ui.formatDate(token.expires_at)}`].join(" · ")));
    if (manage && status !== "revoked") {
      li.append(h("div", { class: "actions" },
        h("button", { type: "button", class: "btn btn-danger", "data-action": "revoke",
                      "aria-label": `Revoke “${token.name}”`, onclick: () => revoke(token) },
          "Revoke")));
    }
    return li;
  }

  async function revoke(token) {
    if (!await ui.confirmDialog(`Revoke “${token.name}”? Screens not yet linked with it are `
      + "refused; screens already linked stay linked.", { confirmLabel: "Revoke" })) return;
    try {
      await ctx.api("DELETE", `${FLEET_TOKENS}/${encodeURIComponent(token.token_id)}`);
      ui.toast(`Fleet token “${token.name}” was revoked.`);
      await load();
    } catch (error) {
      ui.toast(`The token could not be revoked: ${plainError(error)}`, { kind: "error" });
    }
  }
}

function tokenStatus(token) {
  if (token.state) return token.state;
  if (token.revoked_at) return "revoked";
  if (token.expires_at && Date.parse(token.expires_at) <= Date.now()) return "expired";
  if (Number(token.used_count) >= Number(token.max_devices)) return "used_up";
  return "active";
}

function percent(used, cap) {
  return cap ? Math.min(100, Math.round((100 * used) / cap)) : 0;
}

function localDate(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

function expiresAt(choice, day) {
  if (choice === "date") {
    const [y, m, d] = day.split("-").map(Number);
    return new Date(y, m - 1, d, 23, 59, 59).toISOString();
  }
  return new Date(Date.now() + Number(choice) * DAY_MS).toISOString();
}
