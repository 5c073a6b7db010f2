"""Move a device's library into a cloud tenant on PostgreSQL, and migrate PostgreSQL safely.

``migrate_to_postgresql`` reads an Anthias Edge, Anthias Django-era or Anthias Flask-era SQLite
database strictly read-only (plain ``sqlite3`` with a ``mode=ro`` URI; the source is never
migrated nor touched) and upserts every asset into one tenant in ONE PostgreSQL transaction:
all rows or none. ``asset_id`` is the primary key across all tenants, so a row whose id belongs
to another tenant aborts the whole run instead of being taken over.

``apply_pending_migrations`` opens a connection and applies the numbered migrations not yet
applied (``run_migrations`` takes a PostgreSQL advisory lock, so several hosts or workers
starting at once apply each one exactly once).
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

from peewee import Database, IntegrityError, PeeweeException

from anthias_edge.db import open_database, run_migrations
from anthias_edge.errors import (
    Conflict,
    DatabaseUnreachable,
    ImportFailed,
    ValidationError,
)
from anthias_edge.models.tenant import LOCAL_SUBDOMAIN
from anthias_edge.services.media_copy import MediaCopy, PlacedMedia, place_media
from anthias_edge.services.row_security import asset_owners, set_tenant
from anthias_edge.services.tenants import SUBDOMAIN
from anthias_edge.timeutil import parse_stored, utcnow

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]

CONNECT_TIMEOUT_S = 5

LEGACY_PLAN = {"plan_type": "legacy", "max_assets": 9999, "max_devices": 9999,
               "storage_quota_gb": 1000}

ANTHIAS_COLUMNS = ("asset_id", "name", "uri", "md5", "start_date", "end_date", "duration",
                   "mimetype", "is_enabled", "is_processing", "nocache", "play_order",
                   "skip_asset_check")
# Copied when the source has them (an Anthias Edge database); never tenant_id nor seq.
EDGE_COLUMNS = ("created_by", "is_shared", "share_code", "tags", "metadata", "play_days",
                "play_time_from", "play_time_to", "skip_ssl_verify", "refresh_interval_s",
                "custom_headers", "is_reachable", "last_reachability_check", "created_at",
                "updated_at", "qr_overlay")
DATE_COLUMNS = frozenset({"start_date", "end_date", "last_reachability_check", "created_at",
                          "updated_at"})
BOOL_COLUMNS = frozenset({"is_enabled", "is_processing", "nocache", "skip_asset_check",
                          "is_shared", "skip_ssl_verify", "is_reachable"})
INT_COLUMNS = frozenset({"play_order", "refresh_interval_s"})
# What PostgreSQL's NOT NULL columns get when an old row holds NULL there.
NOT_NULL_DEFAULTS = {"is_enabled": False, "is_processing": False, "nocache": False,
                     "skip_asset_check": False, "play_order": 0, "is_shared": False,
                     "skip_ssl_verify": False, "is_reachable": True, "refresh_interval_s": 0,
                     "tags": "[]", "metadata": "{}", "custom_headers": "{}",
                     "play_days": "[1,2,3,4,5,6,7]"}
# A device's shared codes (migration 0010), copied with its assets; never tenant_id.
QR_COLUMNS = ("qr_id", "asset_id", "qr_code", "barcode", "title", "description", "access_count",
              "last_accessed", "expires_at", "is_active", "created_by", "created_at",
              "updated_at")
QR_DATE_COLUMNS = frozenset({"last_accessed", "expires_at", "created_at", "updated_at"})
TRUE_WORDS = frozenset({"1", "true", "t", "yes", "on"})

ERA_EDGE = "Anthias Edge"
ERA_DJANGO = "Anthias (Django era)"
ERA_FLASK = "Anthias (Flask era)"


@dataclass(frozen=True)
class SourceLibrary:
    """The assets of a source database, already mapped to PostgreSQL column values."""

    path: Path
    era: str
    columns: tuple[str, ...]
    rows: list[dict[str, Any]] = field(repr=False)
    qr_contents: list[dict[str, Any]] = field(default_factory=list, repr=False)


@dataclass(frozen=True)
class MigrationResult:
    """What a run did (or, on a dry run, would do)."""

    era: str
    tenant_id: str | None  # None on a dry run that would create the tenant
    tenant_created: bool
    creates: int
    updates: int
    dry_run: bool
    files_copied: int = 0  # into <assetdir>/<tenant_id>/ (or that would be)
    files_missing: int = 0  # local assets whose file is not in the source asset folder
    qr_contents: int = 0  # shared codes copied with the assets (or that would be)

    @property
    def total(self) -> int:
        """Assets copied (or that would be)."""
        return self.creates + self.updates


# -- the source ----------------------------------------------------------------------------


def read_source(path: Path) -> SourceLibrary:
    """Read every asset of an Anthias or Anthias Edge SQLite file without writing to it.

    Raises ImportFailed for a missing file, a file that is not SQLite, or one without assets.
    """
    path = Path(path)
    if not path.is_file():
        raise ImportFailed(f"{path} does not exist or is not a file.")
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    try:
        connection = sqlite3.connect(uri, uri=True)
    except sqlite3.Error as exc:
        raise ImportFailed(f"{path} cannot be opened: {exc}.") from exc
    try:
        try:
            declared = {row[1]: (row[2] or "").lower()
                        for row in connection.execute('PRAGMA table_info("assets")')}
        except sqlite3.DatabaseError as exc:
            raise ImportFailed(f"{path} is not an SQLite database ({exc}).") from exc
        if "asset_id" not in declared:
            raise ImportFailed(f"{path} is an SQLite database without an Anthias assets table.")
        era = _era(declared)
        columns = tuple(c for c in (*ANTHIAS_COLUMNS, *EDGE_COLUMNS) if c in declared)
        select = ", ".join(f'"{c}"' for c in columns)
        cursor = connection.execute(f'SELECT {select} FROM "assets" ORDER BY rowid')
        rows = [_map_row(dict(zip(columns, values, strict=True)), era) for values in cursor]
        qr_contents = _read_qr_contents(connection)
    except sqlite3.DatabaseError as exc:
        raise ImportFailed(f"{path} could not be read: {exc}.") from exc
    finally:
        connection.close()
    return SourceLibrary(path=path, era=era, columns=columns, rows=rows,
                         qr_contents=qr_contents)


def _read_qr_contents(connection: sqlite3.Connection) -> list[dict[str, Any]]:
    """The source's QR contents, dates parsed; none when it has no such table (before 0010)."""
    if connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' "
                          "AND name = 'qr_contents'").fetchone() is None:
        return []
    select = ", ".join(f'"{c}"' for c in QR_COLUMNS)
    rows = []
    for values in connection.execute(f'SELECT {select} FROM "qr_contents" ORDER BY rowid'):
        row = dict(zip(QR_COLUMNS, values, strict=True))
        for column in QR_DATE_COLUMNS:
            row[column] = _date(row[column], row["asset_id"], column)
        row["is_active"] = _bool(row["is_active"])
        row["created_at"] = row["created_at"] or utcnow()
        row["updated_at"] = row["updated_at"] or row["created_at"]
        rows.append(row)
    return rows


