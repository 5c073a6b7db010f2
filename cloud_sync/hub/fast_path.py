"""Answer an unchanged conditional pull (``GET /api/v3/sync/state`` + If-None-Match) in front
of Flask, on PostgreSQL.

Every linked device asks every 30 s whether its state changed, and nearly always it has not:
that 304 is the hub's busiest answer (the benchmark asks for 1,500 a second on two cores).
So, as the landing page does, a WSGI handler answers it without Flask's request machinery,
with the same checks the blueprint makes (``auth.check_signed``) in two round trips:

1. one pipeline: BEGIN as ``anthias_app`` in the device's tenant (0013's
   ``anthias_device_tenant``), read the device and its tenant's ``sync_version``, record the
   jti (ON CONFLICT DO NOTHING: a replay records nothing);
2. after the signature checked out in Python and the ETag matched: update ``last_seen_at``
   (only when older than ``SEEN_EVERY_S``) and COMMIT, which does not wait for the disk (a
   crash may lose a last-seen time, nothing else).

Anything else (no or bad signature, a replay, a revoked device, a changed state, SQLite, an
error) rolls back, so nothing of it stays, and goes to Flask, which answers it fully
(refusal, or the new state with its ETag).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from anthias_edge.db import is_postgresql
from anthias_edge.errors import AnthiasError
from anthias_edge.services.row_security import APP_ROLE, TENANT_SETTING
from cloud_sync.hub.auth import (
    DEVICE_COLUMNS,
    DeviceRow,
    check_signed,
    nonce_expiry,
)
from cloud_sync.hub.hub import Hub
from cloud_sync.hub.state import etag_matches, state_etag
from cloud_sync.protocol import read_token

logger = logging.getLogger(__name__)

STATE_PATH = "/api/v3/sync/state"
SEEN_EVERY_S = 10
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_CONFINE = (f"SELECT set_config('role', '{APP_ROLE}', true), set_config('{TENANT_SETTING}', "
            "coalesce(anthias_device_tenant(%s), ''), true)")
_DEVICE = (f"SELECT {DEVICE_COLUMNS} FROM devices AS d JOIN tenants AS t "
           "ON t.id = d.tenant_id WHERE d.device_id = %s")
_REMEMBER = ("INSERT INTO sync_nonces (device_id, jti, expires_at) VALUES (%s, %s, %s) "
             "ON CONFLICT DO NOTHING RETURNING 1")
_SEEN = ("UPDATE devices SET last_seen_at = %s WHERE device_id = %s "
         "AND (last_seen_at IS NULL OR last_seen_at < %s)")


class StateFastPath:
    """WSGI middleware: 304 for unchanged signed conditional pulls; the rest to ``app``."""

    def __init__(self, app: WSGIApp, hub: Hub) -> None:
        self._app = app
        self._hub = hub
        self._postgresql = is_postgresql(hub.database)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if (not self._postgresql or environ.get("PATH_INFO") != STATE_PATH
                or environ.get("REQUEST_METHOD") != "GET"
                or not environ.get("HTTP_IF_NONE_MATCH")):
            return self._app(environ, start_response)
        started = time.perf_counter()
        database = self._hub.database
        try:
            etag = self._not_modified(environ)
        except AnthiasError:  # a refusal: Flask answers it in the v3 error body
            etag = None
        except Exception:
            logger.exception("sync state fast path failed; Flask answers instead")
            etag = None
        finally:
            if not database.is_closed():
                database.close()  # back to the pool, as Flask's teardown would
        if etag is None:
            return self._app(environ, start_response)
        start_response("304 Not Modified", [("ETag", etag), ("Cache-Control", "no-cache")])
        metrics = self._hub.runtime.metrics
        if metrics is not None:
            metrics.observe_request("GET", STATE_PATH, 304, time.perf_counter() - started)
        return [b""]

    def _not_modified(self, environ: dict[str, Any]) -> str | None:
        """The ETag if the signed request is good and its state unchanged (committed), else
        None (rolled back: the jti is not kept, so Flask can check the request again)."""
        token = read_token(environ.get("HTTP_AUTHORIZATION"))
        hub = self._hub
        now = hub.clock()
        query = environ.get("QUERY_STRING", "")
        path = f"{STATE_PATH}?{query}" if query else STATE_PATH
        conn = hub.database.connection()
        committed = False
        try:
            with conn.pipeline(), conn.cursor() as setup, conn.cursor() as device_cursor, \
                    conn.cursor() as nonce_cursor:
                setup.execute("BEGIN")
                setup.execute("SET LOCAL synchronous_commit TO OFF")
                setup.execute(_CONFINE, [token.device_id])
                device_cursor.execute(_DEVICE, [token.device_id])
                nonce_cursor.execute(_REMEMBER, [token.device_id, token.jti,
                                                 nonce_expiry(token, now)])
                row = device_cursor.fetchone()
                fresh = nonce_cursor.fetchone() is not None
            if row is None or not fresh:
                return None
            device = check_signed(token, DeviceRow.from_row(row), hub.keys, "GET", path, b"",
                                  now)
            etag = state_etag(device.device_id, device.sync_version, device.command_version,
                              now)
            if not etag_matches(environ.get("HTTP_IF_NONE_MATCH"), etag):
                return None
            seen = dt.datetime.fromtimestamp(now, dt.UTC).replace(tzinfo=None)
            with conn.pipeline(), conn.cursor() as cursor:
                if device.last_seen_at is None or (
                        seen - device.last_seen_at).total_seconds() >= SEEN_EVERY_S:
                    cursor.execute(_SEEN, [seen, device.device_id,
                                           seen - dt.timedelta(seconds=SEEN_EVERY_S)])
                cursor.execute("COMMIT")
            committed = True
            return etag
        finally:
            if not committed and not conn.closed \
                    and conn.info.transaction_status.name != "IDLE":
                conn.execute("ROLLBACK")
