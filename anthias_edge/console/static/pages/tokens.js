// API tokens: scripts' keys to the v3 API. Create one with chosen permissions and an expiry,
// see its secret once (with a copy button), revoke it. A token never holds a permission its
// creator lacks, so only the signed-in user's own permissions are offered.

import { fieldErrors, loadDirectory, permissionLabel, sortPermissions } from "./directory.js";

const EXPIRY = [
  ["30", "In 30 days"], ["7", "In 7 days"], ["90", "In 90 days"], ["365", "In a year"],
  ["date", "On a date…"], ["never", "Never"],
];
const DAY_MS = 24 * 60 * 60 * 1000;
const SECRET_START = "ae_";

export async function render(root, ctx) {
  const { h } = ctx.ui;
  const state = { adding: false, secret: null };
  let directory = await loadDirectory(ctx);

  const refresh = async (message) => {
    directory = await loadDirectory(ctx);
    draw();
    if (message) ctx.ui.toast(message);
  };

  function draw() {
    const add = h("button", { type: "button", class: "btn btn-primary", "data-action": "add-token",
      "aria-expanded": String(state.adding),
      onclick: () => {
        state.adding = !state.adding;
        state.secret = null;
        draw();
        root.querySelector("[data-editor] input")?.focus();
      } }, "Create token");
    const children = [ctx.ui.pageHeader("API tokens", [add]),
      h("p", { class: "lead" }, "Scripts and other programs use an API token instead of a " +
        "password. Each token can do only what you tick, until it expires or is revoked.")];
    if (state.secret) children.push(secretPanel(state.secret));
    if (state.adding) children.push(createForm());
    if (!directory.tokens.length) {
      children.push(ctx.ui.emptyState(
        "No API tokens yet. Create one for each script that talks to the API.",
        state.adding ? null : { label: "Create token", onclick: () => add.click() }));
    } else {
      children.push(h("ul", { class: "token-list", "aria-label": "API tokens" },
        ...directory.tokens.map(tokenItem)));
    }
    root.replaceChildren(...children);
    if (state.secret) root.querySelector("[data-secret] button")?.focus();
  }

  function createForm() {
    const mine = sortPermissions(ctx.user.permissions);
    const dateInput = h("input", { type: "date", name: "expires_on", id: "token-expires-on",
      min: localDate(new Date(Date.now() + DAY_MS)) });
    const dateField = h("div", { class: "field", "data-error-for": "expires_at", hidden: true },
      h("label", { for: "token-expires-on" }, "Expiry date"), dateInput);
    const expiry = h("select", { name: "expiry", id: "token-expiry" },
      ...EXPIRY.map(([value, label]) => h("option", { value }, label)));
    expiry.addEventListener("change", () => {
      dateField.hidden = expiry.value !== "date";
    });
    const form = h("form", { class: "card form", "data-editor": "token", novalidate: true },
      h("h2", {}, "Create an API token"),
      h("div", { class: "field", "data-field": "name" },
        h("label", { for: "token-name" }, "Name"),
        h("input", { id: "token-name", name: "name", required: true, maxlength: "100",
          autocomplete: "off", "aria-describedby": "token-name-hint" }),
        h("p", { class: "hint", id: "token-name-hint" },
          "Say what uses it, e.g. “lobby screen script”.")),
      h("fieldset", { class: "field", "data-field": "permissions" },
        h("legend", {}, "Permissions"),
        h("div", { class: "check-grid" }, ...mine.map((name) => h("label", { class: "check" },
          h("input", { type: "checkbox", name: "permissions", value: name,
            checked: name === "assets.view" }),
          ` ${permissionLabel(name)}`)))),
      h("div", { class: "field", "data-field": "expiry" },
        h("label", { for: "token-expiry" }, "Expires"), expiry),
      dateField,
      h("div", { class: "form-actions" },
        h("button", { type: "submit", class: "btn btn-primary" }, "Create token"),
        h("button", { type: "button", class: "btn",
          onclick: () => {
            state.adding = false;
            draw();
            root.querySelector('[data-action="add-token"]')?.focus();
          } }, "Cancel")));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const json = {
        name: form.elements.name.value,
        permissions: Array.from(form.querySelectorAll("input[name=permissions]:checked"),
          (box) => box.value),
        expires_at: expiresAt(expiry.value, dateInput.value),
      };
      if (expiry.value === "date" && !dateInput.value) {
        ctx.ui.formErrors(form, { fields: { expires_at: ["Choose a date."] } });
        return;
      }
      const button = form.querySelector("[type=submit]");
      button.disabled = true;
      try {
        const created = await ctx.api("POST", "/api/v3/tokens", { json });
        state.adding = false;
        state.secret = { name: created.name, token: created.token };
        await refresh(`Token “${created.name}” was created.`);
      } catch (error) {
        button.disabled = false;
        const fields = fieldErrors(error);
        if (error.code === "permission_denied" && error.details?.permissions) {
          fields.permissions = [error.message];
        }
        if (Object.keys(fields).length) ctx.ui.formErrors(form, { ...error, fields });
        else ctx.ui.formErrors(form, error);
      }
    });
    return form;
  }

  function secretPanel(secret) {
    const value = h("input", { id: "token-secret", readonly: true, value: secret.token,
      class: "secret", spellcheck: "false", "aria-describedby": "token-secret-hint" });
    const copy = h("button", { type: "button", class: "btn btn-primary", "data-action": "copy",
      onclick: async () => {
        value.focus();
        value.select();
        if (await copySelected(value.value)) ctx.ui.toast("Copied to the clipboard.");
        // Without clipboard access the text stays selected for Ctrl+C or a long press.
        else ctx.ui.toast("Press Ctrl+C (or long-press and Copy) to copy the selected token.");
      } }, "Copy");
    return h("section", { class: "card secret-panel", "data-secret": "", role: "region",
      "aria-labelledby": "token-secret-title" },
      h("h2", { id: "token-secret-title" }, `Your new token “${secret.name}”`),
      h("p", { id: "token-secret-hint" }, "Copy it now and keep it somewhere safe: it is " +
        "shown only this once. Scripts send it as Authorization: Bearer <token>."),
      h("div", { class: "secret-row" },
        h("label", { for: "token-secret", class: "visually-hidden" }, "Token"), value, copy),
      h("button", { type: "button", class: "btn", "data-action": "done",
        onclick: () => {
          state.secret = null;
          draw();
          root.querySelector('[data-action="add-token"]')?.focus();
        } }, "I have copied it"));
  }

  function tokenItem(token) {
    const status = tokenStatus(token);
    const dates = [
      `created ${formatOr(ctx, token.created_at, "—")}`,
      token.revoked_at ? `revoked ${ctx.ui.formatDate(token.revoked_at)}`
        : `expires ${formatOr(ctx, token.expires_at, "never")}`,
      `last used ${formatOr(ctx, token.last_used_at, "never")}`,
    ];
    const item = h("li", { class: `card token ${status}`, "data-token": token.name },
      h("div", { class: "person-head" },
        h("h2", { class: "person-name" }, token.name),
        h("div", { class: "badges" }, h("span", { class: `badge ${status}` }, status))),
      h("p", { class: "meta" }, h("code", {}, `${shownPrefix(token.prefix)}…`), ` · by ${directory.name(
        token.user_id)}`),
      h("p", { class: "meta" }, dates.join(" · ")),
      h("ul", { class: "chips", "aria-label": "Permissions" },
        ...sortPermissions(token.permissions).map((name) => h("li", { class: "chip" },
          permissionLabel(name)))));
    if (status === "active") {
      item.append(h("div", { class: "actions" },
        h("button", { type: "button", class: "btn btn-danger", "data-action": "revoke",
          onclick: () => revoke(token) }, "Revoke")));
    }
    return item;
  }

  async function revoke(token) {
    if (!await ctx.ui.confirmDialog(`Revoke “${token.name}”? Scripts using it stop ` +
      "working at once.", { confirmLabel: "Revoke" })) return;
    try {
      await ctx.api("DELETE", `/api/v3/tokens/${encodeURIComponent(token.id)}`);
      await refresh(`Token “${token.name}” was revoked.`);
      // Its Revoke button is gone: focus stays on the token, now marked revoked.
      const heading = root.querySelector(`[data-token="${CSS.escape(token.name)}"] h2`);
      if (heading) {
        heading.tabIndex = -1;
        heading.focus();
      }
    } catch (error) {
      ctx.ui.toast(error.message || "The token could not be revoked.", { kind: "error" });
    }
  }

  draw();
}