def _era(declared: dict[str, str]) -> str:
    if "tenant_id" in declared:
        return ERA_EDGE
    if declared.get("duration") == "text":
        return ERA_FLASK
    return ERA_DJANGO


def _map_row(row: dict[str, Any], era: str) -> dict[str, Any]:
    mapped: dict[str, Any] = {}
    for column, value in row.items():
        if column in DATE_COLUMNS:
            value = _date(value, row["asset_id"], column)
        elif column == "duration":
            value = _duration(value)
        elif column in BOOL_COLUMNS:
            value = None if value is None else _bool(value)
        elif column in INT_COLUMNS and value is not None:
            value = _duration(value)
        if value is None and column in NOT_NULL_DEFAULTS:
            value = NOT_NULL_DEFAULTS[column]
        mapped[column] = value
    return mapped


def _date(value: Any, asset_id: str, column: str) -> dt.datetime | None:
    try:
        return parse_stored(value)
    except (ValueError, OverflowError):
        logger.warning("asset %s: unreadable %s %r copied as empty", asset_id, column, value)
        return None


def _duration(value: Any) -> int | None:
    """Flask-era durations are text ('10', '', 'N/A'); anything not a number becomes NULL."""
    if value is None or isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        try:
            return int(float(str(value).strip()))
        except (ValueError, OverflowError):
            return None


