// Proof of play: how often each asset played on each screen, per day, between two dates;
// the same table as CSV for a spreadsheet or an advertiser.

import { DEVICES, PLAY_REPORT, plainError, saveBlob } from "./screens_api.js";

const DAY_MS = 24 * 60 * 60 * 1000;

export async function render(root, ctx) {
  const { h, replaceChildren } = ctx.ui;
  const ui = ctx.ui;
  const today = new Date();
  const from = h("input", { type: "date", name: "from", value: localDate(new Date(today - 6 * DAY_MS)) });
  const to = h("input", { type: "date", name: "to", value: localDate(today) });
  const device = h("select", { name: "device" }, h("option", { value: "" }, "All screens"));
  const show = h("button", { type: "submit", class: "btn btn-primary" }, "Show");
  const csv = h("button", { type: "button", class: "btn", "data-action": "csv" }, "Download CSV");
  const form = h("form", { class: "filters report-filters", novalidate: true,
                           "aria-label": "Report period and screen" },
    ui.field("From", from), ui.field("To (inclusive)", to), ui.field("Screen", device),
    h("div", { class: "report-buttons" }, show, csv));
  const result = h("div", { class: "report-result", "aria-live": "polite" });
  replaceChildren(root, ui.pageHeader("Proof of play"),
    h("p", { class: "hint page-intro" }, "Plays the screens reported, per day, screen and "
      + "asset. Days are in UTC, as the screens report them."),
    form, result);

  try {
    const page = await ctx.api("GET", DEVICES, { query: { limit: 200 } });
    for (const item of page.items || []) {
      device.append(h("option", { value: item.device_id }, item.name));
    }
  } catch (error) {
    if (error.code !== "session_ended") ui.toast(plainError(error), { kind: "error" });
  }

  form.addEventListener("submit", (event) => { event.preventDefault(); load(); });
  csv.addEventListener("click", download);
  await load();

  function query() {
    const problems = {};
    if (!from.value) problems.from = ["Choose the first day."];
    if (!to.value) problems.to = ["Choose the last day."];
    if (from.value && to.value && from.value > to.value) {
      problems.to = ["The last day comes before the first."];
    }
    if (Object.keys(problems).length) {
      ui.formErrors(form, { fields: problems });
      return null;
    }
    ui.clearFormErrors(form);
    // Whole UTC days: the API's period is [from, to), so "to" is the day after the last.
    const end = new Date(`${to.value}T00:00:00Z`);
    end.setUTCDate(end.getUTCDate() + 1);
    return { from: `${from.value}T00:00:00Z`, to: end.toISOString().replace(".000Z", "Z"),
             device: device.value };
  }

  async function load() {
    const wanted = query();
    if (!wanted) return;
    result.setAttribute("aria-busy", "true");
    let report;
    try {
      report = await ctx.api("GET", PLAY_REPORT, { query: wanted });
    } catch (error) {
      result.removeAttribute("aria-busy");
      if (error.code === "session_ended") return;
      if (error.code === "validation_error") ui.formErrors(form, error);
      else replaceChildren(result, h("p", { class: "form-error", role: "alert" }, plainError(error)));
      return;
    }
    result.removeAttribute("aria-busy");
    const rows = report.items || [];
    if (!rows.length) {
      replaceChildren(result, ui.emptyState("No plays in this period."));
      return;
    }
    const total = rows.reduce((sum, row) => sum + Number(row.plays || 0), 0);
    replaceChildren(result,
      h("p", { class: "muted", role: "status" }, `${total} play${total === 1 ? "" : "s"} `
        + `in ${rows.length} row${rows.length === 1 ? "" : "s"}.`),
      report.truncated ? h("p", { class: "notice" }, "Only the first rows are shown: choose "
        + "fewer days or one screen to see them all.") : null,
      h("div", { class: "table-scroll" }, h("table", { class: "data-table report-table" },
        h("thead", {}, h("tr", {}, ["Day", "Screen", "Asset", "Plays", "Seconds"].map((title) =>
          h("th", { scope: "col", class: ["Plays", "Seconds"].includes(title) ? "num" : null },
            title)))),
        h("tbody", {}, rows.map((row) => h("tr", {},
          h("td", { "data-label": "Day" }, row.day),
          h("td", { "data-label": "Screen" }, row.device_name || row.device_id || ""),
          h("td", { "data-label": "Asset" }, row.asset_name || row.asset_id || ""),
          h("td", { "data-label": "Plays", class: "num" }, String(row.plays ?? "")),
          h("td", { "data-label": "Seconds", class: "num" },
            row.duration_s === null || row.duration_s === undefined ? "—"
              : String(Math.round(row.duration_s)))))))));
  }

  async function download() {
    const wanted = query();
    if (!wanted) return;
    csv.disabled = true;
    try {
      const blob = await ctx.apiBlob(PLAY_REPORT, { query: { ...wanted, format: "csv" } });
      saveBlob(ctx, blob, `plays-${from.value}-to-${to.value}.csv`);
    } catch (error) {
      ui.toast(`The CSV could not be downloaded: ${plainError(error)}`, { kind: "error" });
    } finally {
      csv.disabled = false;
    }
  }
}

function localDate(date) {
  const d = new Date(date);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}
