"""What a public code shows, for the landing page ``/q/<code>``: no sign-in, one tenant's asset.

A code is a QR code (``QR`` + 16 upper-case hex), a barcode (``BC`` + 12) or an asset's share
code (12 URL-safe characters); the shapes never overlap, so the shape picks the one column to
look in. A visit is counted in the same statement that finds it (``access_count =
access_count + 1`` and ``last_accessed``, ``UPDATE ... RETURNING``), so concurrent visits each
count once and a counted visit is one that was shown. A share code counts on the asset's
active QR content (its newest active one, as ``QRContentService.active_for_asset`` picks and
sharing makes), if any; its page shows that content's title and description.

The host limits whose codes answer (``HostScope``), on a device as in the cloud: a tenant's
subdomain or custom domain answers for that tenant only; an address, ``localhost`` or the base
domain for every active tenant (a device is usually reached by its address, and a code's URL
is that address, services/qr_links.py). A code of another tenant is simply not found there.

A cloud code may also be a linked device's (``qr_contents.device_id`` set, issue 15): its
asset is then that device's inventory row (``device_assets``), and its file, if any, the copy
the device uploaded to the hub (``<tenant folder>/shared/<sha256>``, cloud_sync/hub/storage.py)
once it has. Such codes are looked for only after the cloud-asset lookup found nothing, so a
cloud asset's code costs what it did.

On PostgreSQL a visit is one transaction, as role ``anthias_app`` (row-level security, 0009):
``anthias_public_code_tenant(code)`` (0010) sets the tenant that owns the code, then the row is
read or counted as that tenant. The statements go in one pipeline: one round trip per visit.
The count's commit does not wait for the disk (a crash may lose the last fraction of a
second of counts, never count one twice), as other bookkeeping writes do.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from peewee import Database

from anthias_edge.db import is_postgresql
from anthias_edge.errors import SharedCodeGone, SharedCodeNotFound
from anthias_edge.services.row_security import APP_ROLE, TENANT_SETTING
from anthias_edge.services.uri_rules import is_local, is_stream, local_file_inside

QR_CODE = re.compile(r"QR[0-9A-F]{16}")
BARCODE = re.compile(r"BC[0-9A-F]{12}")
SHARE_CODE = re.compile(r"[A-Za-z0-9_-]{12}")
# The asset's metadata key that sends a web page's visitors straight to it (HTTP 302).
REDIRECT_KEY = "landing_redirect"

_COLUMNS = ("q.tenant_id, q.asset_id, q.title, q.description, a.name, a.uri, a.mimetype, "
            "a.metadata, q.expires_at")
_LIVE = "q.is_active AND (q.expires_at IS NULL OR q.expires_at > %s)"

# PostgreSQL: the statements of one visit, sent together (``_pipeline``).
_PG_CONFINE = (f"SELECT set_config('role', '{APP_ROLE}', true), set_config('{TENANT_SETTING}', "
               "coalesce(anthias_public_code_tenant(%s), ''), true)")
_PG_COUNT = ("UPDATE qr_contents AS q SET access_count = q.access_count + 1, "
             "last_accessed = %s FROM assets AS a "
             "WHERE q.{column} = %s AND " + _LIVE + " AND a.asset_id = q.asset_id AND {scope} "
             "RETURNING " + _COLUMNS)
# SQLite's RETURNING cannot name the FROM table's columns: count, then read the asset.
_SQLITE_COUNT = ("UPDATE qr_contents AS q SET access_count = q.access_count + 1, "
                 "last_accessed = %s WHERE q.{column} = %s AND " + _LIVE + " AND {scope} "
                 "RETURNING asset_id")
_READ = ("SELECT " + _COLUMNS + ", q.is_active FROM qr_contents AS q "
         "JOIN assets AS a ON a.asset_id = q.asset_id WHERE q.{column} = %s AND {scope}")
_READ_SHARED = ("SELECT a.tenant_id, a.asset_id, a.name, a.uri, a.mimetype, a.metadata "
                "FROM assets AS a WHERE a.share_code = %s AND a.is_shared AND {scope}")
# The asset's newest active QR content, as ``QRContentService.active_for_asset`` picks it.
_SHARE_TARGET = ("SELECT q.qr_id FROM qr_contents AS q WHERE q.asset_id = %s AND " + _LIVE +
                 " ORDER BY q.created_at DESC, q.qr_id DESC LIMIT 1")
_COUNT_SHARED = ("UPDATE qr_contents SET access_count = access_count + 1, last_accessed = %s "
                 "WHERE qr_id = (" + _SHARE_TARGET + ") RETURNING title, description")
_DESCRIBE_SHARED = "SELECT q.title, q.description FROM (" + _SHARE_TARGET + ") AS s " \
                   "JOIN qr_contents AS q ON q.qr_id = s.qr_id"
# A device's code (cloud, PostgreSQL): its asset is the device's inventory row.
_DEVICE_COLUMNS = ("q.tenant_id, q.asset_id, q.title, q.description, a.name, a.uri, "
                   "a.mimetype, q.expires_at, a.media_sha256, q.device_id")
_DEVICE_JOIN = "a.device_id = q.device_id AND a.asset_id = q.asset_id"
_PG_COUNT_DEVICE = ("UPDATE qr_contents AS q SET access_count = q.access_count + 1, "
                    "last_accessed = %s FROM device_assets AS a "
                    "WHERE q.{column} = %s AND " + _LIVE + " AND q.device_id IS NOT NULL AND "
                    + _DEVICE_JOIN + " AND {scope} RETURNING " + _DEVICE_COLUMNS)
_READ_DEVICE = ("SELECT " + _DEVICE_COLUMNS + ", q.is_active FROM qr_contents AS q "
                "JOIN device_assets AS a ON " + _DEVICE_JOIN + " WHERE q.{column} = %s "
                "AND q.device_id IS NOT NULL AND {scope}")


@dataclass(frozen=True)
class HostScope:
    """Whose codes a host answers for: a tenant's by subdomain or custom domain, or any.

    ``subdomain`` is a tenant's label under the base domain; ``domain`` a host that may be a
    tenant's custom domain (if no tenant has it, it names none, like an address); neither:
    every active tenant's (an address, ``localhost``, the cloud's base domain). ``cloud``
    leaves out the device's own tenant, which is nobody's there.
    """

    subdomain: str | None = None
    domain: str | None = None
    cloud: bool = False

    def condition(self, alias: str) -> tuple[str, list[Any]]:
        """SQL limiting ``alias.tenant_id`` to this scope, and its parameters."""
        column = f"{alias}.tenant_id"
        active = (f"EXISTS (SELECT 1 FROM tenants AS t WHERE t.id = {column} AND t.is_active"
                  + (" AND t.subdomain <> 'local')" if self.cloud else ")"))
        if self.subdomain is not None:
            return (f"{column} = (SELECT t.id FROM tenants AS t WHERE t.subdomain = %s) "
                    f"AND {active}", [self.subdomain])
        if self.domain is not None:
            return (f"{column} = coalesce((SELECT t.id FROM tenants AS t "
                    f"WHERE t.custom_domain = %s), {column}) AND {active}", [self.domain])
        return active, []


@dataclass(frozen=True)
class Landing:
    """What one code's page shows: a title, a description and one asset's content."""

    code: str
    tenant_id: str
    asset_id: str
    title: str
    description: str
    uri: str
    mimetype: str
    redirect: bool = False
    expires_at: dt.datetime | None = None
    device_id: str | None = None  # a linked device's code (its asset is that device's)
    media_sha256: str | None = None  # the device's file, as uploaded to the hub

    @property
    def kind(self) -> str:
        """``image``, ``video``, ``stream`` or ``webpage`` (Anthias decides by substring)."""
        if is_stream(self.uri) or "stream" in self.mimetype:
            return "stream"
        if "image" in self.mimetype:
            return "image"
        if "video" in self.mimetype:
            return "video"
        return "webpage"

    @property
    def is_file(self) -> bool:
        """The content is a file in the asset folder (served under ``/q/<code>/media``)."""
        return is_local(self.uri)

    @property
    def link(self) -> str | None:
        """The content's own URL when it is one a browser may open (http, https, rtsp, rtmp)."""
        if self.is_file:
            return None
        scheme = urlsplit(self.uri).scheme.lower()
        return self.uri if scheme in ("http", "https", "rtsp", "rtmp") else None


