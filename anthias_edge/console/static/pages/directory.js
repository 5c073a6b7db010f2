// Names for the ids the API answers (audit actors, token owners), fetched only as far as the
// signed-in user may read them: without users.view or tokens.manage an id stays an id.

export async function loadDirectory(ctx) {
  const names = new Map([["system", "System"]]);
  const people = [];
  const tokens = [];
  const calls = [];
  if (ctx.can("users.view")) {
    calls.push(ctx.api("GET", "/api/v3/users").then((body) => {
      for (const user of body.items) {
        people.push(user);
        names.set(user.id, user.username);
      }
    }));
  }
  if (ctx.can("tokens.manage")) {
    calls.push(ctx.api("GET", "/api/v3/tokens").then((body) => {
      for (const token of body.items) {
        tokens.push(token);
        names.set(token.id, `API token “${token.name}”`);
      }
    }));
  }
  // A list the user may not read must not stop the page that asked for names.
  await Promise.allSettled(calls);
  if (ctx.user && !names.has(ctx.user.id)) names.set(ctx.user.id, ctx.user.username);
  return {
    people,
    tokens,
    name: (id) => names.get(id) || id,
  };
}

// The role table from /api/v3/roles, least to most; fetched once per page load.
let rolesOnce = null;
export function loadRoles(ctx) {
  if (!rolesOnce) {
    rolesOnce = ctx.api("GET", "/api/v3/roles").catch((error) => {
      rolesOnce = null;
      throw error;
    });
  }
  return rolesOnce;
}

// The field errors an ApiError carries, including a conflict that names its field
// ({"field": "username"}), as {field: [messages]}.
export function fieldErrors(error) {
  const fields = { ...(error && error.fields ? error.fields : {}) };
  const details = error && error.details;
  if (!Object.keys(fields).length && details && typeof details.field === "string") {
    fields[details.field] = [error.message];
  }
  return fields;
}

// Permissions grouped by what they act on, each group read -> write -> remove.
const VERB_ORDER = ["view", "create", "edit", "delete", "manage"];
export function sortPermissions(names) {
  const nouns = Object.keys(NOUNS);
  const rank = (name) => {
    const [noun, verb] = name.split(".");
    const n = nouns.indexOf(noun);
    return [n < 0 ? nouns.length : n, VERB_ORDER.indexOf(verb)];
  };
  return [...names].sort((a, b) => {
    const [x, y] = [rank(a), rank(b)];
    return x[0] - y[0] || x[1] - y[1] || a.localeCompare(b);
  });
}

// Permission names read as words: "users.manage" -> "Manage users".
const VERBS = { view: "View", create: "Add", edit: "Edit", delete: "Delete", manage: "Manage" };
const NOUNS = {
  assets: "content", qr: "QR codes", tenant: "organisation", devices: "screens",
  users: "people", audit: "activity", tokens: "API tokens", billing: "billing",
};
export function permissionLabel(name) {
  const [noun, verb] = name.split(".");
  if (name === "tenant.delete") return "Delete the organisation";
  return `${VERBS[verb] || verb} ${NOUNS[noun] || noun}`;
}