def _bool(value: Any) -> bool:
    if isinstance(value, int | float):
        return bool(value)
    return str(value).strip().lower() in TRUE_WORDS


# -- the target ----------------------------------------------------------------------------


def open_target(database_url: str) -> Database:
    """Connect to the PostgreSQL URL (5 s timeout); DatabaseUnreachable when it does not answer."""
    if not database_url.startswith(("postgres://", "postgresql://")):
        raise ValidationError({"database_url": ["Must be a postgresql:// URL."]})
    database = open_database(database_url)
    database.connect_params["connect_timeout"] = CONNECT_TIMEOUT_S
    try:
        database.connect()
    except (PeeweeException, OSError) as exc:
        parsed = urlparse(database_url)
        reason = (str(exc).strip().splitlines() or ["no answer"])[-1]
        raise DatabaseUnreachable(
            f"Cannot connect to PostgreSQL at {parsed.hostname or '127.0.0.1'}:"
            f"{parsed.port or 5432}/{parsed.path.lstrip('/')}: {reason}") from exc
    return database


def apply_pending_migrations(database: Database) -> list[str]:
    """Open a connection and apply the migrations not yet applied; return their names.

    ``run_migrations`` takes the advisory lock on PostgreSQL, not this function.
    """
    with database.connection_context():
        return run_migrations(database)


def migrate_to_postgresql(
    sqlite_path: Path,
    tenant_name: str,
    tenant_subdomain: str,
    database_url: str,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
    clock: Callable[[], dt.datetime] = utcnow,
    media: MediaCopy | None = None,
) -> MigrationResult:
    """Copy every asset of ``sqlite_path`` into the tenant ``tenant_subdomain`` (made if new).

    All or nothing; a re-run updates the rows it copied before. ``dry_run`` writes nothing,
    not even migrations, and reports the creates and updates it would make. With ``media``
    the local assets' files are copied into the tenant's own folder and their URIs point
    there (the only place a cloud tenant may use files from); files a failed run copied
    are removed again.
    """
    subdomain = (tenant_subdomain or "").strip().lower()
    errors: dict[str, list[str]] = {}
    if not (tenant_name or "").strip():
        errors["tenant_name"] = ["Must not be empty."]
    if not SUBDOMAIN.match(subdomain):
        errors["tenant_subdomain"] = ["Use 1-63 lower-case letters, digits and inner hyphens."]
    elif subdomain == LOCAL_SUBDOMAIN:
        errors["tenant_subdomain"] = ["'local' is reserved for a device's own tenant."]
    if errors:
        raise ValidationError(errors)
    source = read_source(sqlite_path)
    database = open_target(database_url)
    try:
        if dry_run:
            return _plan(database, source, subdomain, media)
        apply_pending_migrations(database)
        placed: list[PlacedMedia] = []
        try:
            with database.connection_context(), database.atomic():
                return _copy(database, source, tenant_name.strip(), subdomain, progress, clock,
                             media, placed)
        except BaseException:
            for files in placed:  # the rows naming them were not written
                files.undo()
            raise
    except IntegrityError as exc:
        raise Conflict(f"The copy was refused by PostgreSQL and nothing was written: {exc}"
                       ) from exc
    finally:
        database.close_all()


