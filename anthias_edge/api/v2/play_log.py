"""``GET /api/v2/play_log``: what the player showed, for proof of play (an Edge extension)."""

from __future__ import annotations

from typing import Any

from flask import request

from anthias_edge.api.legacy.blueprint import named
from anthias_edge.api.legacy.fields import DateTimeField, IntegerField, validate
from anthias_edge.api.legacy.http import render
from anthias_edge.api.schema import ListOf, openapi
from anthias_edge.api.v2.blueprint import bp
from anthias_edge.models.play_log import PlayLog
from anthias_edge.services import play_log
from anthias_edge.timeutil import format_datetime

QUERY = {
    "since": DateTimeField(),
    "limit": IntegerField(default=100, min_value=1, max_value=play_log.MAX_LIMIT),
}

ITEM = {"type": "object", "properties": {
    "id": {"type": "integer"},
    "asset_id": {"type": "string"},
    "asset_name": {"type": "string", "nullable": True},
    "started_at": {"type": "string", "format": "date-time"},
    "ended_at": {"type": "string", "format": "date-time", "nullable": True},
    "renderer": {"type": "string"},
    "outcome": {"type": "string"},
}}


def _item(entry: PlayLog) -> dict[str, Any]:
    return {
        "id": entry.id,
        "asset_id": entry.asset_id,
        "asset_name": entry.asset_name,
        "started_at": format_datetime(entry.started_at),
        "ended_at": format_datetime(entry.ended_at),
        "renderer": entry.renderer,
        "outcome": entry.outcome,
    }


@bp.route("/play_log", methods=["GET"])
@named("PlayLogViewV2")
@openapi(returns=ListOf(ITEM),
         description="Plays that started at or after `since` (ISO 8601, naive is UTC), "
                     "oldest first, at most `limit` (1-1000, default 100).")
def play_log_list() -> Any:
    """Plays since a moment, oldest first; 400 with field errors for a bad ``since``."""
    values = validate(QUERY, request.args)
    entries = play_log.list_since(values.get("since"), values["limit"])
    return render([_item(entry) for entry in entries])
