// The console's Share dialog, used by the Content page's Share button and the Sharing page:
// one QR content's code, link (with copy), scans, expiry, downloads and deactivation, each
// control shown only to users whose permissions allow it. Not a page: pages/index.js lists
// pages, and this module loads only when a Share dialog opens.

const BASE = "/api/v3/qr-content";

function codePath(qr) { return `${BASE}/${encodeURIComponent(qr.qr_code)}`; }

/** "3 scans, last 5 Dec 2026, 14:30". */
export function scansText(qr, ui) {
  const count = Number(qr.access_count) || 0;
  const scans = `${count} scan${count === 1 ? "" : "s"}`;
  return qr.last_accessed ? `${scans}, last ${ui.formatDate(qr.last_accessed)}` : scans;
}

/** "Active", "Expired", "Deactivated", with the expiry when there is one. */
export function statusText(qr, ui) {
  if (!qr.is_active) return "Deactivated";
  if (qr.is_expired) return `Expired ${ui.formatDate(qr.expires_at)}`;
  return qr.expires_at ? `Active until ${ui.formatDate(qr.expires_at)}` : "Active, no expiry";
}

export function slug(text) {
  return (text || "share").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "")
    || "share";
}

/** Save one of the API's images of ``qr`` (``kind``: qr_png, qr_svg, barcode_png). */
export async function downloadImage(ctx, qr, kind) {
  const urls = { qr_png: qr.qr_png_url, qr_svg: qr.qr_svg_url, barcode_png: qr.barcode_png_url };
  const names = { qr_png: `${qr.qr_code}.png`, qr_svg: `${qr.qr_code}.svg`,
                  barcode_png: `${qr.barcode}.png` };
  try {
    const blob = await ctx.apiBlob(urls[kind]);
    const url = URL.createObjectURL(blob);
    const link = ctx.ui.h("a", { href: url, download: `${slug(qr.title)}-${names[kind]}` });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (error) {
    ctx.ui.toast(`The image could not be downloaded: ${error.message}`, { kind: "error" });
  }
}

/** The active QR content of an asset, or null. */
export async function activeShareOf(ctx, assetId) {
  const page = await ctx.api("GET", BASE, { query: { asset: assetId, active: "true", limit: 1 } });
  return (page.items || [])[0] || null;
}

/**
 * Open the dialog for ``qr``, or for ``asset``'s active QR content (offering to create one
 * when there is none and the user may). ``onChange(qr)`` follows every change.
 */
export async function openShareDialog(ctx, { asset = null, qr = null, onChange = () => {} }) {
  const { h, replaceChildren } = ctx.ui;
  const ui = ctx.ui;
  const name = qr ? (qr.title || qr.qr_code) : asset.name;
  const body = h("div", { class: "share" }, h("p", { class: "muted" }, "Loading…"));
  const { close } = ui.openDialog(`Share “${name}”`, body, { onClose: () => revoke() });
  let imageUrl = null;
  const revoke = () => { if (imageUrl) URL.revokeObjectURL(imageUrl); imageUrl = null; };

  if (!qr) {
    try {
      qr = await activeShareOf(ctx, asset.asset_id);
    } catch (error) {
      replaceChildren(body, h("p", { class: "form-error", role: "alert" }, error.message));
      return;
    }
  }
  if (qr) await showCode(qr); else showOffer();

  function showOffer() {
    if (!ctx.can("qr.create")) {
      replaceChildren(body, h("p", {}, "This content is not shared. An editor of your "
                                       + "organisation can share it with a QR code."));
      return;
    }
    const expiry = h("input", { name: "expires_at", type: "datetime-local" });
    const barcode = h("input", { type: "checkbox", name: "include_barcode" });
    const submit = h("button", { type: "submit", class: "btn btn-primary" }, "Share with a QR code");
    const form = h("form", { novalidate: true },
      h("p", {}, "People who scan the code, or open its link, see this content on their phone "
                 + "without signing in."),
      ui.field("Stop sharing on (optional)", expiry,
               `In your time zone (${Intl.DateTimeFormat().resolvedOptions().timeZone}).`),
      h("label", { class: "check" }, barcode, "Also make a barcode"),
      h("div", { class: "dialog-actions" },
        h("button", { type: "button", class: "btn", onclick: close }, "Cancel"), submit));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      ui.clearFormErrors(form);
      submit.disabled = true;
      try {
        const created = await ctx.api("POST", BASE, { json: {
          asset_id: asset.asset_id, title: asset.name, expires_at: ui.fromLocalInput(expiry.value),
          include_barcode: barcode.checked } });
        ui.toast(`${asset.name} is shared.`);
        onChange(created);
        await showCode(created);
      } catch (error) {
        ui.formErrors(form, error);
      } finally {
        submit.disabled = false;
      }
    });
    replaceChildren(body, form);
    expiry.focus();
  }

  async function showCode(current) {
    qr = current;
    const image = h("img", { class: "share-image", alt: `QR code that opens ${qr.landing_url}`,
                             width: "240", height: "240" });
    const link = h("input", { name: "landing_url", value: qr.landing_url, readonly: true,
                              id: `share-link-${qr.qr_code}` });
    link.addEventListener("focus", () => link.select());
    const message = h("p", { class: "hint", role: "status" });
    const copy = h("button", { type: "button", class: "btn", onclick: () => copyLink(link, message) },
                   "Copy link");
    const downloads = h("div", { class: "dialog-actions share-downloads", role: "group",
                                 "aria-label": "Downloads" },
      h("button", { type: "button", class: "btn btn-small",
                    onclick: () => downloadImage(ctx, qr, "qr_png") }, "Download PNG"),
      h("button", { type: "button", class: "btn btn-small",
                    onclick: () => downloadImage(ctx, qr, "qr_svg") }, "Download SVG"),
      qr.barcode ? h("button", { type: "button", class: "btn btn-small",
                                 onclick: () => downloadImage(ctx, qr, "barcode_png") },
                     "Download barcode") : null);
    const live = qr.is_active && !qr.is_expired;
    replaceChildren(body,
      h("div", { class: "share-code" },
        image,
        h("div", { class: "share-details" },
          h("div", { class: "field" }, h("label", { for: link.id }, "Link"),
            h("div", { class: "share-link-row" }, link, copy)),
          message,
          h("p", { class: "asset-meta" },
            h("span", { class: `status ${live ? "status-on" : "status-off"}` }, statusText(qr, ui)),
            h("span", { class: "share-scans" }, scansText(qr, ui)),
            qr.barcode ? h("span", {}, `Barcode ${qr.barcode}`) : null),
          ctx.can("qr.edit") && qr.is_active ? expiryForm() : null,
          downloads)),
      h("div", { class: "dialog-actions" },
        ctx.can("qr.edit") && qr.is_active
          ? h("button", { type: "button", class: "btn btn-danger-quiet", onclick: deactivate },
              "Deactivate") : null,
        h("button", { type: "button", class: "btn", onclick: close }, "Close")));
    copy.focus();
    try {
      const blob = await ctx.apiBlob(qr.qr_svg_url);
      revoke();
      imageUrl = URL.createObjectURL(blob);
      image.src = imageUrl;
    } catch (error) {
      image.replaceWith(h("p", { class: "form-error", role: "alert" },
                          `The code could not be shown: ${error.message}`));
    }
  }

  function expiryForm() {
    const input = h("input", { name: "expires_at", type: "datetime-local",
                               value: ui.toLocalInput(qr.expires_at) });
    const form = h("form", { class: "share-expiry", novalidate: true },
      ui.field("Stop sharing on", input),
      h("div", { class: "dialog-actions" },
        h("button", { type: "button", class: "btn btn-small",
                      onclick: () => saveExpiry(form, null) }, "No expiry"),
        h("button", { type: "submit", class: "btn btn-small" }, "Save date")));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (!input.value) {
        ui.formErrors(form, { fields: { expires_at: ["Pick a date and time, or choose No expiry."] } });
        return;
      }
      saveExpiry(form, ui.fromLocalInput(input.value));
    });
    return form;
  }

  async function saveExpiry(form, value) {
    ui.clearFormErrors(form);
    try {
      const updated = await ctx.api("PATCH", codePath(qr), { json: { expires_at: value } });
      ui.toast(value ? `Sharing stops ${ui.formatDate(value)}.` : "Sharing has no expiry.");
      onChange(updated);
      await showCode(updated);
    } catch (error) {
      ui.formErrors(form, error);
    }
  }

  async function deactivate() {
    const sure = await ui.confirmDialog(
      `Deactivate this code? Scanning it will show “no longer available”.`,
      { confirmLabel: "Deactivate" });
    if (!sure) return;
    try {
      const updated = await ctx.api("PATCH", codePath(qr), { json: { is_active: false } });
      ui.toast(`Deactivated the code of ${updated.title || updated.qr_code}.`);
      onChange(updated);
      await showCode(updated);
    } catch (error) {
      ui.toast(error.message, { kind: "error" });
    }
  }
}

/** Copy through the Clipboard API where the page may (HTTPS), else by selection. */
async function copyLink(input, message) {
  let copied = false;
  if (navigator.clipboard && window.isSecureContext) {
    try { await navigator.clipboard.writeText(input.value); copied = true; } catch { copied = false; }
  }
  if (!copied) {
    input.focus();
    input.select();
    try { copied = document.execCommand("copy"); } catch { copied = false; }
  }
  message.textContent = copied ? "Link copied." : "Select the link and copy it yourself.";
}
