// The console's pages, in navigation order: what the shell needs to draw the navigation and
// choose a page (its id, title and who may see it) without loading any page's code. A page's
// module is fetched only when the page is opened, so the first page drawn never waits for
// the others. Each module exports ``render(root, ctx)``; a new page adds its entry here.

function entry(id, title, visible, file) {
  return { id, title, visible, url: new URL(file, import.meta.url).href };
}

export const PAGES = [
  entry("content", "Content", (ctx) => ctx.can("assets.view"), "./content.js"),
  entry("sharing", "Sharing", (ctx) => ctx.can("qr.view"), "./sharing.js"),
  entry("screens", "Screens", (ctx) => ctx.can("devices.view"), "./screens.js"),
  entry("people", "People", (ctx) => ctx.can("users.view"), "./people.js"),
  entry("tokens", "API tokens", (ctx) => ctx.can("tokens.manage"), "./tokens.js"),
  entry("activity", "Activity", (ctx) => ctx.can("audit.view"), "./activity.js"),
  entry("organisation", "Organisation", (ctx) => ctx.can("tenant.view"), "./organisation.js"),
  entry("billing", "Billing", (ctx) => ctx.can("billing.view"), "./billing.js"),
];
