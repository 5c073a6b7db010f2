// The Sharing page: the organisation's QR contents with their scan counts, filtered and
// paged; share an asset, show a code, download it, deactivate it, each control shown only to
// users whose permissions allow it.

const PAGE_SIZE = 25;
const SEARCH_DELAY_MS = 300;
const STATES = [["", "All"], ["live", "Active"], ["expired", "Expired"],
                ["inactive", "Deactivated"]];
const STATE_QUERY = { live: { active: "true", expired: "false" }, expired: { expired: "true" },
                      inactive: { active: "false" } };

let share = null;
/** The Share dialog's module, loaded on first use. */
function shareModule() {
  share ??= import("../share.js");
  return share;
}

export async function render(root, ctx) {
  const { h, replaceChildren } = ctx.ui;
  const ui = ctx.ui;
  const can = { create: ctx.can("qr.create") && ctx.can("assets.view"), edit: ctx.can("qr.edit") };
  const state = { items: [], next: null, loading: 0 };
  const helpers = await shareModule();

  const search = h("input", { type: "search", name: "q", placeholder: "Part of the title or code",
                              autocomplete: "off" });
  const status = h("select", { name: "status" },
    STATES.map(([value, label]) => h("option", { value }, label)));
  const filterForm = h("form", { class: "filters share-filters", role: "search",
                                 "aria-label": "Filter shared content" },
    ui.field("Search", search), ui.field("Status", status));
  filterForm.addEventListener("submit", (event) => { event.preventDefault(); reload(); });
  let timer = null;
  search.addEventListener("input", () => {
    list.setAttribute("aria-busy", "true");
    clearTimeout(timer);
    timer = setTimeout(reload, SEARCH_DELAY_MS);
  });
  status.addEventListener("change", reload);

  const actions = can.create
    ? [h("button", { type: "button", class: "btn btn-primary", onclick: () => pickAsset() },
         "Share content")] : [];
  const list = h("ul", { class: "asset-list share-list", "aria-label": "Shared content",
                         "aria-busy": "true" });
  const summary = h("p", { class: "muted", role: "status" });
  const more = h("div", { class: "more" });
  replaceChildren(root, ui.pageHeader("Sharing", actions),
    h("p", { class: "hint page-intro" }, "Each code opens one piece of content on a phone, "
      + "without signing in. Scans count every time someone opens it."),
    filterForm, summary, list, more);
  await reload();

  async function reload() {
    state.items = [];
    state.next = null;
    await loadPage(null);
  }

  async function loadPage(cursor) {
    await ui.loadListPage(ctx, {
      path: "/api/v3/qr-content", state, list, form: filterForm,
      query: { limit: PAGE_SIZE, cursor, q: search.value.trim(),
               ...(STATE_QUERY[status.value] || {}) },
      render: renderList });
  }

  function renderList() {
    if (!state.items.length) {
      replaceChildren(summary);
      replaceChildren(more);
      const filtered = Boolean(search.value.trim() || status.value);
      replaceChildren(list, h("li", {}, filtered
        ? ui.emptyState("Nothing matches these filters.", {
          label: "Clear filters", onclick: () => { filterForm.reset(); reload(); } })
        : ui.emptyState(can.create
          ? "Nothing is shared yet. Share content to get a QR code people can scan."
          : "Nothing is shared yet. An editor of your organisation can share content.",
        can.create ? { label: "Share content", onclick: () => pickAsset() } : null)));
      return;
    }
    replaceChildren(list, state.items.map(row));
    const shown = state.items.length;
    replaceChildren(summary, state.next ? `Showing the first ${shown}.`
                                        : `${shown} shared item${shown === 1 ? "" : "s"}.`);
    replaceChildren(more, state.next
      ? h("button", { type: "button", class: "btn", onclick: () => loadPage(state.next) },
          "Show more") : null);
  }

  function row(qr) {
    const title = qr.title || qr.qr_code;
    const label = `“${title}”`;
    const live = qr.is_active && !qr.is_expired;
    const controls = [
      h("button", { type: "button", class: "btn btn-small", "aria-label": `Show code of ${label}`,
                    onclick: () => helpers.openShareDialog(ctx, { qr, onChange: replaceItem }) },
        "Show code"),
      h("button", { type: "button", class: "btn btn-small", "aria-label": `Download PNG of ${label}`,
                    onclick: () => helpers.downloadImage(ctx, qr, "qr_png") }, "Download PNG"),
    ];
    if (can.edit && qr.is_active) {
      controls.push(h("button", { type: "button", class: "btn btn-small btn-danger-quiet",
                                  "aria-label": `Deactivate ${label}`,
                                  onclick: () => deactivate(qr) }, "Deactivate"));
    }
    return h("li", { class: `asset share-row${live ? "" : " is-disabled"}`,
                     dataset: { code: qr.qr_code } },
      h("div", {},
        h("h2", { class: "asset-name" }, title),
        h("p", { class: "asset-meta" },
          h("a", { href: qr.landing_url, target: "_blank", rel: "noopener noreferrer",
                   class: "share-url" }, qr.landing_url))),
      h("div", { class: "asset-meta" },
        h("span", { class: `status ${live ? "status-on" : "status-off"}` },
          helpers.statusText(qr, ui)),
        h("span", { class: "share-scans" }, helpers.scansText(qr, ui))),
      h("div", { class: "asset-actions" }, controls));
  }

  function replaceItem(updated) {
    const index = state.items.findIndex((item) => item.qr_code === updated.qr_code);
    if (index >= 0) state.items[index] = updated;
    else state.items.unshift(updated);
    renderList();
  }

  async function deactivate(qr) {
    const title = qr.title || qr.qr_code;
    const sure = await ui.confirmDialog(
      `Deactivate the code of “${title}”? Scanning it will show “no longer available”.`,
      { confirmLabel: "Deactivate" });
    if (!sure) return;
    try {
      const updated = await ctx.api(
        "PATCH", `/api/v3/qr-content/${encodeURIComponent(qr.qr_code)}`,
        { json: { is_active: false } });
      replaceItem(updated);
      ui.toast(`Deactivated the code of ${title}.`);
      root.querySelector("h1")?.focus();
    } catch (error) {
      ui.toast(error.message, { kind: "error" });
    }
  }

  /** Choose an asset by name, then the Share dialog creates its code. */
  function pickAsset() {
    const query = h("input", { type: "search", name: "asset_search", autocomplete: "off",
                               placeholder: "Part of the name" });
    const choices = h("ul", { class: "asset-list pick-list", "aria-label": "Content to share",
                              "aria-busy": "true" });
    const { close } = ui.openDialog("Share content", h("div", {},
      ui.field("Find content", query), choices));
    let token = 0;
    const find = async () => {
      const mine = ++token;
      try {
        const page = await ctx.api("GET", "/api/v3/assets",
                                   { query: { limit: 10, q: query.value.trim() } });
        if (mine !== token) return;
        replaceChildren(choices, page.items.length ? page.items.map((asset) => h("li", {},
          h("button", { type: "button", class: "btn pick", onclick: () => {
            close();
            helpers.openShareDialog(ctx, { asset, onChange: () => reload() });
          } }, asset.name))) : h("li", { class: "muted" }, "No content matches."));
      } catch (error) {
        replaceChildren(choices, h("li", { class: "form-error", role: "alert" }, error.message));
      } finally {
        choices.setAttribute("aria-busy", "false");
      }
    };
    let searchTimer = null;
    query.addEventListener("input", () => {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(find, SEARCH_DELAY_MS);
    });
    query.focus();
    find();
  }
}