// The Clipboard API exists only on HTTPS (and localhost); elsewhere the selection is copied
// the older way, which a click still allows.
async function copySelected(text) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      // fall through to the selection
    }
  }
  try {
    return document.execCommand("copy");
  } catch {
    return false;
  }
}

function tokenStatus(token) {
  if (token.revoked_at) return "revoked";
  if (token.expires_at && Date.parse(token.expires_at) <= Date.now()) return "expired";
  return "active";
}

// How the token's secret begins, as the user saw it when it was made ("ae_1a2b…").
function shownPrefix(prefix) {
  return prefix.startsWith(SECRET_START) ? prefix : `${SECRET_START}${prefix}`;
}

function formatOr(ctx, iso, fallback) {
  return iso ? ctx.ui.formatDate(iso) : fallback;
}

// YYYY-MM-DD of a date in the user's time zone (what <input type=date> speaks).
function localDate(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

// The expiry as ISO-8601 UTC: some days from now, the end of a chosen local day, or null.
function expiresAt(choice, day) {
  if (choice === "never") return null;
  if (choice === "date") {
    if (!day) return null;
    const [y, m, d] = day.split("-").map(Number);
    return new Date(y, m - 1, d, 23, 59, 59).toISOString(); // the end of that local day
  }
  return new Date(Date.now() + Number(choice) * DAY_MS).toISOString();
}
