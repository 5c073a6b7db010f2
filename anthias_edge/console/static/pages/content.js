// The Content page: the tenant's assets, filtered and paged; add, upload, edit, enable,
// delete and preview, each control shown only to users whose permissions allow it.

const TYPES = [["", "All types"], ["image", "Images"], ["video", "Videos"],
               ["webpage", "Web pages"], ["streaming", "Streams"]];
const TYPE_NAMES = { image: "Image", video: "Video", webpage: "Web page", streaming: "Stream" };
const DAYS = [[1, "Mon"], [2, "Tue"], [3, "Wed"], [4, "Thu"], [5, "Fri"], [6, "Sat"], [7, "Sun"]];
const PAGE_SIZE = 25;
export const CHUNK_SIZE = 5_000_000;
const VIDEO_EXT = /\.(avi|mkv|mov|mpg|mpeg|mp4|ts|flv|webm|m4v)$/i;
const IMAGE_EXT = /\.(png|jpe?g|gif|bmp|webp|svg|tiff?)$/i;
const DEFAULT_DAYS_PLAYING = 30;
const SEARCH_DELAY_MS = 300;

export async function render(root, ctx) {
  await contentPage(root, ctx);
}

function defaultWindow() {
  const start = new Date();
  start.setSeconds(0, 0);
  const end = new Date(start.getTime() + DEFAULT_DAYS_PLAYING * 86_400_000);
  return { start_date: start.toISOString(), end_date: end.toISOString() };
}

function clockText(value) { return value ? value.slice(0, 5) : ""; }

function scheduleText(asset, ui) {
  const parts = [];
  if (asset.start_date && asset.end_date) {
    parts.push(`${ui.formatDate(asset.start_date)} – ${ui.formatDate(asset.end_date)}`);
  } else {
    parts.push("No dates: does not play");
  }
  const days = asset.play_days || [];
  if (days.length && days.length < 7) {
    parts.push(DAYS.filter(([n]) => days.includes(n)).map(([, name]) => name).join(", "));
  }
  if (asset.play_time_from && asset.play_time_to) {
    parts.push(`${clockText(asset.play_time_from)}–${clockText(asset.play_time_to)}`);
  }
  return parts.join(" · ");
}

function durationText(asset) {
  const seconds = Number(asset.duration) || 0;
  if (asset.mimetype === "video" && !seconds) return "length measured";
  if (seconds < 120) return `${seconds} s`;
  return `${Math.round(seconds / 60)} min`;
}

function kindOf(file) {
  if (file.type.startsWith("video/") || VIDEO_EXT.test(file.name)) return "video";
  if (file.type.startsWith("image/") || IMAGE_EXT.test(file.name)) return "image";
  return null;
}

// -- the page ------------------------------------------------------------------------------

