// The organisation's pairing codes still waiting for a screen (unused, unexpired): when each
// was made and by whom, when it expires, and Revoke for a code that should not link anything
// after all. The codes themselves are never shown again (only their hashes are kept).

import { loadDirectory } from "./directory.js";
import { PAIRING_CODES, plainError, relative } from "./screens_api.js";

/** A panel listing waiting codes (hidden while there is none); ``reload()`` refreshes it. */
export function pendingCodes(ctx) {
  const { h, replaceChildren } = ctx.ui;
  const ui = ctx.ui;
  const element = h("section", { class: "card pending-codes", hidden: true,
                                 "aria-labelledby": "pending-codes-title" });
  let directory = null;
  let loading = 0;

  async function reload() {
    const token = ++loading;
    let items;
    try {
      directory ??= await loadDirectory(ctx);
      items = (await ctx.api("GET", PAIRING_CODES)).items || [];
    } catch (error) {
      if (token !== loading || error.code === "session_ended") return;
      element.hidden = false;
      replaceChildren(element, title(), h("p", { class: "form-error", role: "alert" },
        `The waiting pairing codes could not be read: ${plainError(error)}`));
      return;
    }
    if (token !== loading) return;
    // The list may be a moment old: a code that expired since is no longer worth showing.
    items = items.filter((code) => Date.parse(code.expires_at) > Date.now());
    element.hidden = !items.length;
    replaceChildren(element, title(),
      h("p", { class: "hint" }, "Each works once, until it expires. Revoke a code nobody "
        + "should link a screen with any more."),
      h("ul", { class: "token-list code-list", "aria-label": "Waiting pairing codes" },
        items.map(item)));
  }

  function title() {
    return h("h2", { id: "pending-codes-title" }, "Pairing codes waiting for a screen");
  }

  function item(code) {
    const label = code.name ? `“${code.name}”` : "a screen (it keeps its own name)";
    const made = [h("time", { datetime: code.created_at, title: ui.formatDate(code.created_at) },
      relative(code.created_at, ui))];
    if (code.created_by) made.push(` by ${directory.name(code.created_by)}`);
    return h("li", { class: "card code-item", dataset: { pairingCode: code.id } },
      h("div", { class: "person-head" },
        h("h3", { class: "person-name" }, `For ${label}`),
        h("div", { class: "badges" }, h("span", { class: "badge active" }, "waiting"))),
      h("p", { class: "meta" }, h("span", { "data-made": "" }, "Made ", ...made), " · ",
        h("span", { "data-expires": "" }, "expires ",
          h("time", { datetime: code.expires_at, title: ui.formatDate(code.expires_at) },
            relative(code.expires_at, ui)))),
      h("div", { class: "actions" },
        h("button", { type: "button", class: "btn btn-small btn-danger-quiet",
                      "data-action": "revoke-code",
                      "aria-label": `Revoke the pairing code for ${label}`,
                      onclick: () => revoke(code, label) }, "Revoke")));
  }

  async function revoke(code, label) {
    if (!await ui.confirmDialog(`Revoke the pairing code for ${label}? A screen that types `
      + "it is refused; make a new code to link one.", { confirmLabel: "Revoke" })) return;
    try {
      await ctx.api("DELETE", `${PAIRING_CODES}/${encodeURIComponent(code.id)}`);
      ui.toast("The pairing code was revoked.");
    } catch (error) {
      ui.toast(`The pairing code could not be revoked: ${plainError(error)}`, { kind: "error" });
    }
    await reload();
  }

  return { element, reload };
}
