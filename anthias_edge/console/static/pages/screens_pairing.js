// Linking a screen from the console, both ways: create a one-time pairing code to type on
// the screen (shown large, with its 10-minute countdown), or claim the code a screen shows.

import { PAIRING_CODES, DEVICES, plainCode, plainError, spacedCode, timeLeft } from "./screens_api.js";

/** Create a pairing code (optionally naming the screen) and show it until it expires. */
export function openPairingDialog(ctx, { onLinked } = {}) {
  const { h, replaceChildren } = ctx.ui;
  const name = h("input", { name: "name", maxlength: "100", autocomplete: "off" });
  const form = h("form", { novalidate: true },
    h("p", {}, "A pairing code links one screen. It works once, for 10 minutes."),
    ctx.ui.field("Name of the screen (optional)", name,
                 "Otherwise the screen's own name is used."),
    h("div", { class: "dialog-actions" },
      h("button", { type: "submit", class: "btn btn-primary" }, "Create the code")));
  const body = h("div", { class: "pairing" }, form);
  let ticker = null;
  const { close } = ctx.ui.openDialog("Create a pairing code", body, {
    onClose: () => { clearInterval(ticker); onLinked?.(); } });
  name.focus();

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("[type=submit]");
    button.disabled = true;
    let created;
    try {
      const json = name.value.trim() ? { name: name.value.trim() } : {};
      created = await ctx.api("POST", PAIRING_CODES, { json });
    } catch (error) {
      button.disabled = false;
      ctx.ui.formErrors(form, { ...error, message: plainError(error) });
      return;
    }
    const expiry = h("p", { class: "code-expiry", role: "timer", "aria-live": "off" });
    const cli = `anthias-edge link --cloud ${location.origin} --code ${created.code}`;
    replaceChildren(body,
      h("p", { class: "big-code", "data-code": created.code,
               "aria-label": `Pairing code ${created.code.split("").join(" ")}` },
        spacedCode(created.code)),
      expiry,
      h("ol", { class: "steps" },
        h("li", {}, "On the screen's dashboard, open ", h("strong", {}, "Cloud"), "."),
        h("li", {}, "Cloud address: ", h("code", {}, location.origin)),
        h("li", {}, "Type this code and choose ", h("strong", {}, "Link with this code"), ".")),
      h("p", { class: "hint" }, "Or on the device: ", h("code", { class: "cli" }, cli)),
      h("div", { class: "dialog-actions" },
        h("button", { type: "button", class: "btn btn-primary", onclick: () => close() },
          "Done")));
    const tick = () => {
      const left = timeLeft(created.expires_at);
      expiry.textContent = left ? `Expires in ${left}.` : "This code expired. Create a new one.";
      expiry.classList.toggle("expired", !left);
      if (!left) clearInterval(ticker);
    };
    tick();
    ticker = setInterval(tick, 1000);
    body.querySelector(".dialog-actions .btn").focus();
  });
}

/** Claim the code a screen shows (``code`` pre-filled from a claim link). */
export function openClaimDialog(ctx, { code = "", onClaimed } = {}) {
  const { h } = ctx.ui;
  const codeInput = h("input", { name: "code", value: code, maxlength: "12", required: true,
                                 autocomplete: "off", autocapitalize: "characters",
                                 spellcheck: "false", class: "code-input" });
  const name = h("input", { name: "name", maxlength: "100", autocomplete: "off" });
  const form = h("form", { novalidate: true },
    h("p", {}, "A screen that is not linked can show a code on its splash page and its "
      + "Cloud page. Type it here to link that screen to your organisation."),
    ctx.ui.field("Code shown on the screen", codeInput, "8 letters and digits."),
    ctx.ui.field("Name of the screen (optional)", name, "Otherwise the name the screen gave."),
    h("div", { class: "dialog-actions" },
      h("button", { type: "button", class: "btn", onclick: () => close() }, "Cancel"),
      h("button", { type: "submit", class: "btn btn-primary" }, "Claim the screen")));
  const { close } = ctx.ui.openDialog("Claim a screen's code", form);
  (code ? name : codeInput).focus();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const plain = plainCode(codeInput.value);
    if (plain.length !== 8) {
      ctx.ui.formErrors(form, { fields: { code: [plain ? "A code has 8 characters."
                                                       : "Type the code the screen shows."] } });
      return;
    }
    const button = form.querySelector("[type=submit]");
    button.disabled = true;
    try {
      const json = { code: plain };
      if (name.value.trim()) json.name = name.value.trim();
      const device = await ctx.api("POST", `${DEVICES}/claim`, { json });
      close();
      ctx.ui.toast(`“${device?.name || "The screen"}” is linked. It shows up within a minute.`);
      if (location.hash.startsWith("#/screens/claim")) history.replaceState(null, "", "#/screens");
      await onClaimed?.();
    } catch (error) {
      button.disabled = false;
      const fields = error.code === "validation_error" ? error.fields
        : { code: [plainError(error)] };
      ctx.ui.formErrors(form, { ...error, fields, message: plainError(error) });
    }
  });
}
