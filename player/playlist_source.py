"""Where the player's rotation gets its assets: the ``assets`` table, read fast.

Peewee builds the query (SQLite or PostgreSQL alike) but the rows are read raw
and turned into ``PlayItem`` here: model instances and per-field converters
cost several times the whole playlist budget at 10,000 assets.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from anthias_edge.models import Asset, QRContent
from anthias_edge.timeutil import parse_stored
from player.qr_overlay import QrOverlay, overlay_settings
from player.rotation import ALL_DAYS, PlayItem

logger = logging.getLogger(__name__)

COLUMNS = (
    Asset.asset_id, Asset.name, Asset.uri, Asset.mimetype, Asset.duration,
    Asset.start_date, Asset.end_date, Asset.is_enabled, Asset.is_processing, Asset.nocache,
    Asset.play_order, Asset.skip_asset_check, Asset.play_days, Asset.play_time_from,
    Asset.play_time_to, Asset.skip_ssl_verify, Asset.refresh_interval_s, Asset.custom_headers,
    Asset.qr_overlay,
)
# A landing page URL for a QR code (player.main builds it from public_url or the LAN address).
LinkFor = Callable[[str], "str | None"]


def load_items_from_db(tenant_id: str | None = None, *,
                       link: LinkFor | None = None) -> list[PlayItem]:
    """Every asset of one tenant (None: the device's own tenant) as PlayItems, in rowid order.

    An asset whose ``qr_overlay`` is on gets the code of its active QR content, pointing
    where ``link`` says; with no active QR content (or no ``link``) no code is drawn.
    """
    if tenant_id is None:
        from anthias_edge.services.tenants import local_tenant_id

        tenant_id = local_tenant_id()
    scope = Asset.tenant == tenant_id
    query = Asset.select(*COLUMNS).where(scope).order_by(Asset.natural_order())
    rows = Asset._meta.database.execute(query).fetchall()
    convert = _Converter()
    # Which assets want a code first, so each item is built once, with its code in it.
    wanted = {row[0]: settings for row in rows
              if row[-1] and (settings := convert.overlay(row[-1])) is not None}
    overlays: dict[str, QrOverlay] = {}
    if wanted and link is not None:
        for asset_id, (code, expires_at) in _active_codes(tenant_id, wanted, convert).items():
            if url := link(code):
                corner, size = wanted[asset_id]
                overlays[asset_id] = QrOverlay(url, corner, size, expires_at)
    return [convert.row(row, overlays.get(row[0])) for row in rows]


def _active_codes(tenant_id: str, wanted: Mapping[str, object],
                  convert: _Converter) -> dict[str, tuple[str, dt.datetime | None]]:
    """The newest live QR content of each ``wanted`` asset that has one: code and expiry."""
    query = (QRContent
             .select(QRContent.asset, QRContent.qr_code, QRContent.expires_at)
             .where((QRContent.tenant == tenant_id) & QRContent.is_active
                    # A subquery, not the ids: thousands of them would be as many parameters.
                    & QRContent.asset.in_(Asset.select(Asset.asset_id).where(
                        (Asset.tenant == tenant_id) & Asset.qr_overlay.is_null(False))))
             .order_by(QRContent.created_at.desc(), QRContent.qr_id))
    codes: dict[str, tuple[str, dt.datetime | None]] = {}
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    for asset_id, code, expires in QRContent._meta.database.execute(query).fetchall():
        expires_at = convert.date(expires)
        if asset_id in codes or asset_id not in wanted or (
                expires_at is not None and expires_at <= now):
            continue
        codes[asset_id] = (code, expires_at)
    return codes


class _Converter:
    """Turns raw rows into PlayItems, parsing each distinct date or JSON text once."""

    def __init__(self) -> None:
        self._dates: dict[Any, dt.datetime | None] = {None: None, "": None}
        self._days: dict[Any, tuple[int, ...]] = {None: ALL_DAYS, "": ALL_DAYS}
        self._headers: dict[Any, Mapping[str, str]] = {}
        self._overlays: dict[Any, tuple[str, int] | None] = {}

    def row(self, row: tuple, code: QrOverlay | None = None) -> PlayItem:
        """The row as a PlayItem, with ``code`` drawn over it (if any)."""
        (asset_id, name, uri, mimetype, duration, start, end, enabled, processing, nocache,
         order, skip_check, days, time_from, time_to, skip_ssl, refresh, headers, _) = row
        return PlayItem(
            asset_id, name, uri, mimetype, duration, self.date(start), self.date(end),
            bool(enabled), bool(processing), bool(nocache), order or 0, bool(skip_check),
            self.days(days), time_from, time_to, bool(skip_ssl), refresh or 0,
            self.headers(headers), code,
        )

    def date(self, value: Any) -> dt.datetime | None:
        """A stored datetime as naive UTC; unreadable values count as null, as the model does."""
        try:
            return self._dates[value]
        except (KeyError, TypeError):
            pass
        try:
            parsed = dt.datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            parsed = None
        if parsed is None or parsed.tzinfo is not None:
            try:
                parsed = parse_stored(parsed or value)
            except ValueError:
                logger.warning("unreadable asset date %r treated as null", value)
                parsed = None
        if isinstance(value, str):
            self._dates[value] = parsed
        return parsed

    def days(self, value: Any) -> tuple[int, ...]:
        """``play_days`` JSON as a tuple; missing or unreadable means every day."""
        try:
            return self._days[value]
        except KeyError:
            pass
        try:
            days = tuple(int(day) for day in json.loads(value)) or ALL_DAYS
        except (TypeError, ValueError):
            logger.warning("unreadable play_days %r treated as every day", value)
            days = ALL_DAYS
        self._days[value] = days
        return days

    def overlay(self, value: Any) -> tuple[str, int] | None:
        """``(corner, size)`` of a stored ``qr_overlay`` that is on; unreadable JSON is off."""
        try:
            return self._overlays[value]
        except (KeyError, TypeError):
            pass
        try:
            loaded = json.loads(value) if isinstance(value, str) else value
        except ValueError:
            logger.warning("unreadable qr_overlay %r treated as off", value)
            loaded = None
        settings = overlay_settings(loaded)
        if isinstance(value, str):
            self._overlays[value] = settings
        return settings

    def headers(self, value: Any) -> Mapping[str, str]:
        """``custom_headers`` JSON as a read-only mapping; missing or unreadable means none."""
        try:
            return self._headers[value]
        except KeyError:
            pass
        try:
            loaded = json.loads(value) if value else {}
        except (TypeError, ValueError):
            loaded = None
        if not isinstance(loaded, dict):
            logger.warning("unreadable custom_headers %r treated as none", value)
            loaded = {}
        headers = MappingProxyType({str(k): str(v) for k, v in loaded.items()})
        self._headers[value] = headers
        return headers
