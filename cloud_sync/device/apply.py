"""Apply what a pull brought: QR contents, limits, commands (``apply_state``).

- **QR contents** of this device's assets land in the local ``qr_contents`` table, in one
  transaction, so the on-screen codes and ``/q/<code>`` on the LAN keep answering offline. A code
  is matched by ``qr_id``; ``device_id`` means nothing locally; its ``asset_id`` is a local asset,
  and a code of an asset this device no longer has is skipped and reported, as is one whose
  code or barcode another local row already holds. A local code the state no longer lists is
  deactivated (kept, with its scan count), unless the outbox still holds its ``qr.upsert``: the
  cloud cannot list a code it has not been told of yet. These writes are not echoed back into
  the outbox: they came from the cloud.
- **Limits** are cached on the link with their ``valid_until`` (``limits.py`` enforces them).
- **Commands** run once each (``sync_applied_commands``): ``next``, ``previous``, ``reload`` and
  ``show_asset`` become the server->player ZeroMQ messages the legacy API sends (``next``,
  ``previous``, ``reload``, ``asset&<id>``), ``reboot`` the configured host command. The command
  is marked applied, with its ``command.result`` in the outbox, *before* it runs: a reboot must
  not run again when the device comes back and pulls the same pending command. When running it
  then fails, a second ``command.result`` (failed, with the reason) follows; the cloud keeps the
  last one.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from anthias_edge.db import db
from anthias_edge.errors import AnthiasError
from anthias_edge.messaging import Messenger
from anthias_edge.models import Asset, QRContent
from anthias_edge.models.sync_device import LINK_ROW_ID, SyncAppliedCommand, SyncLink, SyncOutbox
from anthias_edge.services.device.host_commands import run_host_command
from anthias_edge.services.qr_public import BARCODE, QR_CODE
from anthias_edge.timeutil import parse_datetime, utcnow
from cloud_sync.device import limits as cloud_limits
from cloud_sync.device import outbox

logger = logging.getLogger(__name__)

VIEWER_COMMANDS = {"next": "next", "previous": "previous", "reload": "reload"}
COMMANDS = frozenset({*VIEWER_COMMANDS, "show_asset", "reboot"})
CLOUD_AUTHOR = "cloud"  # created_by of a code the cloud made
MAX_TEXT = 2000


@dataclass
class ApplyResult:
    """What one ``apply_state`` changed, skipped and ran."""

    qr_upserted: int = 0
    qr_deactivated: int = 0
    # {"qr_id", "qr_code", "asset_id", "reason"} of each code not applied
    qr_skipped: list[dict[str, Any]] = field(default_factory=list)
    limits: cloud_limits.Limits | None = None
    commands_done: list[str] = field(default_factory=list)
    commands_failed: list[str] = field(default_factory=list)
    commands_already_applied: list[str] = field(default_factory=list)


def apply_state(state: dict[str, Any], messenger: Messenger, *, reboot_command: str = "",
                now: dt.datetime | None = None) -> ApplyResult:
    """Apply one pulled state (``GET /api/v3/sync/state``'s body) to this linked device.

    ``reboot_command`` is the device's ``reboot_command`` setting (empty: a ``reboot`` fails
    with that reason). Raise ValueError for a body that is not a state object.
    """
    if not isinstance(state, dict):
        raise ValueError("A sync state must be a JSON object.")
    moment = now or utcnow()
    result = ApplyResult()
    with db.atomic():
        _apply_qr_contents(state.get("qr_contents"), result, moment)
        result.limits = _cache_limits(state.get("limits"), state.get("interval_s"))
    for command in state.get("commands") or []:
        _run_command(command, messenger, reboot_command, result, moment)
    return result


# -- QR contents -----------------------------------------------------------
def _apply_qr_contents(items: Any, result: ApplyResult, now: dt.datetime) -> None:
    if items is None:
        return
    if not isinstance(items, list):
        raise ValueError("qr_contents must be a list.")
    listed: set[str] = set()
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("qr_id"), str):
            result.qr_skipped.append({"qr_id": None, "reason": "not a QR content object"})
            continue
        listed.add(item["qr_id"])
        reason = _upsert_code(item, now)
        if reason is None:
            result.qr_upserted += 1
        else:
            result.qr_skipped.append({"qr_id": item["qr_id"], "qr_code": item.get("qr_code"),
                                      "asset_id": item.get("asset_id"), "reason": reason})
            logger.warning("Cloud QR content %s not applied: %s", item["qr_id"], reason)
    unpushed = _qr_ids_waiting_in_outbox()
    gone = [row.qr_id for row in QRContent.select(QRContent.qr_id).where(
        QRContent.is_active == True)  # noqa: E712
        if row.qr_id not in listed and row.qr_id not in unpushed]
    if gone:
        result.qr_deactivated = (QRContent.update(is_active=False, updated_at=now)
                                 .where(QRContent.qr_id.in_(gone)).execute())


def _upsert_code(item: dict[str, Any], now: dt.datetime) -> str | None:
    """Insert or update one code; return why it was skipped, or None."""
    asset_id, qr_code = item.get("asset_id"), item.get("qr_code")
    if not isinstance(qr_code, str) or not QR_CODE.fullmatch(qr_code):
        return "not a QR code this device can serve"
    if not isinstance(asset_id, str) or "\x00" in asset_id:
        return "no asset_id"
    asset = Asset.get_or_none(Asset.asset_id == asset_id)
    if asset is None:
        return "the asset is no longer on this device"
    barcode = item.get("barcode")
    if barcode is not None and (not isinstance(barcode, str) or not BARCODE.fullmatch(barcode)):
        return "not a barcode this device can serve"
    try:
        values = {"qr_code": qr_code, "barcode": barcode, "asset": asset.asset_id,
                  "tenant": asset.tenant or "", "title": _text(item.get("title")),
                  "description": _text(item.get("description")),
                  "expires_at": _time(item.get("expires_at")),
                  "is_active": bool(item.get("is_active", True)), "updated_at": now}
    except ValueError as exc:
        return str(exc)
    clash = (QRContent.qr_code == qr_code) | (QRContent.barcode == qr_code)
    if barcode:
        clash = clash | (QRContent.barcode == barcode) | (QRContent.qr_code == barcode)
    taken = QRContent.select(QRContent.qr_id).where(
        QRContent.qr_id != item["qr_id"], clash).first()
    if taken is not None:
        return "another local code already uses this code"
    if QRContent.update(**values).where(QRContent.qr_id == item["qr_id"]).execute() == 0:
        QRContent.insert(qr_id=item["qr_id"], created_by=CLOUD_AUTHOR, created_at=now,
                         **values).execute()
    return None


def _qr_ids_waiting_in_outbox() -> set[str]:
    rows = SyncOutbox.select(SyncOutbox.payload).where(SyncOutbox.kind == "qr.upsert")
    return {row.payload.get("qr_id") for row in rows if isinstance(row.payload, dict)}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or "\x00" in value:
        raise ValueError("a title or description that is not text")
    return value[:MAX_TEXT]


def _time(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("an expiry that is not a time")
    return parse_datetime(value)


# -- limits ------------------------------------------------------------------
def _cache_limits(body: Any, interval_s: Any) -> cloud_limits.Limits | None:
    parsed = cloud_limits.parse(body)
    values: dict[str, Any] = {}
    if parsed is not None:
        values.update(limits_json=body, limits_valid_until=parsed.valid_until)
    if isinstance(interval_s, int) and not isinstance(interval_s, bool) and interval_s > 0:
        values["interval_s"] = interval_s
    if values:
        SyncLink.update(**values).where(SyncLink.id == LINK_ROW_ID).execute()
    return parsed


# -- commands ----------------------------------------------------------------
def _run_command(command: Any, messenger: Messenger, reboot_command: str,
                 result: ApplyResult, now: dt.datetime) -> None:
    if not isinstance(command, dict) or not isinstance(command.get("command_id"), str):
        logger.warning("Ignoring a command without an id: %r", command)
        return
    command_id = command["command_id"]
    with db.atomic():
        if SyncAppliedCommand.get_or_none(SyncAppliedCommand.command_id == command_id):
            result.commands_already_applied.append(command_id)
            return
        problem = _refusal(command)
        SyncAppliedCommand.insert(command_id=command_id, applied_at=now, ok=problem is None,
                                  error=problem).execute()
        outbox.record("command.result", {"command_id": command_id, "ok": problem is None,
                                         "error": problem})
    if problem is not None:
        result.commands_failed.append(command_id)
        return
    try:
        _execute(command, messenger, reboot_command)
    except (AnthiasError, OSError) as exc:
        error = str(exc) or type(exc).__name__
        with db.atomic():
            SyncAppliedCommand.update(ok=False, error=error).where(
                SyncAppliedCommand.command_id == command_id).execute()
            outbox.record("command.result", {"command_id": command_id, "ok": False,
                                             "error": error})
        result.commands_failed.append(command_id)
        return
    result.commands_done.append(command_id)


def _refusal(command: dict[str, Any]) -> str | None:
    """Why this command cannot run here (None: it can)."""
    name = command.get("command")
    if name not in COMMANDS:
        return f"unknown command {name!r}"
    if name == "show_asset":
        asset_id = _show_asset_id(command)
        if asset_id is None:
            return "show_asset needs args.asset_id"
        if Asset.get_or_none(Asset.asset_id == asset_id) is None:
            return f"asset {asset_id} is not on this device"
    return None


def _show_asset_id(command: dict[str, Any]) -> str | None:
    args = command.get("args")
    asset_id = args.get("asset_id") if isinstance(args, dict) else None
    if not isinstance(asset_id, str) or not asset_id or "\x00" in asset_id or "&" in asset_id:
        return None
    return asset_id


def _execute(command: dict[str, Any], messenger: Messenger, reboot_command: str) -> None:
    name = command["command"]
    if name in VIEWER_COMMANDS:
        messenger.send_to_viewer(VIEWER_COMMANDS[name])
    elif name == "show_asset":
        messenger.send_to_viewer(f"asset&{_show_asset_id(command)}")
    elif name == "reboot":
        run_host_command(reboot_command)
