// Talking to the server: CSRF header on every request, readable error messages, sign-in on 401.

const token = document.querySelector('meta[name="csrf-token"]')?.content || "";

/** Headers every request from these pages carries. */
export function baseHeaders(extra = {}) {
  return { "X-CSRFToken": token, ...extra };
}

/** The server's refusal as one sentence a person can read. */
export function describeError(status, data, text) {
  if (status === 403 && text && !data) return text;
  if (data && typeof data === "object") {
    if (typeof data.error === "string") return data.error;
    if (data.error && typeof data.error === "object") return describeV3(data.error);
    if (typeof data.detail === "string") return data.detail;
    const parts = Object.entries(data).map(([field, errors]) =>
      `${field.replace(/_/g, " ")}: ${[].concat(errors).join(" ")}`);
    if (parts.length) return parts.join("; ");
  }
  if (typeof data === "string" && data) return data;
  if (status === 0) return "The device could not be reached. Check the network and try again.";
  return text || `The device answered with error ${status}.`;
}

/** API v3's {code, message, details}: its message, then each field's own ("expires at: ..."). */
function describeV3(error) {
  const fields = error.code === "validation_error" && error.details
    && typeof error.details === "object" ? Object.entries(error.details) : [];
  if (!fields.length) return String(error.message || error.code || "The request was refused.");
  return fields.map(([field, errors]) =>
    `${field.replace(/_/g, " ")}: ${[].concat(errors).join(" ")}`).join("; ");
}

/** Send the person to the sign-in page, back here afterwards. */
export function signIn() {
  window.location.assign(`/login?next=${encodeURIComponent(location.pathname)}`);
}

/** fetch() with JSON in and out; resolves to {ok, status, data, text, response}. */
export async function request(method, url, { json, form, headers = {}, signal } = {}) {
  const init = { method, headers: baseHeaders(headers), cache: "no-store", signal,
                 credentials: "same-origin" };
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (form !== undefined) {
    init.body = form;
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    if (error.name === "AbortError") throw error;
    return { ok: false, status: 0, data: null, text: "", message: describeError(0) };
  }
  if (response.status === 401) signIn();
  const text = response.status === 204 || response.status === 304 ? "" : await response.text();
  let data = null;
  if (text && (response.headers.get("Content-Type") || "").includes("json")) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  const result = { ok: response.ok, status: response.status, data, text, response };
  result.message = response.ok ? "" : describeError(response.status, data, text);
  return result;
}

/** Upload a body with XMLHttpRequest, which (unlike fetch) reports upload progress. */
export function xhrUpload(url, body, { headers = {}, onProgress, onAbortable } = {}) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    for (const [name, value] of Object.entries(baseHeaders(headers))) {
      xhr.setRequestHeader(name, value);
    }
    xhr.upload.onprogress = (event) => onProgress?.(event.loaded, event.total);
    const finish = (aborted) => {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch { data = null; }
      const ok = xhr.status >= 200 && xhr.status < 300;
      if (xhr.status === 401) signIn();
      resolve({ ok, aborted, status: xhr.status, data, text: xhr.responseText,
                message: ok ? "" : describeError(xhr.status, data, xhr.responseText) });
    };
    xhr.onload = () => finish(false);
    xhr.onerror = () => finish(false);
    xhr.onabort = () => finish(true);
    onAbortable?.(() => xhr.abort());
    xhr.send(body);
  });
}

/** Slide the toast away, then empty it so that it takes no room at all. */
function hideToast(box) {
  clearTimeout(box._timer);
  box.classList.remove("shown");
  box._timer = setTimeout(() => { box.textContent = ""; }, 250);
}

/** A short message in the status area; any tap or key elsewhere puts it away. */
export function toast(message, kind = "info") {
  const box = document.getElementById("toast");
  if (!box) return;
  box.textContent = message;
  box.dataset.kind = kind;
  // On a phone the toast covers the header (see app.css): as tall as it, so nothing peeks out.
  const header = document.querySelector("header.top");
  box.style.setProperty("--toast-cover", header ? `${header.offsetHeight}px` : "0");
  box.classList.add("shown");
  clearTimeout(box._timer);
  box._timer = setTimeout(() => hideToast(box), 6000);
  if (!box._dismissable) {
    box._dismissable = true;
    const away = () => { if (box.classList.contains("shown")) hideToast(box); };
    document.addEventListener("pointerdown", away, true);
    document.addEventListener("keydown", (event) => { if (event.key === "Escape") away(); });
  }
}

/** Random hex id; crypto.randomUUID needs HTTPS, which a LAN device rarely has. */
export function randomId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
