"""The asset: Anthias's ``assets`` table plus the columns Anthias Edge adds.

Anthias's own columns keep their names and types so that Anthias can still
read a database we have upgraded, and so that backups stay interchangeable.
"""

from __future__ import annotations

from typing import Any

from peewee import (
    SQL,
    BigIntegerField,
    BooleanField,
    Expression,
    IntegerField,
    TextField,
    Value,
    fn,
)

from anthias_edge.db import is_sqlite
from anthias_edge.models.base import BaseModel, JSONTextField, UtcDateTimeField

ALL_DAYS = [1, 2, 3, 4, 5, 6, 7]


def _all_days() -> list[int]:
    return list(ALL_DAYS)


class Asset(BaseModel):
    """One piece of content: a web page, image, video or stream, with its schedule."""

    asset_id = TextField(primary_key=True)
    name = TextField(null=True)
    uri = TextField(null=True)
    md5 = TextField(null=True)
    start_date = UtcDateTimeField(null=True)
    end_date = UtcDateTimeField(null=True)
    duration = BigIntegerField(null=True)
    mimetype = TextField(null=True)
    is_enabled = BooleanField(default=False)
    is_processing = BooleanField(default=False)
    nocache = BooleanField(default=False)
    play_order = IntegerField(default=0)
    skip_asset_check = BooleanField(default=False)

    # Anthias Edge columns (migration 0002). Tenancy and sharing are used by v3.
    tenant = TextField(null=True, column_name="tenant_id")
    created_by = TextField(null=True)
    is_shared = BooleanField(default=False)
    share_code = TextField(null=True, unique=True)
    tags = JSONTextField(default=list)
    metadata = JSONTextField(default=dict)
    # v2 extensions (docs/legacy-api.md §13).
    play_days = JSONTextField(default=_all_days)
    play_time_from = TextField(null=True)
    play_time_to = TextField(null=True)
    skip_ssl_verify = BooleanField(default=False)
    refresh_interval_s = IntegerField(default=0)
    custom_headers = JSONTextField(default=dict)
    is_reachable = BooleanField(default=True)
    last_reachability_check = UtcDateTimeField(null=True)
    created_at = UtcDateTimeField(null=True)
    updated_at = UtcDateTimeField(null=True)
    # Issue 13 (migration 0010): the code drawn on screen over this asset, as
    # {"enabled": bool, "corner": "top-left"|..., "size": percent of the screen height}.
    qr_overlay = JSONTextField(null=True)

    class Meta:
        table_name = "assets"
        # None on play_order: a renumbered row then rewrites no index (migration 0016).
        indexes = (
            (("tenant", "is_enabled"), False),
        )

    @classmethod
    def natural_order(cls):
        """Insertion order, which Anthias's list and renumbering rely on
        (docs/legacy-api.md Q10)."""
        # SQLite keeps rowid; PostgreSQL has the ``seq`` identity column (migration 0002).
        return SQL("rowid") if is_sqlite(cls._meta.database) else SQL("seq")

    @classmethod
    def tenant_scope(cls, tenant_id: str | None) -> tuple[Expression, tuple[Any, ...]]:
        """The condition for one tenant's assets and their natural order, which one index serves.

        On PostgreSQL ``tenant_id = $1 ORDER BY seq`` lets the planner walk the global ``seq``
        index and filter by tenant (it assumes every tenant's rows are spread evenly), reading
        every newer row of the other tenants. ``= ANY(array)`` is not an equality the planner
        can drop from ``ORDER BY tenant_id, seq``, so only the (tenant_id, seq) index
        (migration 0005) yields that order. SQLite's (tenant_id) index carries the rowid, so
        it serves both there. ``None`` selects rows without a tenant, which only a database not
        yet migrated has: migration 0003 gives them all to the device's own tenant.
        """
        position = cls.natural_order()
        if tenant_id is None:
            return cls.tenant.is_null(), (position,)
        if is_sqlite(cls._meta.database):
            return cls.tenant == tenant_id, (position,)
        tenants = Value([tenant_id], unpack=False, converter=False)  # a text[] of one
        return cls.tenant == fn.ANY(tenants), (cls.tenant, position)

    @classmethod
    def for_tenant(cls, tenant_id: str | None):
        """All assets of one tenant (``None``: rows without a tenant) in natural order."""
        scope, order = cls.tenant_scope(tenant_id)
        return cls.select().where(scope).order_by(*order)

    @property
    def is_video(self) -> bool:
        """Anthias decides by substring (docs/legacy-api.md §4.3)."""
        return "video" in (self.mimetype or "")
