"""The asset as each legacy version shows it (legacy-api.md 2.1 and 13)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from anthias_edge.models import Asset
from anthias_edge.scheduling import is_active
from anthias_edge.timeutil import format_datetime


def _duration_text(duration: int | None) -> str | None:
    return None if duration is None else str(duration)


def _flag_number(value: Any) -> int:
    return int(bool(value))


def _as_stored(value: Any) -> Any:
    return value


def _anthias_fields(asset: Asset, now: dt.datetime, zone: dt.tzinfo, *,
                    flag: Callable[[Any], Any], duration: Callable[[Any], Any],
                    with_window: bool) -> dict[str, Any]:
    """Anthias's thirteen asset fields in its order; ``flag`` and ``duration`` type them."""
    return {
        "asset_id": asset.asset_id,
        "name": asset.name,
        "uri": asset.uri,
        "start_date": format_datetime(asset.start_date, zone),
        "end_date": format_datetime(asset.end_date, zone),
        "duration": duration(asset.duration),
        "mimetype": asset.mimetype,
        "is_enabled": flag(asset.is_enabled),
        "nocache": flag(asset.nocache),
        "play_order": asset.play_order,
        "skip_asset_check": flag(asset.skip_asset_check),
        "is_active": flag(is_active(asset, now, zone, with_window=with_window)),
        "is_processing": flag(asset.is_processing),
    }


def v1_asset(asset: Asset, now: dt.datetime, zone: dt.tzinfo) -> dict[str, Any]:
    """v1, v1.1 and v1.2: duration as text, flags as 0/1, no day/time window."""
    return _anthias_fields(asset, now, zone, flag=_flag_number, duration=_duration_text,
                           with_window=False)


def v2_asset(asset: Asset, now: dt.datetime, zone: dt.tzinfo) -> dict[str, Any]:
    """v2: integer duration, boolean flags, and the 2025-2026 extension fields."""
    fields = _anthias_fields(asset, now, zone, flag=bool, duration=_as_stored,
                             with_window=True)
    fields.update({
        "play_days": asset.play_days,
        "play_time_from": asset.play_time_from,
        "play_time_to": asset.play_time_to,
        "skip_ssl_verify": bool(asset.skip_ssl_verify),
        "refresh_interval_s": asset.refresh_interval_s,
        "custom_headers": asset.custom_headers,
        "is_reachable": bool(asset.is_reachable),
        "last_reachability_check": format_datetime(asset.last_reachability_check, zone),
        "metadata": asset.metadata,
    })
    return fields
