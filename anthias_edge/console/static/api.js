// The console's one way to call API v3.
//
// The access token lives in this module's memory only (never in a URL or in storage); the
// refresh token is an HttpOnly cookie the page cannot read, sent only to
// /api/v3/auth/session/*. Calls that the cookie authenticates carry the CSRF token from the
// script-readable ae_csrf cookie in X-CSRF-Token. The access token is renewed before it
// expires, and once more when the server says it is no longer valid.

const SESSION = "/api/v3/auth/session";
const CSRF_COOKIE = "ae_csrf";
const CSRF_HEADER = "X-CSRF-Token";
// Renew this long before expiry (at most a fifth of the token's life).
const RENEW_MARGIN_S = 60;

let access = null; // { token, expiresAt (ms) }
let renewTimer = null;
let renewing = null;
const signedOutListeners = new Set();

/** An API failure: HTTP status, v3 error code, a message for people, field messages. */
export class ApiError extends Error {
  constructor(status, code, message, fields = {}, details = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.fields = fields;
    this.details = details;
  }
}

/** "2 minutes", "45 seconds": a wait in plain words. */
export function describeWait(seconds) {
  const s = Math.max(1, Math.ceil(Number(seconds) || 0));
  if (s < 90) return `${s} second${s === 1 ? "" : "s"}`;
  const m = Math.ceil(s / 60);
  return `${m} minute${m === 1 ? "" : "s"}`;
}

const PLAIN = {
  authentication_failed: "That user name and password do not match an account of this organisation.",
  tenant_inactive: "This organisation's account is not active. Contact its owner.",
  tenant_mismatch: "That account belongs to another organisation's address.",
  permission_denied: "You do not have permission to do that.",
  cross_site_request: "The request was refused because it did not come from this console.",
  csrf_token_invalid: "Your session could not be confirmed. Reload the page and sign in again.",
};

function toError(status, body, retryAfterHeader) {
  const error = body && typeof body === "object" ? body.error : null;
  const code = error?.code || (status === 0 ? "network_error" : `http_${status}`);
  const details = error?.details ?? null;
  let message = PLAIN[code] || error?.message || "";
  if (code === "too_many_attempts") {
    const wait = details?.retry_after ?? retryAfterHeader;
    message = `Too many failed sign-in attempts. Wait ${describeWait(wait)}, then try again.`;
  }
  if (!message) {
    message = status === 0 ? "The server could not be reached. Check your connection and try again."
      : `The server answered with error ${status}.`;
  }
  const fields = code === "validation_error" && details && typeof details === "object"
    ? details : {};
  return new ApiError(status, code, message, fields, details);
}

function readCookie(name) {
  for (const part of document.cookie.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return "";
}

async function parse(response) {
  if (response.status === 204) return null;
  const text = await response.text();
  if (!text) return null;
  try { return JSON.parse(text); } catch { return text; }
}

async function send(method, url, { headers = {}, body } = {}) {
  let response;
  try {
    response = await fetch(url, { method, headers, body, credentials: "same-origin",
                                  cache: "no-store" });
  } catch {
    throw toError(0, null);
  }
  const data = await parse(response);
  if (!response.ok) throw toError(response.status, data, response.headers.get("Retry-After"));
  return data;
}

function keep(session) {
  access = { token: session.access_token,
             expiresAt: Date.now() + session.expires_in * 1000 };
  clearTimeout(renewTimer);
  const margin = Math.min(RENEW_MARGIN_S, session.expires_in / 5);
  renewTimer = setTimeout(() => { renew().catch(() => {}); },
                          Math.max(1, session.expires_in - margin) * 1000);
}

function forget() {
  access = null;
  clearTimeout(renewTimer);
  renewTimer = null;
}

/** Call ``listener(reason)`` when the session ends without the user signing out. */
export function onSignedOut(listener) {
  signedOutListeners.add(listener);
  return () => signedOutListeners.delete(listener);
}

function endSession(reason) {
  forget();
  for (const listener of signedOutListeners) listener(reason);
}

/** Sign in; ``tenant`` only where the host names no organisation. */
export async function signIn(username, password, tenant = "") {
  const json = { username, password };
  if (tenant) json.tenant = tenant;
  const session = await send("POST", SESSION, {
    headers: { "Content-Type": "application/json" }, body: JSON.stringify(json) });
  keep(session);
  return session;
}

/**
 * Trade the refresh cookie for a new access token (one at a time). Resolves true when the
 * session goes on, false when there is none (no cookie, revoked, expired).
 */
export function renew() {
  if (!renewing) {
    renewing = (async () => {
      const csrf = readCookie(CSRF_COOKIE);
      if (!csrf) return false;
      try {
        keep(await send("POST", `${SESSION}/refresh`, { headers: { [CSRF_HEADER]: csrf } }));
        return true;
      } catch (error) {
        if (error.status === 0) throw error; // offline: the session may still be fine
        return false;
      }
    })().finally(() => { renewing = null; });
  }
  return renewing;
}

/** Whether a session exists now (after a page load: through the refresh cookie). */
export async function resume() {
  if (access) return true;
  return renew();
}

/** End every session of this user, on every device; the page forgets its token. */
export async function signOutEverywhere() {
  const csrf = readCookie(CSRF_COOKIE);
  try {
    if (csrf) await send("POST", `${SESSION}/logout`, { headers: { [CSRF_HEADER]: csrf } });
  } finally {
    forget();
  }
}

function buildUrl(path, query) {
  const url = new URL(path.startsWith("/") ? path : `/api/v3/${path}`, location.origin);
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, value);
  }
  return url.pathname + url.search;
}

