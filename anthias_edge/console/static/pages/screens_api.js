// The fleet's v3 calls and the few words every Screens view shares: a screen's connection
// state, relative times, sizes. One place that knows the API's paths and field names.

export const DEVICES = "/api/v3/devices";
export const PAIRING_CODES = "/api/v3/pairing-codes";
export const FLEET_TOKENS = "/api/v3/fleet-tokens";
export const PLAY_REPORT = "/api/v3/reports/plays";

export const COMMANDS = [
  ["next", "Next"], ["previous", "Previous"], ["reload", "Reload"], ["reboot", "Restart"],
];

const STATE_WORDS = { online: "Online", stale: "Late", offline: "Offline", revoked: "Revoked",
                      never: "Not seen yet" };

/**
 * ``online`` | ``stale`` | ``offline`` | ``revoked`` as the API computes it (online: synced
 * within two intervals), or ``never`` for an offline screen that has not synced yet.
 */
export function connection(device) {
  if (device.status === "offline" && !device.last_seen_at) return "never";
  return device.status;
}

export function connectionLabel(state) {
  return STATE_WORDS[state] || state;
}

/** What is on the screen now, in words ("" when unknown). */
export function onScreen(device) {
  const now = device.on_screen;
  if (now && typeof now === "object") return now.name || now.asset_id || "";
  return device.on_screen_name || "";
}

/** "3 min ago", "just now", "in 2 h" (for times within a few weeks; a date otherwise). */
export function relative(iso, ui, now = Date.now()) {
  if (!iso) return "";
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return "";
  const seconds = Math.round((then - now) / 1000);
  const size = Math.abs(seconds);
  if (size < 10) return "just now";
  let words;
  if (size < 90) words = `${size} s`;
  else if (size < 5400) words = `${Math.round(size / 60)} min`;
  else if (size < 129600) words = `${Math.round(size / 3600)} h`;
  else if (size < 30 * 86400) words = `${Math.round(size / 86400)} d`;
  else return ui.formatDate(iso);
  return seconds < 0 ? `${words} ago` : `in ${words}`;
}

/** 12.3 GB, 830 MB (decimal units, as disks are sold). */
export function bytes(value) {
  if (value === null || value === undefined || value === "") return "";
  let size = Number(value);
  const units = ["B", "KB", "MB", "GB", "TB"];
  let unit = 0;
  while (size >= 1000 && unit < units.length - 1) {
    size /= 1000;
    unit += 1;
  }
  const shown = size >= 100 || unit === 0 ? String(Math.round(size))
    : size.toFixed(1).replace(/\.0$/, "");
  return `${shown} ${units[unit]}`;
}

/** "ABCD EFGH": a code in two groups of four, easier to read out and type. */
export function spacedCode(code) {
  const plain = String(code || "");
  return plain.length === 8 ? `${plain.slice(0, 4)} ${plain.slice(4)}` : plain;
}

/** A code as typed (spaces, dashes, lower case) the way the API takes it. */
export function plainCode(text) {
  return String(text || "").replace(/[\s-]/g, "").toUpperCase();
}

/** "m:ss" left until ``iso`` ("" once past). */
export function timeLeft(iso, now = Date.now()) {
  const left = Math.round((Date.parse(iso) - now) / 1000);
  if (!(left > 0)) return "";
  return `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
}

/** The error's message, with what the fleet API's codes mean said for people. */
export function plainError(error) {
  const words = {
    pairing_code_invalid: "That code is not valid: it may be mistyped, already used or expired "
      + "(codes last 10 minutes).",
    device_code_invalid: "That code is not valid: it may be mistyped, already claimed or "
      + "expired (codes last 10 minutes).",
    device_code_expired: "That code expired. Show a new one on the screen.",
    device_not_found: "That screen is not in your organisation (any more). Reload the list.",
    device_not_active: "That screen was revoked; it takes no commands. Link it again first.",
    device_asset_not_found: "The screen no longer has that asset. Reopen the dialog.",
    device_key_in_use: "A linked screen already uses this screen's key. Revoke that screen "
      + "first, or link this one again so that it makes a new key.",
    fleet_token_not_found: "That fleet token no longer exists. Reload the page.",
    too_many_attempts: "Too many claims in a short time. Wait a moment, then try again.",
    rate_limited: "Too many attempts. Wait a minute, then try again.",
  };
  return words[error?.code] || error?.message || "Something went wrong.";
}

/** Save ``blob`` as ``name`` through a temporary link. */
export function saveBlob(ctx, blob, name) {
  const url = URL.createObjectURL(blob);
  const link = ctx.ui.h("a", { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Copy ``input``'s text: the Clipboard API where allowed, else the selection. */
export async function copyInput(ctx, input, what) {
  input.focus();
  input.select();
  let copied = false;
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(input.value);
      copied = true;
    } catch {
      copied = false;
    }
  }
  if (!copied) {
    try { copied = document.execCommand("copy"); } catch { copied = false; }
  }
  ctx.ui.toast(copied ? `${what} copied to the clipboard.`
    : `Press Ctrl+C (or long-press and Copy) to copy the selected ${what.toLowerCase()}.`);
}
