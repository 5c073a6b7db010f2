// Activity: the organisation's audit log, newest first, filtered by who, what and when, a
// page at a time ("Show more" follows the API's cursor).

import { loadDirectory } from "./directory.js";

const PAGE_SIZE = 50;
export const ACTIONS = {
  "asset.create": "Added content",
  "asset.update": "Changed content",
  "asset.delete": "Deleted content",
  "assets.import": "Imported content",
  "auth.login": "Signed in",
  "auth.logout": "Signed out",
  "auth.refresh_reuse": "Reused an old session (session ended)",
  "tenant.create": "Created the organisation",
  "tenant.update": "Changed the organisation",
  "token.create": "Created an API token",
  "token.revoke": "Revoked an API token",
  "user.create": "Added a person",
  "user.update": "Changed a person",
  "user.delete": "Deleted a person",
};

export async function render(root, ctx) {
  const { h } = ctx.ui;
  const directory = await loadDirectory(ctx);
  const filters = { actor: "", action: "", since: "", until: "" };
  let entries = [];
  let next = null;

  const list = h("ol", { class: "activity-list", "aria-label": "Activity" });
  const more = h("button", { type: "button", class: "btn", "data-action": "more",
    onclick: () => load(true) }, "Show more");
  const status = h("p", { class: "visually-hidden", role: "status", "aria-live": "polite" });
  // aria-busy while a page of entries is on its way: assistive technology (and the tests)
  // know when the list shown matches the filters.
  const results = h("div", { class: "activity-results", "aria-busy": "true" });

  const form = h("form", { class: "card activity-filters", role: "search", "aria-label": "Filter activity",
    novalidate: true },
    h("div", { class: "filter-grid" },
      h("div", { class: "field", "data-field": "actor" },
        h("label", { for: "activity-actor" }, "Who"),
        h("select", { id: "activity-actor", name: "actor" },
          h("option", { value: "" }, "Anyone"),
          // Without users.view the list of people is unknown: offer at least oneself.
          ...(directory.people.length ? directory.people : [ctx.user]).map((user) =>
            h("option", { value: user.id }, user.username)),
          ...directory.tokens.map((token) => h("option", { value: token.id },
            directory.name(token.id))),
          h("option", { value: "system" }, "System"))),
      h("div", { class: "field", "data-field": "action" },
        h("label", { for: "activity-action" }, "What"),
        h("select", { id: "activity-action", name: "action" },
          h("option", { value: "" }, "Everything"),
          ...Object.entries(ACTIONS).map(([value, label]) => h("option", { value }, label)))),
      h("div", { class: "field", "data-field": "since" },
        h("label", { for: "activity-since" }, "From"),
        h("input", { id: "activity-since", name: "since", type: "date" })),
      h("div", { class: "field", "data-field": "until" },
        h("label", { for: "activity-until" }, "To"),
        h("input", { id: "activity-until", name: "until", type: "date" }))),
    h("div", { class: "form-actions" },
      h("button", { type: "submit", class: "btn btn-primary" }, "Apply filters"),
      h("button", { type: "reset", class: "btn" }, "Clear")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    Object.assign(filters, Object.fromEntries(new FormData(form)));
    load(false);
  });
  form.addEventListener("reset", () => {
    results.setAttribute("aria-busy", "true");
    // After the browser has emptied the fields.
    setTimeout(() => {
      Object.assign(filters, { actor: "", action: "", since: "", until: "" });
      load(false);
    });
  });

  root.replaceChildren(ctx.ui.pageHeader("Activity", []), form, status, results);

  async function load(append) {
    const query = { limit: PAGE_SIZE };
    if (filters.actor) query.actor = filters.actor;
    if (filters.action) query.action = filters.action;
    if (filters.since) query.since = startOfLocalDay(filters.since, 0);
    if (filters.until) query.until = startOfLocalDay(filters.until, 1);
    if (append && next) query.cursor = next;
    more.disabled = true;
    results.setAttribute("aria-busy", "true");
    try {
      const body = await ctx.api("GET", "/api/v3/audit-log", { query });
      entries = append ? entries.concat(body.items) : body.items;
      next = body.next_cursor;
      ctx.ui.clearFormErrors(form);
      draw(append ? body.items : null);
    } catch (error) {
      ctx.ui.formErrors(form, error);
    } finally {
      more.disabled = false;
      results.setAttribute("aria-busy", "false");
    }
  }

  function draw(added) {
    const filtered = Object.values(filters).some(Boolean);
    if (!entries.length) {
      results.replaceChildren(ctx.ui.emptyState(filtered
        ? "Nothing matches these filters. Widen the dates or choose Clear to see everything."
        : "Nothing has happened yet. Actions people take (adding content, people or tokens, " +
          "signing in) appear here."));
      status.textContent = "No entries.";
      return;
    }
    if (added) list.append(...added.map(entryItem));
    else list.replaceChildren(...entries.map(entryItem));
    results.replaceChildren(list);
    if (next) results.append(more);
    status.textContent = `${entries.length} entries shown${next ? ", more available" : ""}.`;
    if (added && added.length) list.children[entries.length - added.length]
      ?.querySelector("[tabindex]")?.focus();
  }

  function entryItem(entry) {
    const when = entry.at ? ctx.ui.formatDate(entry.at) : "";
    return h("li", { class: "card entry", "data-action": entry.action },
      h("p", { class: "entry-what", tabindex: "-1" },
        h("strong", {}, directory.name(entry.actor)), " ",
        ACTIONS[entry.action] || entry.action),
      entry.summary ? h("p", { class: "entry-summary" }, entry.summary) : "",
      h("p", { class: "meta" },
        h("time", { datetime: entry.at || "" }, when),
        entry.ip ? ` · from ${entry.ip}` : ""));
  }

  await load(false);
}

// A local calendar day as the ISO-8601 UTC instant its start falls on, ``days`` later.
function startOfLocalDay(day, days) {
  const [y, m, d] = day.split("-").map(Number);
  return new Date(y, m - 1, d + days).toISOString();
}
