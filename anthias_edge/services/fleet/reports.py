"""Proof of play: a tenant's reported plays counted per day (UTC), device and asset.

Each row says how many times a device started an asset that day and for how long it played
in total (plays whose duration the device did not report count as plays, not seconds). The
period is ``[from, to)`` in UTC, at most ``MAX_DAYS`` days; the default is the last 7 days.
CSV has the same rows and columns, in the same order, for spreadsheets.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from dataclasses import asdict, dataclass

from peewee import SQL, fn

from anthias_edge.errors import ValidationError
from anthias_edge.models import Device, DevicePlay
from anthias_edge.timeutil import utcnow

MAX_DAYS = 366
DEFAULT_DAYS = 7
MAX_ROWS = 50_000
COLUMNS = ("day", "device_id", "device_name", "asset_id", "asset_name", "plays",
           "duration_s")


@dataclass(frozen=True)
class PlaysRow:
    """One day's plays of one asset on one device."""

    day: str  # YYYY-MM-DD (UTC)
    device_id: str
    device_name: str
    asset_id: str
    asset_name: str
    plays: int
    duration_s: float


@dataclass(frozen=True)
class PlaysReport:
    """The rows of a period, and whether they were cut at ``MAX_ROWS``."""

    start: dt.datetime
    end: dt.datetime
    rows: list[PlaysRow]
    truncated: bool


def plays_report(tenant_id: str, *, start: dt.datetime | None = None,
                 end: dt.datetime | None = None, device_id: str | None = None,
                 asset_id: str | None = None,
                 clock: Callable[[], dt.datetime] = utcnow) -> PlaysReport:
    """Plays of ``tenant_id`` per day, device and asset in ``[start, end)``, oldest day first."""
    end = end or clock()
    start = start or end - dt.timedelta(days=DEFAULT_DAYS)
    if start >= end:
        raise ValidationError({"from": ["Must be before 'to'."]})
    if end - start > dt.timedelta(days=MAX_DAYS):
        raise ValidationError({"from": [f"The period is at most {MAX_DAYS} days."]})
    # coerce(False): peewee would read the date back through the datetime field's converter.
    day = fn.DATE(DevicePlay.started_at).coerce(False)
    query = (DevicePlay
             .select(day.alias("day"), DevicePlay.device_id, DevicePlay.asset_id,
                     fn.MAX(DevicePlay.asset_name).alias("asset_name"),
                     fn.COUNT(SQL("*")).alias("plays"),
                     fn.COALESCE(fn.SUM(DevicePlay.duration_s), 0).alias("duration_s"))
             .where(DevicePlay.tenant == str(tenant_id), DevicePlay.started_at >= start,
                    DevicePlay.started_at < end))
    if device_id is not None:
        query = query.where(DevicePlay.device_id == device_id)
    if asset_id is not None:
        query = query.where(DevicePlay.asset_id == asset_id)
    query = (query.group_by(day, DevicePlay.device_id, DevicePlay.asset_id)
             .order_by(day, DevicePlay.device_id, DevicePlay.asset_id)
             .limit(MAX_ROWS + 1).tuples())
    found = list(query)
    names = dict(Device.select(Device.device_id, Device.name)
                 .where(Device.tenant == str(tenant_id),
                        Device.device_id.in_({row[1] for row in found})).tuples()
                 ) if found else {}
    rows = [PlaysRow(_day(row[0]), row[1], names.get(row[1], ""), row[2], row[3] or "",
                     int(row[4]), round(float(row[5] or 0), 3))
            for row in found[:MAX_ROWS]]
    return PlaysReport(start, end, rows, len(found) > MAX_ROWS)


def _day(value: object) -> str:
    # SQLite's date() is text already; PostgreSQL answers a date.
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def as_dicts(report: PlaysReport) -> list[dict[str, object]]:
    """The rows as JSON objects."""
    return [asdict(row) for row in report.rows]


def as_csv(report: PlaysReport) -> str:
    """The rows as CSV text with a header line (cells a spreadsheet would run are quoted)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in report.rows:
        writer.writerow([_cell(getattr(row, column)) for column in COLUMNS])
    return out.getvalue()


def _cell(value: object) -> object:
    # A name starting with = + - @ would be a formula to a spreadsheet: make it text.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value

