"""The shapes of what travels on the wire: push batches (device -> hub) and the pulled state.

Both ends validate with these helpers: the hub refuses a bad batch as a whole (nothing applied),
the agent checks a state body before it applies anything. Errors are ValidationError with
field paths such as ``entries[3].payload.asset_id``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from anthias_edge.errors import ValidationError

MAX_ENTRIES = 500
MAX_KEY_CHARS = 64
MAX_ID_CHARS = 64
MAX_TEXT_CHARS = 4096
SHA256 = re.compile(r"^[0-9a-f]{64}$")

KIND_ASSET_UPSERT = "asset.upsert"
KIND_ASSET_DELETE = "asset.delete"
KIND_PLAY = "play"
KIND_QR_UPSERT = "qr.upsert"
KIND_QR_DELETE = "qr.delete"
KIND_COMMAND_RESULT = "command.result"
COMMANDS = ("next", "previous", "reload", "reboot", "show_asset")


def wire_time(value: dt.datetime | None) -> str | None:
    """A time as the wire carries it: ISO 8601 in UTC with a ``Z`` (naive means UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Entry:
    """One outbox entry: its device-side sequence number, idempotency key, kind and payload."""

    seq: int
    key: str
    kind: str
    at: dt.datetime
    payload: dict[str, Any]

    def to_wire(self) -> dict[str, Any]:
        """The push body's form: ``{seq, key, kind, at, payload}``."""
        return {"seq": self.seq, "key": self.key, "kind": self.kind,
                "at": wire_time(self.at), "payload": self.payload}


@dataclass(frozen=True)
class PushBatch:
    """A checked push body."""

    entries: list[Entry]
    health: dict[str, Any] | None = None


@dataclass
class _Errors:
    fields: dict[str, list[str]] = field(default_factory=dict)

    def add(self, path: str, message: str) -> None:
        self.fields.setdefault(path, []).append(message)


def parse_time(value: Any) -> dt.datetime | None:
    """An ISO 8601 time as naive UTC (how every time is stored); None if it is not one."""
    if not isinstance(value, str) or not 10 <= len(value) <= 40:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return parsed


def format_time(value: dt.datetime | None) -> str | None:
    """Naive UTC as ISO 8601 with a Z (the wire's time format)."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.isoformat(timespec="seconds") + "Z"


# One checker per field kind: returns an error message or None.
def _text(required: bool = True, limit: int = MAX_TEXT_CHARS, empty: bool = True
          ) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if value is None:
            return "is required" if required else None
        if not isinstance(value, str):
            return "must be a string"
        if len(value) > limit:
            return f"must be at most {limit} characters"
        if not empty and not value:
            return "must not be empty"
        return None
    return check


def _ident(value: Any) -> str | None:
    return _text(limit=MAX_ID_CHARS, empty=False)(value)


def _bool(required: bool = True) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if value is None:
            return "is required" if required else None
        return None if isinstance(value, bool) else "must be true or false"
    return check


def _number(required: bool = False, integer: bool = False) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if value is None:
            return "is required" if required else None
        kinds = (int,) if integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds):
            return "must be an integer" if integer else "must be a number"
        if value < 0 or value > 2**53:
            return "is out of range"
        return None
    return check


def _time(required: bool = False) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if value is None:
            return "is required" if required else None
        return None if parse_time(value) is not None else "must be an ISO 8601 time"
    return check


def _sha256(value: Any) -> str | None:
    if value is None:
        return None
    return None if isinstance(value, str) and SHA256.match(value) else "must be a sha256 hex"


def _json_object(value: Any) -> str | None:
    if value is None:
        return None
    return None if isinstance(value, dict) else "must be an object"


PAYLOADS: dict[str, dict[str, Callable[[Any], str | None]]] = {
    KIND_ASSET_UPSERT: {
        "asset_id": _ident, "name": _text(limit=1000), "uri": _text(),
        "mimetype": _text(limit=100), "duration": _number(), "start_date": _time(),
        "end_date": _time(), "is_enabled": _bool(), "play_order": _number(integer=True),
        "is_shared": _bool(required=False), "media_sha256": _sha256,
        "media_size": _number(integer=True), "updated_at": _time(),
    },
    KIND_ASSET_DELETE: {"asset_id": _ident},
    KIND_PLAY: {
        "asset_id": _ident, "asset_name": _text(limit=1000, required=False),
        "started_at": _time(required=True), "duration_s": _number(),
    },
    KIND_QR_UPSERT: {
        "qr_id": _ident, "qr_code": _text(limit=200, empty=False),
        "barcode": _text(limit=200, required=False), "asset_id": _ident,
        "title": _text(limit=200, required=False), "description": _text(required=False),
        "expires_at": _time(), "is_active": _bool(), "updated_at": _time(),
    },
    KIND_QR_DELETE: {"qr_id": _ident},
    KIND_COMMAND_RESULT: {
        "command_id": _ident, "ok": _bool(), "error": _text(required=False),
    },
}
KINDS = frozenset(PAYLOADS)

HEALTH: dict[str, Callable[[Any], str | None]] = {
    "software_version": _text(limit=100, required=False),
    "address": _text(limit=200, required=False),
    "free_disk_bytes": _number(integer=True), "on_screen": _json_object,
    "uptime_s": _number(),
}


def validate_push(body: Any) -> PushBatch:
    """Check a push body; raise ValidationError listing every fault (nothing is applied then)."""
    errors = _Errors()
    if not isinstance(body, dict):
        raise ValidationError({"body": ["must be a JSON object"]})
    entries_in = body.get("entries")
    health = body.get("health")
    if not isinstance(entries_in, list):
        errors.add("entries", "must be a list")
        entries_in = []
    elif len(entries_in) > MAX_ENTRIES:
        errors.add("entries", f"at most {MAX_ENTRIES} entries per push")
        entries_in = []
    elif not entries_in and health is None:
        errors.add("entries", "send at least one entry, or health")
    if health is not None:
        _check_health(health, errors)
    entries: list[Entry] = []
    previous = 0
    keys: set[str] = set()
    for index, raw in enumerate(entries_in):
        entry = _check_entry(raw, f"entries[{index}]", errors)
        if entry is None:
            continue
        if entry.seq <= previous:
            errors.add(f"entries[{index}].seq", "must be strictly ascending")
        if entry.key in keys:
            errors.add(f"entries[{index}].key", "appears twice in this batch")
        previous = max(previous, entry.seq)
        keys.add(entry.key)
        entries.append(entry)
    if errors.fields:
        raise ValidationError(errors.fields, "The push batch is not valid; nothing was applied.")
    return PushBatch(entries=entries, health=health)


def _check_entry(raw: Any, path: str, errors: _Errors) -> Entry | None:
    if not isinstance(raw, dict):
        errors.add(path, "must be an object")
        return None
    seq, key, kind, at, payload = (raw.get(name) for name in ("seq", "key", "kind", "at",
                                                              "payload"))
    ok = True
    if isinstance(seq, bool) or not isinstance(seq, int) or not 1 <= seq <= 2**63 - 1:
        errors.add(f"{path}.seq", "must be a positive integer")
        ok = False
    if not isinstance(key, str) or not 1 <= len(key) <= MAX_KEY_CHARS:
        errors.add(f"{path}.key", f"must be a string of 1 to {MAX_KEY_CHARS} characters")
        ok = False
    if kind not in KINDS:
        errors.add(f"{path}.kind", f"unknown kind; one of {', '.join(sorted(KINDS))}")
        ok = False
    when = parse_time(at)
    if when is None:
        errors.add(f"{path}.at", "must be an ISO 8601 time")
        ok = False
    if not isinstance(payload, dict):
        errors.add(f"{path}.payload", "must be an object")
        return None
    if kind in KINDS:
        for name, check in PAYLOADS[kind].items():
            message = check(payload.get(name))
            if message:
                errors.add(f"{path}.payload.{name}", message)
                ok = False
    if not ok:
        return None
    return Entry(seq=seq, key=key, kind=kind, at=when, payload=payload)


def _check_health(health: Any, errors: _Errors) -> None:
    if not isinstance(health, dict):
        errors.add("health", "must be an object")
        return
    for name, check in HEALTH.items():
        message = check(health.get(name))
        if message:
            errors.add(f"health.{name}", message)
    on_screen = health.get("on_screen")
    if isinstance(on_screen, dict):
        for name in ("asset_id", "name"):
            message = _text(required=False, limit=1000)(on_screen.get(name))
            if message:
                errors.add(f"health.on_screen.{name}", message)


STATE_KEYS = ("qr_contents", "limits", "settings", "commands", "interval_s")


def validate_state(body: Any) -> dict[str, Any]:
    """Check a pulled state body (agent side) before anything of it is applied."""
    errors = _Errors()
    if not isinstance(body, dict):
        raise ValidationError({"body": ["must be a JSON object"]})
    for name in STATE_KEYS:
        if name not in body:
            errors.add(name, "is required")
    if not isinstance(body.get("qr_contents", []), list):
        errors.add("qr_contents", "must be a list")
    else:
        for index, row in enumerate(body.get("qr_contents", [])):
            if not isinstance(row, dict):
                errors.add(f"qr_contents[{index}]", "must be an object")
                continue
            for name, check in PAYLOADS[KIND_QR_UPSERT].items():
                message = check(row.get(name))
                if message:
                    errors.add(f"qr_contents[{index}].{name}", message)
    limits = body.get("limits")
    if not isinstance(limits, dict) or parse_time(limits.get("valid_until")) is None:
        errors.add("limits", "must be an object with valid_until")
    if not isinstance(body.get("settings", {}), dict):
        errors.add("settings", "must be an object")
    commands = body.get("commands", [])
    if not isinstance(commands, list):
        errors.add("commands", "must be a list")
    else:
        for index, row in enumerate(commands):
            if (not isinstance(row, dict) or _ident(row.get("command_id"))
                    or row.get("command") not in COMMANDS
                    or not isinstance(row.get("args") or {}, dict)):
                errors.add(f"commands[{index}]", "must have command_id, a known command, args")
    interval = body.get("interval_s")
    if isinstance(interval, bool) or not isinstance(interval, int) or not 5 <= interval <= 3600:
        errors.add("interval_s", "must be an integer from 5 to 3600")
    if errors.fields:
        raise ValidationError(errors.fields, "The pulled state is not valid.")
    return body