function xhrSend(method, url, headers, body, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded, event.total);
    };
    xhr.onload = () => {
      let data = null;
      try { data = xhr.responseText ? JSON.parse(xhr.responseText) : null; } catch { data = null; }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else reject(toError(xhr.status, data, xhr.getResponseHeader("Retry-After")));
    };
    xhr.onerror = () => reject(toError(0, null));
    xhr.send(body);
  });
}

async function attempt(method, url, { json, body, headers, onProgress }) {
  if (!access || Date.now() > access.expiresAt - 5000) {
    if (!(await renew())) {
      endSession("expired");
      throw new ApiError(401, "session_ended", "Your session has ended. Sign in again.");
    }
  }
  const all = { Authorization: `Bearer ${access.token}`, ...(headers || {}) };
  let payload = body;
  if (json !== undefined) {
    all["Content-Type"] = "application/json";
    payload = JSON.stringify(json);
  }
  if (onProgress) return xhrSend(method, url, all, payload, onProgress);
  return send(method, url, { headers: all, body: payload });
}

/**
 * Call v3: ``api("GET", "/api/v3/assets", {query})`` resolves to the parsed JSON (null for
 * 204) or throws ApiError. ``onProgress(loaded, total)`` reports an upload's progress.
 */
export async function api(method, path, options = {}) {
  const url = buildUrl(path, options.query);
  try {
    return await attempt(method, url, options);
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401 || error.code === "session_ended") {
      throw error;
    }
    // The token was refused (expired early, or this session was revoked): renew once.
    access = null;
    if (!(await renew())) {
      endSession("revoked");
      throw new ApiError(401, "session_ended", "Your session has ended. Sign in again.");
    }
    return attempt(method, url, options);
  }
}

/**
 * Fetch a binary answer of v3 (an image) with the session's token: ``apiBlob(path, {query})``
 * resolves to a Blob or throws ApiError. An <img src> could not carry the token.
 */
export async function apiBlob(path, options = {}) {
  const url = buildUrl(path, options.query);
  const once = async () => {
    if (!access && !(await renew())) {
      endSession("expired");
      throw new ApiError(401, "session_ended", "Your session has ended. Sign in again.");
    }
    let response;
    try {
      response = await fetch(url, { headers: { Authorization: `Bearer ${access.token}` },
                                    credentials: "same-origin" });
    } catch {
      throw toError(0, null);
    }
    if (!response.ok) throw toError(response.status, await parse(response));
    return response.blob();
  };
  try {
    return await once();
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401 || error.code === "session_ended") {
      throw error;
    }
    access = null; // refused: renew once, as api() does
    return once();
  }
}
