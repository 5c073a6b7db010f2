"""Datetimes as Anthias writes and reads them (docs/legacy-api.md §1.5).

Storage and arithmetic use naive UTC datetimes, exactly what Anthias keeps in
SQLite. Output is ISO-8601 in the device's zone, ``Z`` for UTC, microseconds
only when non-zero.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC = dt.UTC

_INPUT = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})[T ](?P<h>\d{2}):(?P<m>\d{2})"
    r"(?::(?P<s>\d{2})(?:\.(?P<f>\d{1,6})\d*)?)?"
    r"\s*(?P<tz>Z|z|[+-]\d{2}(?::?\d{2})?)?$"
)

DATETIME_FORMAT_ERROR = (
    "Datetime has wrong format. Use one of these formats instead: "
    "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
)


def utcnow() -> dt.datetime:
    """Return the current time as a naive UTC datetime (the storage form)."""
    return dt.datetime.now(UTC).replace(tzinfo=None)


def parse_datetime(text: str) -> dt.datetime:
    """Parse an API datetime into naive UTC; naive input is UTC. Raise ValueError if malformed."""
    match = _INPUT.match(text.strip())
    if match is None:
        raise ValueError(DATETIME_FORMAT_ERROR)
    year, month, day = (int(part) for part in match["date"].split("-"))
    micro = int((match["f"] or "0").ljust(6, "0"))
    value = dt.datetime(
        year, month, day, int(match["h"]), int(match["m"]), int(match["s"] or 0), micro
    )
    offset = match["tz"]
    if offset and offset not in ("Z", "z"):
        sign = 1 if offset[0] == "+" else -1
        digits = offset[1:].replace(":", "")
        delta = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
        value -= sign * delta
    return value


def parse_stored(value: object) -> dt.datetime | None:
    """Read a stored datetime, tolerating every spelling Anthias databases hold."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            return value.astimezone(UTC).replace(tzinfo=None)
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    text = str(value)
    try:  # the common case, and ten times faster than the general parser
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        parsed = None
    if parsed is not None:
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(UTC).replace(tzinfo=None)
        return parsed
    if len(text) == 10:
        text += " 00:00:00"
    return parse_datetime(text)


def format_datetime(value: dt.datetime | None, zone: dt.tzinfo = UTC) -> str | None:
    """Render a naive-UTC datetime the way Anthias's API does, or None."""
    if value is None:
        return None
    if zone is UTC:
        return value.isoformat(timespec="microseconds" if value.microsecond else "seconds") + "Z"
    return _format_in_zone(value, zone)


# A list page renders hundreds of dates, most of them repeated (assets added together share
# their dates), and a zone conversion costs ten times the formatting: remember recent ones.
@lru_cache(maxsize=4096)
def _format_in_zone(value: dt.datetime, zone: dt.tzinfo) -> str:
    try:
        local = value.replace(tzinfo=UTC).astimezone(zone)
    except OverflowError:
        # Within hours of year 1 or 9999 the local time has no datetime: the same instant in UTC.
        return format_datetime(value, UTC)
    text = local.replace(tzinfo=None).isoformat(
        timespec="microseconds" if local.microsecond else "seconds")
    offset = local.utcoffset()
    if not offset:
        return text + "Z"
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return f"{text}{sign}{minutes // 60:02d}:{minutes % 60:02d}"


# Zone names that are UTC under another name: rendering in them takes the fast path above.
_UTC_NAMES = frozenset({"UTC", "UCT", "Universal", "Zulu", "Etc/UTC", "Etc/UCT",
                        "Etc/Universal", "Etc/Zulu"})


@lru_cache(maxsize=4)
def device_timezone(timezone_file: str = "/etc/timezone") -> dt.tzinfo:
    """The device's zone, read from /etc/timezone like Anthias; UTC when unknown."""
    try:
        name = Path(timezone_file).read_text(encoding="utf-8").strip()
        return ZoneInfo(name) if name and name not in _UTC_NAMES else UTC
    except (OSError, ValueError, ZoneInfoNotFoundError):
        return UTC