def normalise(code: str) -> tuple[str, str] | None:
    """(kind, code) for a well-formed code, kind one of ``qr_code``, ``barcode``, ``share``.

    QR codes and barcodes are upper-case; a phone may show one typed in lower case.
    """
    upper = code.upper()
    if QR_CODE.fullmatch(upper):
        return "qr_code", upper
    if BARCODE.fullmatch(upper):
        return "barcode", upper
    if SHARE_CODE.fullmatch(code):
        return "share", code
    return None


class PublicCodes:
    """Resolves codes (and counts visits) on one database; safe to share between threads."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._postgresql = is_postgresql(database)
        self._sql: dict[tuple[str, ...], str] = {}

    def visit(self, code: str, scope: HostScope, now: dt.datetime, *,
              count: bool = True) -> Landing:
        """The landing of ``code`` on this host; with ``count``, one more visit is counted.

        Raises SharedCodeNotFound (malformed, unknown, or another host's tenant's) or
        SharedCodeGone (deactivated or expired; nothing counted).
        """
        parsed = normalise(code)
        if parsed is None:
            raise SharedCodeNotFound()
        kind, code = parsed
        with self.database.connection_context():
            if kind == "share":
                return self._shared(code, scope, now, count)
            return self._qr(kind, code, scope, now, count)

    # -- QR codes and barcodes ------------------------------------------------
    def _qr(self, column: str, code: str, scope: HostScope, now: dt.datetime,
            count: bool) -> Landing:
        if count:
            landing = self._count_qr(column, code, scope, now)
            if landing is not None:
                return landing
        row = self._run(code, self._statement("read", _READ, column, scope),
                        [code, *scope.condition("q")[1]])
        if row is None:
            return self._device_qr(column, code, scope, now, count)
        landing = self._landing(code, row[:9])
        if not row[9] or (landing.expires_at is not None and landing.expires_at <= now):
            raise SharedCodeGone()
        return landing

    def _count_qr(self, column: str, code: str, scope: HostScope,
                  now: dt.datetime) -> Landing | None:
        params = [now, code, now, *scope.condition("q")[1]]
        if self._postgresql:
            row = self._run(code, self._statement("count", _PG_COUNT, column, scope), params,
                            write=True)
            return None if row is None else self._landing(code, row)
        counted = self._run(code, self._statement("count", _SQLITE_COUNT, column, scope),
                            params)
        if counted is None:
            return None
        # The same row, just counted: read it whole (SQLite, in-process: no round trip).
        row = self._run(code, self._statement("read", _READ, column, scope),
                        [code, *scope.condition("q")[1]])
        return None if row is None else self._landing(code, row[:9])

    def _device_qr(self, column: str, code: str, scope: HostScope, now: dt.datetime,
                   count: bool) -> Landing:
        """A linked device's code (cloud on PostgreSQL only: a device holds none, and the
        cloud on SQLite, a test set-up, keeps qr_contents' key to cloud assets)."""
        if not (self._postgresql and scope.cloud):
            raise SharedCodeNotFound()
        condition = scope.condition("q")[1]
        if count:
            row = self._run(code, self._statement("count_device", _PG_COUNT_DEVICE, column,
                                                  scope), [now, code, now, *condition],
                            write=True)
            if row is not None:
                return self._device_landing(code, row)
        row = self._run(code, self._statement("read_device", _READ_DEVICE, column, scope),
                        [code, *condition])
        if row is None:
            raise SharedCodeNotFound()
        landing = self._device_landing(code, row[:10])
        if not row[10] or (landing.expires_at is not None and landing.expires_at <= now):
            raise SharedCodeGone()
        return landing

    def _device_landing(self, code: str, row: tuple[Any, ...]) -> Landing:
        tenant_id, asset_id, title, description, name, uri, mimetype, expires, sha, device = row
        return Landing(code, str(tenant_id), asset_id, title or name or "", description or "",
                       uri or "", mimetype or "", False, _as_datetime(expires), str(device),
                       sha)

    # -- share codes ----------------------------------------------------------
    def _shared(self, code: str, scope: HostScope, now: dt.datetime, count: bool) -> Landing:
        read = self._statement("shared", _READ_SHARED, "", scope)
        row = self._run(code, read, [code, *scope.condition("a")[1]])
        if row is None:  # unshared assets have no share code: nothing tells 404 from 410
            raise SharedCodeNotFound()
        tenant_id, asset_id, name, uri, mimetype, metadata = row
        if count:
            about = self._run(code, self._convert(_COUNT_SHARED), [now, asset_id, now],
                              write=True)
        else:
            about = self._run(code, self._convert(_DESCRIBE_SHARED), [asset_id, now])
        title, description = about if about is not None else ("", "")
        return Landing(code, str(tenant_id), asset_id, title or name or "", description or "",
                       uri or "", mimetype or "", _redirects(metadata, uri))

    # -- SQL ------------------------------------------------------------------
    def _landing(self, code: str, row: tuple[Any, ...]) -> Landing:
        tenant_id, asset_id, title, description, name, uri, mimetype, metadata, expires = row
        return Landing(code, str(tenant_id), asset_id, title or name or "", description or "",
                       uri or "", mimetype or "", _redirects(metadata, uri),
                       _as_datetime(expires))

    def _statement(self, name: str, template: str, column: str, scope: HostScope) -> str:
        # A statement's text depends only on its column and the scope's kind: render it once.
        key = (name, column, str(scope.subdomain is not None), str(scope.domain is not None),
               str(scope.cloud))
        sql = self._sql.get(key)
        if sql is None:
            alias = "a" if name == "shared" else "q"
            sql = self._convert(template.format(column=column,
                                                scope=scope.condition(alias)[0]))
            self._sql[key] = sql
        return sql

    def _convert(self, sql: str) -> str:
        return sql if self._postgresql else sql.replace("%s", "?")

    def _run(self, code: str, sql: str, params: list[Any], *,
             write: bool = False) -> tuple[Any, ...] | None:
        """The first row of ``sql``; on PostgreSQL inside the code's tenant, one round trip."""
        if not self._postgresql:
            cursor = self.database.execute_sql(sql, params)
            rows = cursor.fetchall()  # a RETURNING statement completes when read to the end
            return rows[0] if rows else None
        return _pipeline(self.database.connection(), code, sql, params, write)


