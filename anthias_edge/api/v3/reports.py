"""``/api/v3/reports/plays``: proof of play per day, device and asset.

JSON by default; CSV (a download) with ``?format=csv`` or ``Accept: text/csv``. The period is
``[from, to)`` in UTC (default: the last 7 days, at most 366 days).
"""

from __future__ import annotations

from typing import Any

from flask import Response, request

from anthias_edge.api.v3.fields import DateTime, Spec, Str
from anthias_edge.api.v3.routing import Call, route
from anthias_edge.services.fleet.reports import (
    MAX_DAYS,
    MAX_ROWS,
    as_csv,
    as_dicts,
    plays_report,
)
from anthias_edge.timeutil import format_datetime

CSV_TYPE = "text/csv"
QUERY: dict[str, Spec] = {
    "from": DateTime(description="Start of the period (UTC if no offset); default: 7 days "
                                 "before 'to'."),
    "to": DateTime(description=f"End of the period (excluded); default: now. At most "
                               f"{MAX_DAYS} days after 'from'."),
    "device": Str(min_length=1, max_length=64, description="Only this device."),
    "asset": Str(min_length=1, max_length=64, description="Only this asset id."),
    "format": Str(choices=("json", "csv"), description="csv: a download (also with "
                                                       "Accept: text/csv)."),
}
ROW = {"type": "object", "properties": {
    "day": {"type": "string", "format": "date"}, "device_id": {"type": "string"},
    "device_name": {"type": "string"}, "asset_id": {"type": "string"},
    "asset_name": {"type": "string"}, "plays": {"type": "integer"},
    "duration_s": {"type": "number", "description": "Seconds played in total."}}}
REPORT = {"type": "object", "required": ["from", "to", "items", "truncated"], "properties": {
    "from": {"type": "string", "format": "date-time"},
    "to": {"type": "string", "format": "date-time"},
    "items": {"type": "array", "items": ROW},
    "truncated": {"type": "boolean", "description": f"More than {MAX_ROWS} rows: narrow the "
                                                    "period or filter."}}}


def _wants_csv(call: Call) -> bool:
    chosen = call.query.get("format")
    if chosen is not None:
        return chosen == "csv"
    # JSON wins a tie (Accept: */* or none); CSV only when the client prefers it.
    return request.accept_mimetypes.best_match(["application/json", CSV_TYPE]) == CSV_TYPE


@route("/reports/plays", "GET", permission="devices.view", query=QUERY, returns=REPORT,
       extra={"also_content": (CSV_TYPE,)}, tag="devices")
def reports_plays(call: Call) -> Any:
    """Plays per day, device and asset: how often and how long each asset was shown.

    The same rows as CSV (``text/csv``, a download named ``plays-<from>-<to>.csv``) with
    ``?format=csv`` or ``Accept: text/csv``; columns: day, device_id, device_name, asset_id,
    asset_name, plays, duration_s.
    """
    query = call.query
    report = plays_report(call.tenant_id, start=query.get("from"), end=query.get("to"),
                          device_id=query.get("device"), asset_id=query.get("asset"),
                          clock=call.runtime.clock)
    if _wants_csv(call):
        name = (f"plays-{report.start:%Y%m%d}-{report.end:%Y%m%d}.csv")
        response = Response(as_csv(report), content_type=f"{CSV_TYPE}; charset=utf-8")
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
        response.headers["Cache-Control"] = "no-store"
        return response
    return {"from": format_datetime(report.start), "to": format_datetime(report.end),
            "items": as_dicts(report), "truncated": report.truncated}
