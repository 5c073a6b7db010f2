// Small DOM helpers every console page uses. Data only ever becomes text nodes or
// attribute values (never HTML), and no markup carries a style attribute (the CSP forbids it).

/**
 * Build an element: ``h("button", {class: "btn", onclick: fn}, "Save")``.
 * Attributes: ``class``, ``dataset`` (object), ``on<event>`` (function), booleans
 * (true sets, false/null/undefined leaves out), anything else as an attribute.
 * Children: nodes, strings (as text), arrays; null/false are skipped.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "dataset") {
      Object.assign(el.dataset, value);
    } else if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else if (name === "value" && "value" in el) {
      el.value = value;
    } else if (name === "checked" || name === "selected") {
      el[name] = Boolean(value);
    } else {
      el.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace everything inside ``el`` with ``children``. */
export function replaceChildren(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let fieldIds = 0;

/** Remove the messages ``formErrors`` put in ``form``. */
export function clearFormErrors(form) {
  for (const box of form.querySelectorAll(".field-error, .form-error")) box.remove();
  for (const input of form.querySelectorAll("[aria-invalid]")) {
    input.removeAttribute("aria-invalid");
    const described = (input.getAttribute("aria-describedby") || "").split(" ")
      .filter((id) => !id.startsWith("field-error-")).join(" ");
    if (described) input.setAttribute("aria-describedby", described);
    else input.removeAttribute("aria-describedby");
  }
}

/**
 * Show an ApiError in ``form``: each field's messages right after its input (or inside the
 * element marked ``data-error-for="<field>"``), the rest at the top. Focuses the first.
 */
export function formErrors(form, error) {
  clearFormErrors(form);
  const general = [];
  let first = null;
  for (const [field, messages] of Object.entries(error.fields || {})) {
    const text = [].concat(messages).join(" ");
    const holder = form.querySelector(`[data-error-for="${CSS.escape(field)}"]`);
    const input = form.querySelector(`[name="${CSS.escape(field)}"]`);
    if (!holder && !input) {
      general.push(`${field}: ${text}`);
      continue;
    }
    const id = `field-error-${++fieldIds}`;
    const box = h("p", { class: "field-error", id }, text);
    const container = holder || input.closest(".field");
    if (container) container.append(box);
    else input.after(box);
    if (input) {
      input.setAttribute("aria-invalid", "true");
      const described = input.getAttribute("aria-describedby");
      input.setAttribute("aria-describedby", described ? `${described} ${id}` : id);
    }
    first ??= input || holder.querySelector("input, select, textarea");
  }
  if (general.length || !Object.keys(error.fields || {}).length) {
    const box = h("div", { class: "form-error", role: "alert" },
                  general.length ? general.join(" ") : error.message);
    form.prepend(box);
  }
  first?.focus();
}

/** A short message at the bottom of the screen, read out by screen readers. */
export function toast(text, { kind = "info" } = {}) {
  const box = document.getElementById("toasts");
  const item = h("div", { class: `toast toast-${kind}` }, text);
  box.append(item);
  setTimeout(() => item.remove(), kind === "error" ? 8000 : 4000);
  return item;
}

/** A modal dialog; resolves true when confirmed. Escape or Cancel resolve false. */
export function confirmDialog(text, { confirmLabel = "Delete", danger = true } = {}) {
  return new Promise((resolve) => {
    const dialog = h("dialog", { class: "dialog confirm", "aria-labelledby": "confirm-text" });
    const done = (value) => { dialog.close(); dialog.remove(); resolve(value); };
    dialog.append(
      h("p", { id: "confirm-text" }, text),
      h("div", { class: "dialog-actions" },
        h("button", { type: "button", class: "btn", onclick: () => done(false) }, "Cancel"),
        h("button", { type: "button", class: danger ? "btn btn-danger" : "btn btn-primary",
                      onclick: () => done(true) }, confirmLabel)),
    );
    dialog.addEventListener("cancel", (event) => { event.preventDefault(); done(false); });
    document.body.append(dialog);
    dialog.showModal();
    dialog.querySelector(".btn-danger, .btn-primary").focus();
  });
}

/** A dialog holding ``content`` with a title and a close button; returns {dialog, close}. */
export function openDialog(title, content, { onClose } = {}) {
  const titleId = `dialog-title-${++fieldIds}`;
  const dialog = h("dialog", { class: "dialog", "aria-labelledby": titleId });
  const close = () => { if (dialog.open) dialog.close(); };
  dialog.addEventListener("close", () => { dialog.remove(); onClose?.(); });
  dialog.append(
    h("div", { class: "dialog-head" },
      h("h2", { id: titleId }, title),
      h("button", { type: "button", class: "btn btn-icon", "aria-label": "Close", onclick: close },
        "×")),
    content);
  document.body.append(dialog);
  dialog.showModal();
  return { dialog, close };
}

/** What an empty list says, with an optional button ``{label, onclick}``. */
export function emptyState(text, action = null) {
  return h("div", { class: "empty-state" },
    h("p", {}, text),
    action ? h("button", { type: "button", class: "btn btn-primary", onclick: action.onclick },
               action.label) : null);
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** An ISO date-time in the user's own time zone and language ("5 Dec 2026, 14:30"). */
export function formatDate(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : dateTime.format(date);
}

function pad(number) { return String(number).padStart(2, "0"); }

/** ISO (any offset) -> "YYYY-MM-DDTHH:MM" in the user's zone, for <input type=datetime-local>. */
export function toLocalInput(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A datetime-local value (the user's zone) -> ISO UTC, or null when empty. */
export function fromLocalInput(value) {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? value : d.toISOString();
}

/**
 * Load one page of a list the API reads by cursor, into ``state`` ({items, next, loading}).
 * Only the newest load counts (a newer filter wins); ``render(items)`` draws the list once the
 * page is in. A refused filter shows on ``form``; any other error takes the list's place,
 * except an ended session, which the shell handles by asking to sign in again.
 */
export async function loadListPage(ctx, { path, query, state, list, form, render }) {
  const token = ++state.loading;
  list.setAttribute("aria-busy", "true");
  let page;
  try {
    page = await ctx.api("GET", path, { query });
  } catch (error) {
    if (token !== state.loading) return;
    list.setAttribute("aria-busy", "false");
    if (error.code === "validation_error") {
      formErrors(form, error);
    } else if (error.code !== "session_ended") {
      replaceChildren(list, h("li", { class: "form-error", role: "alert" }, error.message));
    }
    return;
  }
  if (token !== state.loading) return;
  clearFormErrors(form);
  state.items.push(...page.items);
  state.next = page.next_cursor;
  render(page.items);
  list.setAttribute("aria-busy", "false");
}

/** The page title and its action buttons (already filtered by permission). */
export function pageHeader(title, actions = []) {
  return h("header", { class: "page-header" },
    h("h1", { tabindex: "-1" }, title),
    h("div", { class: "page-actions" }, actions));
}

/** A labelled form field: ``field("Name", h("input", {name: "name"}), "hint")``. */
export function field(label, input, hint = "") {
  if (!input.id) input.id = `field-${++fieldIds}`;
  let hintEl = null;
  if (hint) {
    hintEl = h("p", { class: "hint", id: `${input.id}-hint` }, hint);
    input.setAttribute("aria-describedby", hintEl.id);
  }
  return h("div", { class: "field" }, h("label", { for: input.id }, label), input, hintEl);
}
