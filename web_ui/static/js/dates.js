// Dates and times the way the "Date format" and "Use a 24-hour clock" settings ask; the page's
// <body> carries both (base.html), so every page shows them alike.

const settings = document.body.dataset;
const FORMAT = /^(?:yyyy|mm|dd)[./-](?:yyyy|mm|dd)[./-](?:yyyy|mm|dd)$/.test(settings.dateFormat || "")
  ? settings.dateFormat : "mm/dd/yyyy";
const HOURS_24 = settings.clock === "24";
const pad = (n) => String(n).padStart(2, "0");

function toDate(value) {
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** "04.03.2099" for dd.mm.yyyy. */
export function formatDate(value) {
  const d = toDate(value);
  if (!d) return "";
  const parts = { yyyy: String(d.getFullYear()), mm: pad(d.getMonth() + 1), dd: pad(d.getDate()) };
  return FORMAT.replace(/yyyy|mm|dd/g, (token) => parts[token]);
}

/** "15:30" on a 24-hour clock, "3:30 PM" on a 12-hour one. */
export function formatClock(hours, minutes) {
  if (HOURS_24) return `${pad(hours)}:${pad(minutes)}`;
  return `${hours % 12 || 12}:${pad(minutes)} ${hours < 12 ? "AM" : "PM"}`;
}

/** "04.03.2099 15:30": an API date in the browser's time zone. */
export function formatDateTime(value) {
  const d = toDate(value);
  return d ? `${formatDate(d)} ${formatClock(d.getHours(), d.getMinutes())}` : "";
}

/** A time of day as the API sends it ("17:30:00") on the chosen clock. */
export function formatTimeOfDay(text) {
  const match = /^(\d{1,2}):(\d{2})/.exec(text || "");
  return match ? formatClock(Number(match[1]), Number(match[2])) : text || "";
}
