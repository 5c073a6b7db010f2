// Organisation: its name and custom domain (editable with tenant.edit), its plan, and what
// it uses against each limit the plan sets, as bars. Plans and billing come later; this page
// shows whatever GET /api/v3/tenant reports.

import { fieldErrors } from "./directory.js";

// Each limit the API reports, with the usage figure it is measured against (if any yet).
const LIMITS = [
  { limit: "max_assets", usage: "assets", label: "Content" },
  { limit: "max_devices", usage: "devices", label: "Screens" },
  { limit: "storage_quota_gb", usage: "storage_gb", label: "Storage", unit: "GB" },
];
// Usage the plan does not limit, shown as plain counts.
const COUNTS = [
  { usage: "users", label: "People" },
  { usage: "api_tokens", label: "Live API tokens" },
];

export async function render(root, ctx) {
  const { h } = ctx.ui;
  let tenant = await ctx.api("GET", "/api/v3/tenant");

  function draw() {
    root.replaceChildren(
      ctx.ui.pageHeader("Organisation", []),
      ctx.can("tenant.edit") ? detailsForm() : detailsList(),
      usageCard());
  }

  function detailsList() {
    return h("section", { class: "card", "aria-labelledby": "org-details" },
      h("h2", { id: "org-details" }, "Details"),
      h("dl", { class: "facts" },
        h("dt", {}, "Name"), h("dd", { "data-fact": "name" }, tenant.name),
        h("dt", {}, "Subdomain"), h("dd", {}, tenant.subdomain),
        h("dt", {}, "Custom domain"),
        h("dd", { "data-fact": "custom_domain" }, tenant.custom_domain || "None"),
        h("dt", {}, "Created"),
        h("dd", {}, tenant.created_at ? ctx.ui.formatDate(tenant.created_at) : "—")));
  }

  function detailsForm() {
    const form = h("form", { class: "card form", "aria-labelledby": "org-details",
      novalidate: true },
      h("h2", { id: "org-details" }, "Details"),
      h("div", { class: "field", "data-field": "name" },
        h("label", { for: "org-name" }, "Name"),
        h("input", { id: "org-name", name: "name", value: tenant.name, required: true,
          maxlength: "200", autocomplete: "organization" })),
      h("div", { class: "field", "data-field": "custom_domain" },
        h("label", { for: "org-domain" }, "Custom domain"),
        h("input", { id: "org-domain", name: "custom_domain", value: tenant.custom_domain || "",
          maxlength: "253", autocomplete: "off", spellcheck: "false", inputmode: "url",
          placeholder: "signage.example.com", "aria-describedby": "org-domain-hint" }),
        h("p", { class: "hint", id: "org-domain-hint" },
          "Optional: a host name of your own whose DNS points at this service. People " +
          `can always sign in at the subdomain ${tenant.subdomain}. Leave empty to remove it.`)),
      h("p", { class: "meta" }, `Created ${tenant.created_at
        ? ctx.ui.formatDate(tenant.created_at) : "—"}`),
      h("div", { class: "form-actions" },
        h("button", { type: "submit", class: "btn btn-primary" }, "Save")));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const domain = form.elements.custom_domain.value.trim().toLowerCase();
      const json = { name: form.elements.name.value, custom_domain: domain || null };
      const button = form.querySelector("[type=submit]");
      button.disabled = true;
      try {
        tenant = await ctx.api("PATCH", "/api/v3/tenant", { json });
        draw();
        ctx.ui.toast("The organisation was saved.");
      } catch (error) {
        button.disabled = false;
        ctx.ui.formErrors(form, { ...error, fields: fieldErrors(error) });
      }
    });
    return form;
  }

  function usageCard() {
    const limits = tenant.limits || {};
    const usage = tenant.usage || {};
    const rows = LIMITS.filter((item) => limits[item.limit] !== undefined).map((item) => {
      const limit = limits[item.limit];
      const used = usage[item.usage];
      const unit = item.unit ? ` ${item.unit}` : "";
      const id = `usage-${item.limit}`;
      if (used === undefined) {
        return h("div", { class: "usage", "data-usage": item.limit },
          h("p", { class: "usage-label", id }, h("strong", {}, item.label),
            ` up to ${limit.toLocaleString()}${unit}`));
      }
      const share = limit > 0 ? Math.min(100, Math.round((used / limit) * 100)) : 100;
      const level = share >= 100 ? "full" : share >= 80 ? "high" : "ok";
      // Set through CSSOM: the console's CSP refuses style attributes in markup.
      const fill = h("span", { class: "bar-fill" });
      fill.style.width = `${share}%`;
      return h("div", { class: `usage ${level}`, "data-usage": item.limit },
        h("p", { class: "usage-label", id },
          h("strong", {}, item.label),
          ` ${used.toLocaleString()} of ${limit.toLocaleString()}${unit} (${share}%)`),
        h("div", { class: "bar", role: "progressbar", "aria-labelledby": id,
          "aria-valuemin": "0", "aria-valuemax": String(limit),
          "aria-valuenow": String(Math.min(used, limit)) },
          fill),
        level !== "ok" ? h("p", { class: "hint" }, share >= 100
          ? `The limit is reached: nothing more can be added.`
          : "Nearly at the limit.") : "");
    });
    const counts = COUNTS.filter((item) => usage[item.usage] !== undefined).map((item) =>
      [h("dt", {}, item.label), h("dd", { "data-count": item.usage },
        usage[item.usage].toLocaleString())]).flat();
    return h("section", { class: "card", "aria-labelledby": "org-plan" },
      h("h2", { id: "org-plan" }, "Plan and usage"),
      h("p", {}, "Plan: ", h("strong", { "data-fact": "plan" }, planName(tenant.plan_type))),
      ...rows,
      counts.length ? h("dl", { class: "facts" }, ...counts) : "");
  }

  draw();
}

function planName(plan) {
  return plan ? plan.charAt(0).toUpperCase() + plan.slice(1) : "—";
}
