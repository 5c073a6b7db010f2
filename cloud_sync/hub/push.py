"""Applying a device's push: each outbox entry once, with its receipt, in order (no Flask).

The batch is checked whole first (``validate_push``): one bad entry or unknown kind refuses
it all and nothing is applied. Then, in one transaction, entries are applied in ``seq``
order; each first inserts its receipt ``(device_id, idem_key)`` with ON CONFLICT DO NOTHING.
A receipt that already exists (a retried push, or a concurrent duplicate that committed
first: PostgreSQL makes the second insert wait for the first transaction, then skip) means
the entry was applied before: it is skipped and counted as a duplicate. Since the effect and
its receipt commit together, each entry has exactly one effect however often it is sent.

An entry that cannot take effect (a QR code another row already uses) is acknowledged with
the reason in its receipt's ``error``, so the device does not resend it forever.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from peewee import Database, IntegrityError

from anthias_edge.db import is_postgresql
from cloud_sync.hub.auth import DeviceRow, sql
from cloud_sync.protocol.messages import (
    KIND_ASSET_DELETE,
    KIND_ASSET_UPSERT,
    KIND_COMMAND_RESULT,
    KIND_PLAY,
    KIND_QR_DELETE,
    KIND_QR_UPSERT,
    Entry,
    PushBatch,
    parse_time,
)

logger = logging.getLogger(__name__)

_RECEIPT = ("INSERT INTO sync_receipts (device_id, idem_key, tenant_id, seq, kind, received_at) "
            "VALUES ({p}, {p}, {p}, {p}, {p}, {p}) ON CONFLICT DO NOTHING")
_RECEIPT_ERROR = "UPDATE sync_receipts SET error = {p} WHERE device_id = {p} AND idem_key = {p}"
_ASSET_COLUMNS = ("name", "uri", "mimetype", "duration", "start_date", "end_date", "is_enabled",
                  "play_order", "is_shared", "media_sha256", "media_size", "updated_at")
_ASSET_UPSERT = (
    "INSERT INTO device_assets (device_id, asset_id, tenant_id, "
    + ", ".join(_ASSET_COLUMNS) + ", seq) VALUES ("
    + ", ".join(["{p}"] * (len(_ASSET_COLUMNS) + 4)) + ") "
    "ON CONFLICT (device_id, asset_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in (*_ASSET_COLUMNS, "seq"))
    # Pushes arrive in order; the guard keeps a late copy of an older entry from winning.
    + " WHERE device_assets.seq <= excluded.seq")
_ASSET_DELETE = "DELETE FROM device_assets WHERE device_id = {p} AND asset_id = {p}"
_ASSET_CODES_OFF = ("UPDATE qr_contents SET is_active = {false}, updated_at = {p} "
                    "WHERE device_id = {p} AND asset_id = {p} AND is_active")
_PLAY = ("INSERT INTO device_plays (play_id, tenant_id, device_id, asset_id, asset_name, "
         "started_at, duration_s) VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}) "
         "ON CONFLICT DO NOTHING")
_QR_OWNER = "SELECT device_id FROM qr_contents WHERE qr_id = {p}"
_QR_UPDATE = ("UPDATE qr_contents SET qr_code = {p}, barcode = {p}, asset_id = {p}, "
              "title = {p}, description = {p}, expires_at = {p}, is_active = {p}, "
              "updated_at = {p} WHERE qr_id = {p} AND device_id = {p}")
_QR_INSERT = ("INSERT INTO qr_contents (qr_id, tenant_id, device_id, qr_code, barcode, asset_id, "
              "title, description, expires_at, is_active, access_count, created_by, "
              "created_at, updated_at) VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, "
              "{p}, 0, {p}, {p}, {p})")
_QR_DELETE = "DELETE FROM qr_contents WHERE qr_id = {p} AND device_id = {p}"
_COMMAND_DONE = ("UPDATE device_commands SET status = {p}, done_at = {p}, error = {p} "
                 "WHERE command_id = {p} AND device_id = {p} AND status = 'pending'")
_BUMP_TENANT = "UPDATE tenants SET sync_version = sync_version + 1 WHERE id = {p}"
_BUMP_COMMANDS = ("UPDATE devices SET command_version = command_version + 1 "
                  "WHERE device_id = {p}")
_TOUCH = ("UPDATE devices SET last_seen_at = {p}, last_push_at = {p}, "
          "acked_seq = CASE WHEN acked_seq < {p} THEN {p} ELSE acked_seq END "
          "WHERE device_id = {p}")
_LAST_PLAY = ("UPDATE devices SET last_play_at = {p} WHERE device_id = {p} "
              "AND (last_play_at IS NULL OR last_play_at < {p})")
_HEALTH = ("UPDATE devices SET software_version = {p}, address = {p}, free_disk_bytes = {p}, "
           "on_screen_asset_id = {p}, on_screen_name = {p}, health_at = {p} "
           "WHERE device_id = {p}")


@dataclass(frozen=True)
class PushResult:
    """What the hub answers: the highest seq now applied, and how many were new or repeats."""

    acked_through: int
    applied: int
    duplicates: int

    def as_dict(self) -> dict[str, int]:
        """The response body."""
        return {"acked_through": self.acked_through, "applied": self.applied,
                "duplicates": self.duplicates}


class Pusher:
    """Applies one checked batch for one device, inside the caller's transaction."""

    def __init__(self, database: Database, device: DeviceRow, now: dt.datetime) -> None:
        self.db = database
        self.device = device
        self.now = now
        self._tenant_changed = False
        self._commands_changed = False
        self._false = "false" if is_postgresql(database) else "0"

    def _run(self, template: str, params: tuple[Any, ...]) -> int:
        statement = sql(self.db, template).replace("{false}", self._false)
        return self.db.execute_sql(statement, params).rowcount

    def apply(self, batch: PushBatch) -> PushResult:
        """Apply every entry once, then the health and the device's bookkeeping."""
        applied = duplicates = 0
        with self.db.atomic():
            for entry in batch.entries:
                if self._run(_RECEIPT, (self.device.device_id, entry.key, self.device.tenant_id,
                                        entry.seq, entry.kind, self.now)) == 0:
                    duplicates += 1
                    continue
                error = self._apply(entry)
                if error:
                    self._run(_RECEIPT_ERROR, (error, self.device.device_id, entry.key))
                applied += 1
            highest = batch.entries[-1].seq if batch.entries else 0
            if batch.health is not None:
                self._health(batch.health)
            self._run(_TOUCH, (self.now, self.now, highest, highest, self.device.device_id))
            if self._tenant_changed:
                self._run(_BUMP_TENANT, (self.device.tenant_id,))
            if self._commands_changed:
                self._run(_BUMP_COMMANDS, (self.device.device_id,))
        return PushResult(max(highest, self.device.acked_seq), applied, duplicates)

    def _apply(self, entry: Entry) -> str | None:
        payload = entry.payload
        if entry.kind == KIND_ASSET_UPSERT:
            self._asset_upsert(entry)
        elif entry.kind == KIND_ASSET_DELETE:
            self._run(_ASSET_DELETE, (self.device.device_id, payload["asset_id"]))
            if self._run(_ASSET_CODES_OFF, (self.now, self.device.device_id,
                                            payload["asset_id"])):
                self._tenant_changed = True
        elif entry.kind == KIND_PLAY:
            started = parse_time(payload["started_at"])
            self._run(_PLAY, (entry.key, self.device.tenant_id, self.device.device_id,
                              payload["asset_id"], payload.get("asset_name") or "", started,
                              payload.get("duration_s")))
            self._run(_LAST_PLAY, (started, self.device.device_id, started))
        elif entry.kind == KIND_QR_UPSERT:
            return self._qr_upsert(payload)
        elif entry.kind == KIND_QR_DELETE:
            if self._run(_QR_DELETE, (payload["qr_id"], self.device.device_id)):
                self._tenant_changed = True
        elif entry.kind == KIND_COMMAND_RESULT:
            ok = payload["ok"]
            if self._run(_COMMAND_DONE, ("done" if ok else "failed", self.now,
                                         None if ok else (payload.get("error") or "failed"),
                                         payload["command_id"], self.device.device_id)):
                self._commands_changed = True
            else:
                return "no pending command of this device has that id"
        return None

    def _asset_upsert(self, entry: Entry) -> None:
        p = entry.payload
        duration = p.get("duration")
        values = (p.get("name") or "", p.get("uri") or "", p.get("mimetype") or "",
                  None if duration is None else int(duration), parse_time(p.get("start_date")),
                  parse_time(p.get("end_date")), bool(p.get("is_enabled")),
                  int(p.get("play_order") or 0), bool(p.get("is_shared")),
                  p.get("media_sha256"), p.get("media_size"), parse_time(p.get("updated_at")))
        self._run(_ASSET_UPSERT, (self.device.device_id, p["asset_id"], self.device.tenant_id,
                                  *values, entry.seq))

    def _qr_upsert(self, p: dict[str, Any]) -> str | None:
        owner = self.db.execute_sql(sql(self.db, _QR_OWNER), (p["qr_id"],)).fetchone()
        if owner is not None and owner[0] != self.device.device_id:
            return "qr_id already names another code"
        values = (p["qr_code"], p.get("barcode"), p["asset_id"], p.get("title") or "",
                  p.get("description") or "", parse_time(p.get("expires_at")),
                  bool(p["is_active"]), parse_time(p.get("updated_at")) or self.now)
        try:
            # A savepoint: a unique code taken by another row (perhaps of another tenant,
            # which this tenant cannot see) fails only this entry, not the whole push.
            with self.db.atomic():
                if owner is not None:
                    self._run(_QR_UPDATE, (*values, p["qr_id"], self.device.device_id))
                else:
                    code, barcode, asset_id, title, description, expires, active, updated = values
                    self._run(_QR_INSERT, (p["qr_id"], self.device.tenant_id,
                                           self.device.device_id, code, barcode, asset_id,
                                           title, description, expires, active,
                                           f"device:{self.device.device_id}", self.now, updated))
        except IntegrityError as exc:
            logger.info("device %s: QR code %s not stored: %s", self.device.device_id,
                        p["qr_id"], exc)
            return "qr_code or barcode already used by another code"
        self._tenant_changed = True
        return None

    def _health(self, health: dict[str, Any]) -> None:
        on_screen = health.get("on_screen") or {}
        self._run(_HEALTH, (health.get("software_version"), health.get("address"),
                            health.get("free_disk_bytes"), on_screen.get("asset_id"),
                            on_screen.get("name"), self.now, self.device.device_id))
