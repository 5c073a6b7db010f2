// The console's shell: sign-in, the navigation (only the pages the user may see) and a hash
// router (#/content, #/people, ...). The pages are listed in pages/index.js; a page's module
// (exporting ``render(root, ctx)``) is loaded only when the page is opened.

import * as apiModule from "./api.js";
import * as ui from "./ui.js";
import { PAGES } from "./pages/index.js";

const { h, replaceChildren } = ui;

const body = document.body;
const hostTenant = { name: body.dataset.tenantName || "", ref: body.dataset.tenantRef || "" };
const main = document.getElementById("main");
const appRoot = document.getElementById("app");

let ctx = null;
let rendering = 0;

function visiblePages() {
  return PAGES.filter((page) => {
    try { return Boolean(page.visible(ctx)); } catch { return false; }
  });
}

function wantedPageId() {
  return (location.hash.match(/^#\/([\w-]+)/) || [])[1];
}

// Fetch a page's module ahead of its use (fetched and parsed, not run): the page the address
// names while the session resumes, and a page whose link the pointer or focus reaches.
const preloaded = new Set();
function preload(page) {
  if (!page || preloaded.has(page.url)) return;
  preloaded.add(page.url);
  document.head.append(h("link", { rel: "modulepreload", href: page.url }));
}

// -- sign-in -------------------------------------------------------------------------------

function signInView(notice = "") {
  ctx = null;
  document.title = `${hostTenant.name ? `${hostTenant.name} · ` : ""}Sign in · Anthias Edge`;
  appRoot.classList.add("signed-out");
  for (const part of appRoot.querySelectorAll(".topbar, .nav")) part.remove();
  const form = h("form", { class: "card narrow sign-in", novalidate: true, "aria-labelledby": "sign-in-title" });
  const username = h("input", { name: "username", autocomplete: "username", required: true,
                                autocapitalize: "none", spellcheck: "false" });
  const password = h("input", { name: "password", type: "password", required: true,
                                autocomplete: "current-password" });
  const tenant = hostTenant.ref ? null
    : h("input", { name: "tenant", required: true, autocapitalize: "none", spellcheck: "false",
                   autocomplete: "organization" });
  const submit = h("button", { type: "submit", class: "btn btn-primary btn-block" }, "Sign in");
  replaceChildren(form,
    h("h1", { id: "sign-in-title" }, "Sign in"),
    h("p", { class: "muted" }, hostTenant.name ? `to ${hostTenant.name}` : "to your organisation's console"),
    notice ? h("p", { class: "notice", role: "status" }, notice) : null,
    tenant ? ui.field("Organisation", tenant, "The short name in your organisation's address.") : null,
    ui.field("User name", username),
    ui.field("Password", password),
    submit,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    ui.clearFormErrors(form);
    const missing = {};
    if (tenant && !tenant.value.trim()) missing.tenant = ["Enter your organisation."];
    if (!username.value.trim()) missing.username = ["Enter your user name."];
    if (!password.value) missing.password = ["Enter your password."];
    if (Object.keys(missing).length) {
      ui.formErrors(form, { fields: missing, message: "" });
      return;
    }
    submit.disabled = true;
    submit.textContent = "Signing in…";
    try {
      await apiModule.signIn(username.value.trim(), password.value,
                             tenant ? tenant.value.trim().toLowerCase() : "");
      password.value = "";
      await startSession();
    } catch (error) {
      ui.formErrors(form, { ...error, fields: error.fields || {}, message: error.message });
      password.value = "";
    } finally {
      submit.disabled = false;
      submit.textContent = "Sign in";
    }
  });
  replaceChildren(main, form);
  (tenant || username).focus();
}

// -- the signed-in shell -------------------------------------------------------------------

async function startSession() {
  const me = await apiModule.api("GET", "/api/v3/auth/me");
  const permissions = new Set(me.user.permissions);
  ctx = {
    api: apiModule.api,
    apiBlob: apiModule.apiBlob,
    user: me.user,
    tenant: me.tenant,
    can: (permission) => permissions.has(permission),
    navigate: (hash) => { if (location.hash === hash) route(); else location.hash = hash; },
    ui,
  };
  appRoot.classList.remove("signed-out");
  renderShell();
  await route();
}

function renderShell() {
  const nav = h("nav", { class: "nav", id: "nav", "aria-label": "Console" },
    h("ul", {}, visiblePages().map((page) =>
      h("li", {}, h("a", { href: `#/${page.id}`, dataset: { page: page.id } }, page.title)))));
  const menuButton = h("button", { type: "button", class: "btn btn-icon nav-toggle",
                                   "aria-controls": "nav", "aria-expanded": "false",
                                   "aria-label": "Menu" },
                       h("span", { "aria-hidden": "true" }, "☰"));
  menuButton.addEventListener("click", () => {
    const open = menuButton.getAttribute("aria-expanded") !== "true";
    menuButton.setAttribute("aria-expanded", String(open));
    nav.classList.toggle("open", open);
  });
  const preloadLink = (event) => {
    const link = event.target.closest?.("a[data-page]");
    if (link) preload(PAGES.find((page) => page.id === link.dataset.page));
  };
  nav.addEventListener("pointerover", preloadLink);
  nav.addEventListener("focusin", preloadLink);
  nav.addEventListener("click", (event) => {
    if (event.target.closest("a")) {
      nav.classList.remove("open");
      menuButton.setAttribute("aria-expanded", "false");
    }
  });
  const signOut = h("button", { type: "button", class: "btn btn-quiet", id: "sign-out" },
                    "Sign out everywhere");
  signOut.addEventListener("click", async () => {
    signOut.disabled = true;
    try {
      await apiModule.signOutEverywhere();
      signInView("You are signed out on every device.");
    } catch (error) {
      signOut.disabled = false;
      ui.toast(error.message, { kind: "error" });
    }
  });
  const header = h("header", { class: "topbar" },
    menuButton,
    h("div", { class: "brand" }, h("span", { class: "brand-name" }, ctx.tenant.name),
      h("span", { class: "brand-sub" }, "Anthias Edge console")),
    h("div", { class: "who" },
      h("span", { class: "who-name" }, ctx.user.username),
      h("span", { class: "role-badge", dataset: { role: ctx.user.role } }, ctx.user.role),
      signOut));
  const existing = appRoot.querySelector(".topbar");
  if (existing) existing.remove();
  const oldNav = appRoot.querySelector(".nav");
  if (oldNav) oldNav.remove();
  appRoot.prepend(header, nav);
}

async function route() {
  if (!ctx) return;
  const visible = visiblePages();
  const wanted = wantedPageId();
  const page = visible.find((p) => p.id === wanted) || visible[0];
  for (const link of appRoot.querySelectorAll(".nav a")) {
    if (link.dataset.page === page?.id) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (!page) {
    replaceChildren(main, ui.emptyState("Your role gives you no page here yet. Ask an admin of "
                                        + `${ctx.tenant.name} for access.`));
    return;
  }
  if (wanted !== page.id) history.replaceState(null, "", `#/${page.id}`);
  document.title = `${page.title} · ${ctx.tenant.name} · Anthias Edge`;
  const token = ++rendering;
  const root = h("div", { class: "page", dataset: { page: page.id }, "aria-busy": "true" });
  replaceChildren(main, root);
  try {
    let module;
    try {
      module = await import(page.url);
    } catch (error) {
      console.warn(`console page ${page.id} did not load`, error);
      throw new Error(`The ${page.title} page did not load. Check your connection, then `
                      + "reload the console.");
    }
    if (token !== rendering) return;
    await module.render(root, ctx);
  } catch (error) {
    if (token !== rendering || error.code === "session_ended") return;
    replaceChildren(root, ui.pageHeader(page.title),
                    h("div", { class: "form-error", role: "alert" }, error.message));
  } finally {
    root.removeAttribute("aria-busy");
  }
  if (token === rendering) root.querySelector("h1")?.focus({ preventScroll: true });
}

window.addEventListener("hashchange", () => { route(); });
apiModule.onSignedOut(() => signInView("Your session has ended. Sign in again."));

async function start() {
  if (body.dataset.unknownHost === "true") return;
  preload(PAGES.find((page) => page.id === wantedPageId()) || PAGES[0]);
  let resumed = false;
  try {
    resumed = await apiModule.resume();
  } catch (error) {
    replaceChildren(main, h("div", { class: "card narrow" }, h("p", { role: "alert" }, error.message)));
    return;
  }
  if (!resumed) {
    signInView();
    return;
  }
  try {
    await startSession();
  } catch (error) {
    if (!ctx) signInView(error.code === "session_ended" ? "" : error.message);
  }
}

start();
