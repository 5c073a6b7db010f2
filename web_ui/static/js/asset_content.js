// Preview and download through /api/v2/assets/<id>/content.

import { request, toast } from "./api.js";

const $ = (id) => document.getElementById(id);

async function content(asset) {
  const result = await request("GET", `/api/v2/assets/${asset.asset_id}/content`);
  if (!result.ok) { toast(`Could not read “${asset.name}”: ${result.message}`, "error"); }
  return result.ok ? result.data : null;
}

function blobOf(data) {
  const bytes = Uint8Array.from(atob(data.content), (c) => c.charCodeAt(0));
  return new Blob([bytes], { type: data.mimetype });
}

export async function preview(asset) {
  const body = $("preview-body");
  $("preview-title").textContent = `Preview: ${asset.name}`;
  body.replaceChildren();
  const data = await content(asset);
  if (!data) return;
  const src = data.type === "file" ? URL.createObjectURL(blobOf(data)) : data.url;
  const kind = asset.mimetype || "";
  let el;
  if (kind.includes("image")) {
    el = document.createElement("img");
    el.alt = asset.name;
  } else if (kind.includes("video") && data.type === "file") {
    el = document.createElement("video");
    el.controls = true;
  } else if (kind === "webpage" && data.type !== "file") {
    // Sandboxed: the page runs its scripts but gets no access to this dashboard.
    el = document.createElement("iframe");
    el.title = `Preview of ${asset.name}`;
    el.setAttribute("sandbox", "allow-scripts");
    el.referrerPolicy = "no-referrer";
    el.loading = "eager";
  }
  if (el) {
    el.src = src;
    body.append(el);
  }
  if (!el || el.tagName === "IFRAME") body.append(openLink(src, Boolean(el)));
  $("preview-dialog").showModal();
}
/** The way out for pages that refuse to be shown in a frame, and for streams. */
function openLink(src, framed) {
  const p = document.createElement("p");
  p.className = "hint";
  if (framed) p.append("If the frame stays empty, the page does not allow being shown inside another page: ");
  const link = document.createElement("a");
  link.href = src;
  link.target = "_blank";
  link.rel = "noopener";
  link.textContent = `Open ${src} in a new tab`;
  link.className = "source";
  p.append(link);
  return p;
}

$("preview-close").addEventListener("click", () => $("preview-dialog").close());
$("preview-dialog").addEventListener("close", () => $("preview-body").replaceChildren());

export async function download(asset) {
  const data = await content(asset);
  if (!data) return;
  const link = document.createElement("a");
  if (data.type === "file") {
    link.href = URL.createObjectURL(blobOf(data));
    link.download = data.filename || asset.name;
  } else {
    link.href = data.url;
    link.target = "_blank";
    link.rel = "noopener";
  }
  document.body.append(link);
  link.click();
  link.remove();
}

