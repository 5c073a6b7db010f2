// People: the organisation's members with their roles; add, change role, grant or revoke
// single permissions, deactivate, delete. Every control is shown only when the signed-in
// user may use it, and only on members the API would let them change: no one may touch a
// member who holds a permission they lack (an admin and the owner, for one).

import { fieldErrors, loadRoles, permissionLabel, sortPermissions } from "./directory.js";

export async function render(root, ctx) {
  const { h, field } = ctx.ui;
  const state = { open: null }; // which editor is open: "add", or "<kind>:<user id>"
  const [roles, users] = await Promise.all([loadRoles(ctx), ctx.api("GET", "/api/v3/users")]);
  const mine = new Set(ctx.user.permissions);
  const holdsAll = (names) => names.every((name) => mine.has(name));
  const roleSet = new Map(roles.roles.map((role) => [role.name, role.permissions]));
  const manage = ctx.can("users.manage");

  const refresh = async (message) => {
    const fresh = await ctx.api("GET", "/api/v3/users");
    users.items = fresh.items;
    draw();
    if (message) ctx.ui.toast(message);
  };

  function draw() {
    const actions = [];
    if (manage) {
      actions.push(h("button", {
        type: "button", class: "btn btn-primary", "data-action": "add-person",
        "aria-expanded": String(state.open === "add"),
        onclick: () => { state.open = state.open === "add" ? null : "add"; draw(); focusOpen(); },
      }, "Add person"));
    }
    const children = [ctx.ui.pageHeader("People", actions)];
    if (state.open === "add") children.push(addForm());
    if (!users.items.length) {
      children.push(manage
        ? ctx.ui.emptyState("Nobody is here yet. Add a person to share the work.",
          { label: "Add person", onclick: () => { state.open = "add"; draw(); focusOpen(); } })
        : ctx.ui.emptyState("Nobody is here yet. An admin can add people."));
    } else {
      children.push(h("ul", { class: "person-list", "aria-label": "People" },
        ...users.items.map(personItem)));
    }
    root.replaceChildren(...children);
  }

  // The control focus returns to when an editor closes: the button that opened it.
  function openerOf(key) {
    if (!key || key === "add") return '[data-action="add-person"]';
    const [kind, id] = key.split(":");
    const user = users.items.find((item) => item.id === id);
    const action = kind === "role" ? "change-role" : "permissions";
    return user ? `[data-user="${CSS.escape(user.username)}"] [data-action="${action}"]` : "h1";
  }

  function focusOn(selector) {
    (root.querySelector(selector) || root.querySelector("h1"))?.focus();
  }

  function focusOpen() {
    root.querySelector("[data-editor] input, [data-editor] select")?.focus();
  }

  const givableRoles = (grants = [], revokes = []) => roles.roles
    .filter((role) => holdsAll(effective(role.permissions, grants, revokes)))
    .map((role) => role.name);

  function addForm() {
    const form = h("form", { class: "card form", "data-editor": "add", novalidate: true },
      h("h2", {}, "Add a person"),
      field("Username", h("input", { name: "username", autocomplete: "off", required: true,
        maxlength: "150" })),
      field("Email (optional)", h("input", { name: "email", type: "email", maxlength: "254",
        autocomplete: "off" })),
      field("Password", h("input", { name: "password", type: "password", required: true,
        minlength: "8", autocomplete: "new-password" }),
        "At least 8 characters. Give it to them in person; they can sign in at once."),
      field("Role", roleSelect("role", givableRoles(), "viewer")),
      h("div", { class: "form-actions" },
        h("button", { type: "submit", class: "btn btn-primary" }, "Add person"),
        h("button", { type: "button", class: "btn", onclick: close }, "Cancel")));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const data = Object.fromEntries(new FormData(form));
      submit(form, "POST", "/api/v3/users", data, `${data.username} was added.`);
    });
    return form;
  }

  function close() {
    const back = openerOf(state.open);
    state.open = null;
    draw();
    focusOn(back);
  }

  async function submit(form, method, path, json, message) {
    const button = form.querySelector("[type=submit]");
    button.disabled = true;
    try {
      await ctx.api(method, path, { json });
      const back = openerOf(state.open);
      state.open = null;
      await refresh(message);
      focusOn(back);
    } catch (error) {
      showError(form, error);
      button.disabled = false;
    }
  }

  function showError(form, error) {
    ctx.ui.formErrors(form, { ...error, fields: fieldErrors(error) });
  }

  function personItem(user) {
    const isMe = user.id === ctx.user.id;
    const canChange = manage && holdsAll(user.permissions) && !isMe;
    const badges = [h("span", { class: `badge role-${user.role}` }, user.role)];
    if (isMe) badges.push(h("span", { class: "badge" }, "you"));
    if (!user.is_active) badges.push(h("span", { class: "badge muted" }, "deactivated"));
    const extras = [
      ...sortPermissions(user.grants).map((name) => h("li", { class: "chip grant" },
        `+ ${permissionLabel(name)}`)),
      ...sortPermissions(user.revokes).map((name) => h("li", { class: "chip revoke" },
        `− ${permissionLabel(name)}`)),
    ];
    const item = h("li", { class: "card person", "data-user": user.username },
      h("div", { class: "person-head" },
        h("h2", { class: "person-name" }, user.username),
        h("div", { class: "badges" }, ...badges)),
      h("p", { class: "meta" },
        user.email ? `${user.email} · ` : "",
        user.created_at ? `added ${ctx.ui.formatDate(user.created_at)}` : ""),
      extras.length ? h("ul", { class: "chips", "aria-label": "Permission changes" }, ...extras)
        : "");
    if (canChange) item.append(personActions(user));
    const open = state.open && state.open.endsWith(`:${user.id}`) ? state.open.split(":")[0] : "";
    if (open === "role") item.append(roleForm(user));
    if (open === "permissions") item.append(permissionsForm(user));
    return item;
  }

  function personActions(user) {
    const toggle = (kind) => () => {
      const key = `${kind}:${user.id}`;
      state.open = state.open === key ? null : key;
      draw();
      focusOpen();
    };
    return h("div", { class: "actions" },
      h("button", { type: "button", class: "btn", "data-action": "change-role",
        onclick: toggle("role") }, "Change role"),
      h("button", { type: "button", class: "btn", "data-action": "permissions",
        onclick: toggle("permissions") }, "Permissions"),
      h("button", { type: "button", class: "btn", "data-action": "toggle-active",
        onclick: () => setActive(user, !user.is_active) },
        user.is_active ? "Deactivate" : "Reactivate"),
      h("button", { type: "button", class: "btn btn-danger", "data-action": "delete",
        onclick: () => remove(user) }, "Delete"));
  }

  function roleForm(user) {
    const choices = givableRoles(user.grants, user.revokes);
    const form = h("form", { class: "inline-form", "data-editor": "role", novalidate: true },
      field(`Role of ${user.username}`, roleSelect("role", choices, user.role)),
      h("div", { class: "form-actions" },
        h("button", { type: "submit", class: "btn btn-primary" }, "Save role"),
        h("button", { type: "button", class: "btn", onclick: close }, "Cancel")));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const role = form.elements.role.value;
      submit(form, "PATCH", `/api/v3/users/${encodeURIComponent(user.id)}`, { role },
        `${user.username} is now ${role}.`);
    });
    return form;
  }

  function permissionsForm(user) {
    const base = new Set(roleSet.get(user.role) || []);
    const has = new Set(user.permissions);
    // Only permissions the signed-in user holds can be given; the rest keep what they are.
    const offered = sortPermissions(roles.permissions.filter((name) => mine.has(name)));
    const boxes = offered.map((name) => h("label", { class: "check" },
      h("input", { type: "checkbox", name: "permission", value: name, checked: has.has(name) }),
      ` ${permissionLabel(name)} `,
      h("span", { class: "hint" }, base.has(name) ? `(${user.role})` : "(extra)")));
    const form = h("form", { class: "inline-form", "data-editor": "permissions",
      novalidate: true },
      h("fieldset", {},
        h("legend", {}, `What ${user.username} may do`),
        h("p", { class: "hint" }, `Ticked: allowed. Unticking a permission of the ${user.role} ` +
          "role revokes it for this person only; ticking an extra one grants it."),
        h("div", { class: "check-grid", "data-field": "grants" }, ...boxes)),
      h("div", { class: "form-actions" },
        h("button", { type: "submit", class: "btn btn-primary" }, "Save permissions"),
        h("button", { type: "button", class: "btn", onclick: close }, "Cancel")));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const ticked = new Set(Array.from(form.querySelectorAll("input[name=permission]:checked"),
        (box) => box.value));
      const grants = offered.filter((name) => ticked.has(name) && !base.has(name));
      // A permission of the role that is not ticked (or not offered and already revoked)
      // stays revoked.
      const revokes = [...base].filter((name) => (offered.includes(name) ? !ticked.has(name)
        : !has.has(name)));
      submit(form, "PATCH", `/api/v3/users/${encodeURIComponent(user.id)}`,
        { grants, revokes }, `${user.username}'s permissions were saved.`);
    });
    return form;
  }

  async function setActive(user, active) {
    const question = active ? `Let ${user.username} sign in again?`
      : `Deactivate ${user.username}? They are signed out everywhere and cannot sign in ` +
        "until reactivated.";
    const label = active ? "Reactivate" : "Deactivate";
    if (!await ctx.ui.confirmDialog(question, { confirmLabel: label, danger: !active })) return;
    await act(() => ctx.api("PATCH", `/api/v3/users/${encodeURIComponent(user.id)}`,
      { json: { is_active: active } }),
      `${user.username} was ${active ? "reactivated" : "deactivated"}.`,
      `[data-user="${CSS.escape(user.username)}"] [data-action="toggle-active"]`);
  }

  async function remove(user) {
    if (!await ctx.ui.confirmDialog(`Delete ${user.username} from this organisation? ` +
      "Their sessions and API tokens end now. This cannot be undone.")) return;
    await act(() => ctx.api("DELETE", `/api/v3/users/${encodeURIComponent(user.id)}`),
      `${user.username} was deleted.`, "h1");
  }

  async function act(call, message, back) {
    try {
      await call();
      await refresh(message);
    } catch (error) {
      // The API's own words, e.g. "A tenant must keep at least one active owner."
      ctx.ui.toast(refusal(error), { kind: "error" });
      await refresh();
    }
    focusOn(back);
  }

  function roleSelect(name, choices, selected) {
    return h("select", { name },
      ...choices.map((role) => h("option", { value: role, selected: role === selected }, role)));
  }

  draw();
}

// Why the API refused: a member holding more than the signed-in user (the owner, to an
// admin) is named with what they hold; anything else in the API's own message.
function refusal(error) {
  const beyond = error.code === "permission_denied" && error.details?.permissions;
  if (Array.isArray(beyond) && beyond.length) {
    return "You cannot change or remove someone who holds permissions you do not have: " +
      `${beyond.map(permissionLabel).join(", ")}.`;
  }
  return error.message || "That did not work.";
}

function effective(base, grants, revokes) {
  const names = new Set([...base, ...grants]);
  for (const name of revokes) names.delete(name);
  return [...names];
}