def _existing_tenant(database: Database, subdomain: str) -> str | None:
    row = database.execute_sql('SELECT "id" FROM "tenants" WHERE "subdomain" = %s',
                               (subdomain,)).fetchone()
    return row[0] if row else None


def _owners(database: Database, asset_ids: list[str]) -> dict[str, str | None]:
    """asset_id -> tenant_id of the source's ids that already exist in PostgreSQL.

    Every tenant's ids count, which row-level security hides from a plain query: once
    migration 0009 is in, this asks its operator-only function instead.
    """
    secured = database.execute_sql(
        "SELECT to_regprocedure('anthias_asset_owners(text[])') IS NOT NULL").fetchone()[0]
    owners: dict[str, str | None] = {}
    for start in range(0, len(asset_ids), 1000):
        chunk = asset_ids[start:start + 1000]
        if secured:
            owners.update(asset_owners(database, chunk))
            continue
        cursor = database.execute_sql(
            'SELECT "asset_id", "tenant_id" FROM "assets" WHERE "asset_id" = ANY(%s)', (chunk,))
        owners.update(dict(cursor.fetchall()))
    return owners


def _classify(owners: dict[str, str | None], source: SourceLibrary,
              tenant_id: str | None) -> tuple[int, int]:
    """(creates, updates); Conflict when an id belongs to another tenant."""
    stolen = sorted(asset_id for asset_id, owner in owners.items() if owner != tenant_id)
    if stolen:
        shown = ", ".join(stolen[:5]) + (" ..." if len(stolen) > 5 else "")
        raise Conflict(f"{len(stolen)} asset id(s) already belong to another tenant: {shown}. "
                       "Nothing was copied.", details={"asset_ids": stolen})
    updates = sum(1 for row in source.rows if row["asset_id"] in owners)
    return len(source.rows) - updates, updates


def _plan(database: Database, source: SourceLibrary, subdomain: str,
          media: MediaCopy | None) -> MigrationResult:
    with database.connection_context():
        migrated = database.table_exists("tenants") and database.table_exists("assets")
        tenant_id = _existing_tenant(database, subdomain) if migrated else None
        owners = _owners(database, [r["asset_id"] for r in source.rows]) if migrated else {}
    creates, updates = _classify(owners, source, tenant_id)
    files = place_media(source.rows, media, tenant_id, dry_run=True) if media else None
    return MigrationResult(era=source.era, tenant_id=tenant_id, tenant_created=tenant_id is None,
                           creates=creates, updates=updates, dry_run=True,
                           files_copied=files.copied if files else 0,
                           files_missing=files.missing if files else 0,
                           qr_contents=len(source.qr_contents))


def _copy(database: Database, source: SourceLibrary, name: str, subdomain: str,
          progress: Progress | None, clock: Callable[[], dt.datetime],
          media: MediaCopy | None = None, placed: list[PlacedMedia] | None = None,
          ) -> MigrationResult:
    now = clock()
    tenant_id = _existing_tenant(database, subdomain)
    created = tenant_id is None
    if created:
        tenant_id = str(uuid.uuid4())
        database.execute_sql(
            'INSERT INTO "tenants" ("id", "name", "subdomain", "is_active", "plan_type", '
            '"max_assets", "max_devices", "storage_quota_gb", "created_at", "updated_at") '
            "VALUES (%s, %s, %s, true, %s, %s, %s, %s, %s, %s)",
            (tenant_id, name, subdomain, LEGACY_PLAN["plan_type"], LEGACY_PLAN["max_assets"],
             LEGACY_PLAN["max_devices"], LEGACY_PLAN["storage_quota_gb"], now, now))
    set_tenant(database, tenant_id)  # the copied rows and the audit entries are this tenant's
    owners = _owners(database, [r["asset_id"] for r in source.rows])
    creates, updates = _classify(owners, source, tenant_id)
    files = None
    if media is not None:
        files = place_media(source.rows, media, tenant_id)
        if placed is not None:
            placed.append(files)
        source = replace(source, rows=files.rows)
    statement = _upsert_statement(source.columns)
    total = len(source.rows)
    for done, row in enumerate(_with_progress(source.rows, progress), start=1):
        values = [row[c] for c in source.columns] + [tenant_id]
        cursor = database.execute_sql(statement, values)
        if cursor.rowcount != 1:
            # Another tenant took this id after we looked: refuse, the transaction rolls back.
            raise Conflict(f"Asset {row['asset_id']} belongs to another tenant. "
                           "Nothing was copied.", details={"asset_ids": [row["asset_id"]]})
        if progress is not None and done == total:
            progress(done, total)
    _copy_qr_contents(database, source, tenant_id)
    _audit(database, tenant_id, created, subdomain, source, creates, updates, now)
    logger.info("copied %d assets from %s into tenant %s (%d new, %d updated)",
                total, source.path, subdomain, creates, updates)
    return MigrationResult(era=source.era, tenant_id=tenant_id, tenant_created=created,
                           creates=creates, updates=updates, dry_run=False,
                           files_copied=files.copied if files else 0,
                           files_missing=files.missing if files else 0,
                           qr_contents=len(source.qr_contents))