def _pipeline(conn: Any, code: str, sql: str, params: list[Any],
              write: bool) -> tuple[Any, ...] | None:
    """BEGIN, confine to the code's tenant, run ``sql``, COMMIT: sent at once, read once."""
    try:
        with conn.pipeline(), conn.cursor() as confine, conn.cursor() as cursor:
            confine.execute("BEGIN")
            if write:
                confine.execute("SET LOCAL synchronous_commit TO OFF")
            confine.execute(_PG_CONFINE, [code])
            cursor.execute(sql, params)
            confine.execute("COMMIT")
            rows = cursor.fetchall()
    except BaseException:
        if not conn.closed and conn.info.transaction_status.name != "IDLE":  # undo it
            conn.execute("ROLLBACK")
        raise
    return rows[0] if rows else None


def _redirects(metadata: Any, uri: str | None) -> bool:
    """A web page whose asset asks for it (metadata ``landing_redirect: true``) redirects."""
    if isinstance(metadata, str):
        try:
            metadata = json.loads(metadata)
        except ValueError:
            return False
    wanted = isinstance(metadata, dict) and metadata.get(REDIRECT_KEY) is True
    return wanted and urlsplit(uri or "").scheme.lower() in ("http", "https")


def _as_datetime(value: Any) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    from anthias_edge.timeutil import parse_stored

    return parse_stored(value)


def media_file(landing: Landing, media_dir: Path) -> Path | None:
    """The landing's file, resolved, if it is a regular file inside ``media_dir``; else None.

    Links and ``..`` are resolved first, so a row naming a path out of the tenant's folder
    (or a link pointing out of it) is never served.
    """
    if not landing.is_file:
        return None
    if landing.device_id is not None:  # the device's upload, named by its hash
        from cloud_sync.hub.storage import SHA256, SHARED

        sha = landing.media_sha256 or ""
        path = media_dir / SHARED / sha
        return path if SHA256.match(sha) and path.is_file() else None
    path = local_file_inside(landing.uri, media_dir)
    return path if path is not None and path.is_file() else None
