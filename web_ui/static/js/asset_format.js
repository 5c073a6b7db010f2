// Pure helpers for assets: mimetype detection (docs/legacy-api.md §4.3), dates, one-line
// summaries.

import { formatDateTime, formatTimeOfDay } from "./dates.js";

const IMAGE_EXT = new Set(["jpe", "jpg", "jpeg", "png", "pnm", "gif", "bmp"]);
const VIDEO_EXT = new Set(["avi", "mkv", "mov", "mpg", "mpeg", "mp4", "ts", "flv"]);
const TYPE_NAMES = { webpage: "Web page", image: "Image", video: "Video", streaming: "Stream",
                     youtube_asset: "YouTube" };
const DAY_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/** The mimetype Anthias's UI picks for a URL. */
export function detectMimetype(text) {
  let url;
  try { url = new URL(text.trim()); } catch { return "webpage"; }
  const scheme = url.protocol.replace(":", "").toLowerCase();
  if (scheme === "rtsp" || scheme === "rtmp") return "streaming";
  const host = url.hostname.toLowerCase();
  if (host === "www.youtube.com" || host === "youtu.be") return "youtube_asset";
  const ext = url.pathname.split("/").pop().split(".").slice(1).pop()?.toLowerCase() || "";
  if (IMAGE_EXT.has(ext)) return "image";
  if (VIDEO_EXT.has(ext)) return "video";
  return "webpage";
}

const pad = (n) => String(n).padStart(2, "0");

/** An API date as the value of a datetime-local input (the browser's local time). */
export function toInputValue(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A datetime-local value back to an ISO instant in UTC. */
export function fromInputValue(value) {
  return value ? new Date(value).toISOString() : null;
}

/** A start or end date for the row's Start and End columns. */
export function shortDate(iso) {
  return iso ? formatDateTime(iso) || "no date" : "no date";
}

/** "Image · 10 s · not started yet · Mon Tue · 9:00 AM–5:00 PM" (the dates have columns). */
export function describeAsset(asset) {
  const parts = [TYPE_NAMES[asset.mimetype] || asset.mimetype || "Unknown type"];
  if (asset.is_processing) parts.push("processing…");
  if (asset.duration != null) parts.push(`${asset.duration} s`);
  const now = Date.now();
  if (asset.start_date && new Date(asset.start_date).getTime() > now) parts.push("not started yet");
  if (asset.end_date && new Date(asset.end_date).getTime() < now) parts.push("ended");
  const days = asset.play_days || [];
  if (days.length && days.length < 7) parts.push(days.map((d) => DAY_NAMES[d - 1]).join(" "));
  if (asset.play_time_from && asset.play_time_to) {
    parts.push(`${formatTimeOfDay(asset.play_time_from)}–${formatTimeOfDay(asset.play_time_to)}`);
  }
  if (!asset.is_enabled) parts.push("off");
  return parts.join(" · ");
}