def _copy_qr_contents(database: Database, source: SourceLibrary, tenant_id: str) -> None:
    """Upsert the source's QR contents into the tenant, after their assets (foreign key)."""
    if not source.qr_contents:
        return
    names = ", ".join(f'"{c}"' for c in (*QR_COLUMNS, "tenant_id"))
    placeholders = ", ".join(["%s"] * (len(QR_COLUMNS) + 1))
    updates = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in QR_COLUMNS if c != "qr_id")
    statement = (f'INSERT INTO "qr_contents" ({names}) VALUES ({placeholders}) '
                 f'ON CONFLICT ("qr_id") DO UPDATE SET {updates} '
                 'WHERE "qr_contents"."tenant_id" = EXCLUDED."tenant_id"')
    for row in source.qr_contents:
        cursor = database.execute_sql(statement, [row[c] for c in QR_COLUMNS] + [tenant_id])
        if cursor.rowcount != 1:
            raise Conflict(f"QR content {row['qr_code']} belongs to another tenant. "
                           "Nothing was copied.")


def _with_progress(rows: list[dict[str, Any]], progress: Progress | None
                   ) -> Iterator[dict[str, Any]]:
    total = len(rows)
    for index, row in enumerate(rows):
        if progress is not None and index % 100 == 0:
            progress(index, total)
        yield row


def _upsert_statement(columns: tuple[str, ...]) -> str:
    names = ", ".join(f'"{c}"' for c in (*columns, "tenant_id"))
    placeholders = ", ".join(["%s"] * (len(columns) + 1))
    updates = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in columns if c != "asset_id")
    # The WHERE makes a row of another tenant a no-op (rowcount 0), never a takeover.
    return (f'INSERT INTO "assets" ({names}) VALUES ({placeholders}) '

            f'ON CONFLICT ("asset_id") DO UPDATE SET {updates} '
            'WHERE "assets"."tenant_id" = EXCLUDED."tenant_id"')


def _audit(database: Database, tenant_id: str, created: bool, subdomain: str,
           source: SourceLibrary, creates: int, updates: int, now: dt.datetime) -> None:
    entries = []
    if created:
        entries.append(("tenant.create", "tenant", tenant_id,
                        f"tenant {subdomain} (plan legacy) by migrate-to-postgresql"))
    entries.append(("assets.import", "tenant", tenant_id,
                    f"{creates} created, {updates} updated, {len(source.qr_contents)} QR "
                    f"content(s) from {source.era} {source.path.name}"))
    for action, object_type, object_id, summary in entries:
        database.execute_sql(
            'INSERT INTO "audit_log" ("tenant_id", "actor", "action", "object_type", '
            '"object_id", "summary", "ip", "at") VALUES (%s, %s, %s, %s, %s, %s, NULL, %s)',
            (tenant_id, "system", action, object_type, object_id, summary[:500], now))