async function contentPage(root, ctx) {
  const { h, replaceChildren } = ctx.ui;
  const ui = ctx.ui;
  const can = {
    create: ctx.can("assets.create"),
    edit: ctx.can("assets.edit"),
    remove: ctx.can("assets.delete"),
  };
  const filters = { q: "", mimetype: "", tag: "" };
  const state = { items: [], next: null, loading: 0, tags: new Set() };

  const fileInput = h("input", { type: "file", accept: "image/*,video/*", class: "visually-hidden",
                                 tabindex: "-1", "aria-hidden": "true", id: "upload-input" });
  fileInput.addEventListener("change", () => {
    const [file] = fileInput.files;
    fileInput.value = "";
    if (file) uploadFile(file);
  });
  const actions = [];
  if (can.create) {
    actions.push(
      h("button", { type: "button", class: "btn", onclick: () => openEditor(null) }, "Add web page"),
      h("button", { type: "button", class: "btn btn-primary", onclick: () => fileInput.click() },
        "Upload image or video"),
    );
  }

  const uploads = h("div", { class: "uploads", "aria-live": "polite" });
  const search = h("input", { type: "search", name: "q", placeholder: "Part of the name",
                              autocomplete: "off" });
  const type = h("select", { name: "mimetype" },
    TYPES.map(([value, label]) => h("option", { value }, label)));
  const tagList = h("datalist", { id: "known-tags" });
  const tag = h("input", { name: "tag", list: "known-tags", placeholder: "Any tag",
                           autocomplete: "off" });
  const filterForm = h("form", { class: "filters", role: "search", "aria-label": "Filter content" },
    ui.field("Search", search), ui.field("Type", type), ui.field("Tag", tag), tagList);
  filterForm.addEventListener("submit", (event) => { event.preventDefault(); reload(); });
  let searchTimer = null;
  search.addEventListener("input", () => {
    list.setAttribute("aria-busy", "true"); // from the first key: the list is about to change
    clearTimeout(searchTimer);
    searchTimer = setTimeout(reload, SEARCH_DELAY_MS);
  });
  type.addEventListener("change", reload);
  tag.addEventListener("change", reload);

  const list = h("ul", { class: "asset-list", "aria-label": "Content", "aria-busy": "true" });
  const summary = h("p", { class: "muted", role: "status" });
  const more = h("div", { class: "more" });

  replaceChildren(root, ui.pageHeader("Content", actions), fileInput, uploads, filterForm,
                  summary, list, more);
  await reload();

  // -- listing -----------------------------------------------------------------------------

  function readFilters() {
    filters.q = search.value.trim();
    filters.mimetype = type.value;
    filters.tag = tag.value.trim();
  }

  function filtered() { return Boolean(filters.q || filters.mimetype || filters.tag); }

  async function reload() {
    readFilters();
    state.items = [];
    state.next = null;
    await loadPage(null);
  }

  async function loadPage(cursor) {
    await ui.loadListPage(ctx, {
      path: "/api/v3/assets", state, list, form: filterForm,
      query: { limit: PAGE_SIZE, cursor, q: filters.q, mimetype: filters.mimetype,
               tag: filters.tag },
      render: (items) => {
        for (const asset of items) for (const name of asset.tags || []) state.tags.add(name);
        replaceChildren(tagList, [...state.tags].sort().map((name) => h("option", { value: name })));
        renderList();
      } });
  }

  function renderList() {
    if (!state.items.length) {
      replaceChildren(summary);
      replaceChildren(more);
      if (filtered()) {
        replaceChildren(list, h("li", {}, ui.emptyState("Nothing matches these filters.", {
          label: "Clear filters", onclick: () => { filterForm.reset(); reload(); } })));
      } else if (can.create) {
        replaceChildren(list, h("li", {}, ui.emptyState(
          "No content yet. Add a web page, or upload an image or a video: screens play it "
          + "between the dates you give it.",
          { label: "Add web page", onclick: () => openEditor(null) })));
      } else {
        replaceChildren(list, h("li", {}, ui.emptyState(
          "No content yet. An editor of your organisation can add some.")));
      }
      return;
    }
    replaceChildren(list, state.items.map(assetRow));
    const shown = state.items.length;
    replaceChildren(summary, state.next ? `Showing the first ${shown}.`
                                        : `${shown} item${shown === 1 ? "" : "s"}.`);
    replaceChildren(more, state.next
      ? h("button", { type: "button", class: "btn", onclick: () => loadPage(state.next) },
          "Show more")
      : null);
  }

  function assetRow(asset) {
    const enabled = Boolean(asset.is_enabled);
    const label = `“${asset.name}”`;
    const controls = [
      h("button", { type: "button", class: "btn btn-small", "aria-label": `Preview ${label}`,
                    onclick: () => preview(asset) }, "Preview"),
    ];
    if (ctx.can("qr.view")) {
      controls.push(h("button", { type: "button", class: "btn btn-small",
                                  "aria-label": `Share ${label}`, onclick: () => share(asset) },
                      "Share"));
    }
    if (can.edit) {
      const toggle = h("input", { type: "checkbox", checked: enabled,
                                  "aria-label": `Enabled: ${label}` });
      toggle.addEventListener("change", () => setEnabled(asset, toggle));
      controls.push(
        h("label", { class: "switch" }, toggle, "Enabled"),
        h("button", { type: "button", class: "btn btn-small", "aria-label": `Edit ${label}`,
                      onclick: () => openEditor(asset) }, "Edit"));
    }
    if (can.remove) {
      controls.push(h("button", { type: "button", class: "btn btn-small btn-danger-quiet",
                                  "aria-label": `Delete ${label}`,
                                  onclick: () => removeAsset(asset) }, "Delete"));
    }
    const status = !enabled ? h("span", { class: "status status-off" }, "Disabled")
      : asset.is_active ? h("span", { class: "status status-on" }, "Playing")
        : h("span", { class: "status status-off" }, "Not playing now");
    return h("li", { class: `asset${enabled ? "" : " is-disabled"}`,
                     dataset: { assetId: asset.asset_id } },
      h("div", {},
        h("h2", { class: "asset-name" }, asset.name),
        h("div", { class: "asset-meta" },
          h("span", { class: "type-badge" }, TYPE_NAMES[asset.mimetype] || asset.mimetype),
          status,
          h("span", {}, durationText(asset)))),
      h("div", {},
        h("p", { class: "asset-meta schedule" }, scheduleText(asset, ui)),
        (asset.tags || []).length ? h("div", { class: "tags" }, asset.tags.map((name) =>
          h("button", { type: "button", class: "tag", "aria-label": `Show only tag ${name}`,
                        onclick: () => { tag.value = name; reload(); } }, name))) : null),
      h("div", { class: "asset-actions" }, controls));
  }

  function replaceItem(updated) {
    const index = state.items.findIndex((item) => item.asset_id === updated.asset_id);
    if (index >= 0) state.items[index] = updated;
    renderList();
  }

  // -- actions -----------------------------------------------------------------------------

  async function setEnabled(asset, toggle) {
    toggle.disabled = true;
    try {
      const updated = await ctx.api("PATCH", `/api/v3/assets/${encodeURIComponent(asset.asset_id)}`,
                                    { json: { is_enabled: toggle.checked } });
      replaceItem(updated);
      ui.toast(`${updated.name} is ${updated.is_enabled ? "enabled" : "disabled"}.`);
      list.querySelector(`[data-asset-id="${CSS.escape(updated.asset_id)}"] input[type=checkbox]`)
        ?.focus();
    } catch (error) {
      toggle.checked = !toggle.checked;
      toggle.disabled = false;
      ui.toast(error.message, { kind: "error" });
    }
  }

  async function removeAsset(asset) {
    const sure = await ui.confirmDialog(
      `Delete “${asset.name}”? Screens stop showing it, and it cannot be brought back.`);
    if (!sure) return;
    try {
      await ctx.api("DELETE", `/api/v3/assets/${encodeURIComponent(asset.asset_id)}`);
    } catch (error) {
      ui.toast(error.message, { kind: "error" });
      return;
    }
    state.items = state.items.filter((item) => item.asset_id !== asset.asset_id);
    renderList();
    ui.toast(`Deleted ${asset.name}.`);
    root.querySelector("h1")?.focus();
  }

  async function preview(asset) {
    const body = h("div", { class: "preview" }, h("p", { class: "muted" }, "Loading…"));
    let objectUrl = null;
    ui.openDialog(`Preview: ${asset.name}`, body, {
      onClose: () => { if (objectUrl) URL.revokeObjectURL(objectUrl); } });
    const link = (url) => h("p", {}, h("a", { href: url, target: "_blank",
                                              rel: "noopener noreferrer" }, `Open ${url}`));
    if (asset.mimetype !== "image" && asset.mimetype !== "video") {
      replaceChildren(body, h("p", {}, `${TYPE_NAMES[asset.mimetype] || "Address"}: `),
                      link(asset.uri));
      return;
    }
    try {
      const content = await ctx.api(
        "GET", `/api/v3/legacy/assets/${encodeURIComponent(asset.asset_id)}/content`);
      if (content.type !== "file") {
        replaceChildren(body, link(content.url));
        return;
      }
      const bytes = Uint8Array.from(atob(content.content), (c) => c.charCodeAt(0));
      const mime = asset.mimetype === "video" && !content.mimetype.startsWith("video/")
        ? "video/mp4" : content.mimetype;
      objectUrl = URL.createObjectURL(new Blob([bytes], { type: mime }));
      replaceChildren(body, asset.mimetype === "image"
        ? h("img", { class: "preview-media", src: objectUrl, alt: asset.name })
        : h("video", { class: "preview-media", src: objectUrl, controls: true,
                       "aria-label": asset.name }));
    } catch (error) {
      replaceChildren(body, h("p", { class: "form-error", role: "alert" }, error.message));
    }
  }

  /** The Share dialog (its module loads on the first Share). */
  async function share(asset) {
    let module;
    try {
      module = await import("../share.js");
    } catch {
      ui.toast("Sharing did not load. Check your connection, then try again.", { kind: "error" });
      return;
    }
    await module.openShareDialog(ctx, { asset });
  }

  // -- the editor (add a web page, or edit any asset) --------------------------------------

  function openEditor(asset) {
    const adding = asset === null;
    const values = adding ? { name: "", uri: "https://", duration: 10, is_enabled: true,
                              play_days: [1, 2, 3, 4, 5, 6, 7], play_time_from: null,
                              play_time_to: null, tags: [], ...defaultWindow() } : asset;
    const isVideo = values.mimetype === "video";
    const input = (attrs) => h("input", attrs);
    const name = input({ name: "name", value: values.name, required: true, maxlength: "255" });
    const uri = adding ? input({ name: "uri", type: "url", value: values.uri, required: true,
                                 inputmode: "url" }) : null;
    const duration = isVideo ? null
      : input({ name: "duration", type: "number", min: "0", step: "1", inputmode: "numeric",
                value: String(values.duration ?? 10) });
    const start = input({ name: "start_date", type: "datetime-local",
                          value: ui.toLocalInput(values.start_date) });
    const end = input({ name: "end_date", type: "datetime-local",
                        value: ui.toLocalInput(values.end_date) });
    const days = (values.play_days || [1, 2, 3, 4, 5, 6, 7]);
    const dayBoxes = DAYS.map(([number, label]) => h("label", { class: "check" },
      h("input", { type: "checkbox", name: "play_days", value: String(number),
                   checked: days.includes(number) }), label));
    const from = input({ name: "play_time_from", type: "time",
                         value: clockText(values.play_time_from) });
    const to = input({ name: "play_time_to", type: "time", value: clockText(values.play_time_to) });
    const tags = input({ name: "tags", value: (values.tags || []).join(", "),
                         autocomplete: "off" });
    const enabled = input({ type: "checkbox", name: "is_enabled", checked: values.is_enabled });
    const skipCheck = adding ? input({ type: "checkbox", name: "skip_asset_check" }) : null;
    const save = h("button", { type: "submit", class: "btn btn-primary" },
                   adding ? "Add web page" : "Save changes");
    const form = h("form", { class: "editor", novalidate: true },
      ui.field("Name", name),
      uri ? ui.field("Address (URL)", uri, "The web page screens show, starting https://") : null,
      duration ? ui.field("Duration in seconds", duration, "How long it stays on screen each time.")
        : h("p", { class: "hint" }, "A video plays for its own length."),
      h("div", { class: "row" },
        ui.field("Plays from", start), ui.field("Plays until", end)),
      h("p", { class: "hint" }, "Dates and times are in your time zone "
        + `(${Intl.DateTimeFormat().resolvedOptions().timeZone}). Without both dates it does not play.`),
      h("fieldset", { class: "fieldset", dataset: { errorFor: "play_days" } },
        h("legend", {}, "Days"), h("div", { class: "days" }, dayBoxes)),
      h("fieldset", { class: "fieldset" },
        h("legend", {}, "Hours (leave empty for all day)"),
        h("div", { class: "row" }, ui.field("From", from), ui.field("Until", to))),
      ui.field("Tags", tags, "Separate tags with commas."),
      h("label", { class: "check" }, enabled, "Enabled"),
      skipCheck ? h("label", { class: "check" }, skipCheck,
                    "Add it even if the address does not answer now") : null,
      h("div", { class: "dialog-actions" },
        h("button", { type: "button", class: "btn", onclick: () => dialog.close() }, "Cancel"),
        save));
    const { close } = ui.openDialog(adding ? "Add a web page" : `Edit “${values.name}”`, form);
    const dialog = { close };
    name.focus();

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      ui.clearFormErrors(form);
      const chosenDays = dayBoxes.map((box) => box.querySelector("input"))
        .filter((box) => box.checked).map((box) => Number(box.value));
      const errors = {};
      if (!name.value.trim()) errors.name = ["Enter a name."];
      if (!chosenDays.length) errors.play_days = ["Pick at least one day, or disable it instead."];
      if (duration && !/^\d+$/.test(duration.value.trim())) {
        errors.duration = ["Enter a whole number of seconds."];
      }
      if (Object.keys(errors).length) {
        ui.formErrors(form, { fields: errors, message: "" });
        return;
      }
      const json = {
        name: name.value.trim(),
        start_date: ui.fromLocalInput(start.value),
        end_date: ui.fromLocalInput(end.value),
        play_days: chosenDays,
        play_time_from: from.value || null,
        play_time_to: to.value || null,
        tags: tags.value.split(",").map((t) => t.trim()).filter(Boolean),
        is_enabled: enabled.checked,
      };
      if (duration) json.duration = Number(duration.value.trim());
      if (adding) {
        Object.assign(json, { uri: uri.value.trim(), mimetype: "webpage",
                              skip_asset_check: skipCheck.checked });
      }
      save.disabled = true;
      try {
        const saved = adding
          ? await ctx.api("POST", "/api/v3/assets", { json })
          : await ctx.api("PATCH", `/api/v3/assets/${encodeURIComponent(asset.asset_id)}`, { json });
        close();
        ui.toast(adding ? `Added ${saved.name}.` : `Saved ${saved.name}.`);
        if (adding) await reload();
        else replaceItem(saved);
      } catch (error) {
        ui.formErrors(form, error);
      } finally {
        save.disabled = false;
      }
    });
  }

  // -- uploads -----------------------------------------------------------------------------

  async function uploadFile(file) {
    const kind = kindOf(file);
    if (!kind) {
      ui.toast(`“${file.name}” is not an image or a video, so it cannot be added.`,
               { kind: "error" });
      return;
    }
    const bar = h("progress", { max: "100", value: "0", "aria-label": `Uploading ${file.name}` });
    const percent = h("span", { class: "upload-percent" }, "0 %");
    const text = h("p", {}, `Uploading “${file.name}”… `, percent);
    const panel = h("div", { class: "upload-panel", dataset: { file: file.name } }, text, bar);
    uploads.append(panel);
    // Bytes sent are not bytes stored: 100 % only once the server has the last chunk.
    const show = (done, confirmed = false) => {
      const sent = file.size ? Math.floor((done / file.size) * 100) : 100;
      const value = confirmed && done >= file.size ? 100 : Math.min(sent, 99);
      bar.value = value;
      percent.textContent = `${value} %`;
    };
    // crypto.randomUUID exists only on HTTPS; getRandomValues everywhere.
    const uploadId = Array.from(crypto.getRandomValues(new Uint8Array(16)),
                                (byte) => byte.toString(16).padStart(2, "0")).join("");
    let received = null;
    try {
      let start = 0;
      do {
        const end = Math.min(start + CHUNK_SIZE, file.size);
        const form = new FormData();
        form.append("file", file.slice(start, end), file.name);
        const headers = { "X-Upload-Id": uploadId };
        if (file.size > 0) headers["Content-Range"] = `bytes ${start}-${end - 1}/${file.size}`;
        const base = start;
        received = await ctx.api("POST", "/api/v3/uploads", {
          body: form, headers,
          // The multipart envelope adds a little: scale to this chunk's share of the file.
          onProgress: (loaded, total) => show(base + (end - base) * (total ? loaded / total : 1)),
        });
        start = end;
        show(start, true);
      } while (start < file.size);
      replaceChildren(text, `Adding “${file.name}”…`);
      const created = await ctx.api("POST", "/api/v3/assets", { json: {
        name: file.name.replace(/\.[^.]+$/, "") || file.name, uri: received.uri,
        mimetype: kind, skip_asset_check: true, is_enabled: true,
        ...(kind === "video" ? { duration: 0 } : {}), ...defaultWindow() } });
      panel.remove();
      ui.toast(`Uploaded ${created.name}.`);
      await reload();
    } catch (error) {
      replaceChildren(text, h("span", { role: "alert" },
                              `“${file.name}” could not be uploaded: ${error.message}`));
      bar.remove();
      panel.append(h("button", { type: "button", class: "btn btn-small",
                                 onclick: () => panel.remove() }, "Dismiss"));
    }
  }
}
