"""A tenant's effective limits (its plan's, or its own columns) and the checks against them.

A tenant with a subscription has its plan's limits; a canceled subscription has the free
plan's. A tenant without one (the device's own, a ``legacy`` tenant from
``migrate-to-postgresql``, one an operator set by hand) keeps the limits on its ``tenants``
row, exactly as before billing existed. Limits only ever refuse *new* items: nothing is
deleted, hidden or stopped when a tenant is over them after a downgrade or a lapse.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from peewee import SQL, fn

from anthias_edge.db import db
from anthias_edge.errors import AssetLimitReached, TenantNotFound
from anthias_edge.models import Asset, Device
from anthias_edge.models.fleet import ACTIVE
from anthias_edge.services.billing.errors import DeviceLimitReached, StorageQuotaReached

GB = 1024 ** 3
DEVICE_PLAN = "device"  # services/tenants.py: the device's own tenant

# One round trip: the tenant's own columns, and its subscription's plan (the free plan's
# once canceled). Row-level security shows only the caller's subscription anyway. ``{extra}``
# adds the tenant's asset count for the asset check, which runs under the tenant's write lock.
_EFFECTIVE = (
    'SELECT t.plan_type, t.max_assets, t.max_devices, t.storage_quota_gb, '
    'p.code, p.max_assets, p.max_devices, p.storage_quota_gb{extra} '
    'FROM tenants t LEFT JOIN subscriptions s ON s.tenant_id = t.id '
    "LEFT JOIN plans p ON p.code = CASE WHEN s.status = 'canceled' THEN 'free' "
    'ELSE s.plan END WHERE t.id = {param}')
_ASSET_COUNT = ", (SELECT count(*) FROM assets a WHERE a.tenant_id = t.id)"


@dataclass(frozen=True)
class Limits:
    """What a tenant may have, and the plan that says so."""

    plan: str
    max_assets: int
    max_devices: int
    storage_quota_gb: int

    @property
    def storage_bytes(self) -> int:
        """The storage quota in bytes."""
        return self.storage_quota_gb * GB


def effective_limits(tenant_id: str) -> Limits:
    """The limits that apply to ``tenant_id`` now (see the module docstring)."""
    return _limits(_effective_row(tenant_id, ""))


def _effective_row(tenant_id: str, extra: str) -> tuple:
    row = db.execute_sql(_EFFECTIVE.format(param=db.param, extra=extra),
                         (str(tenant_id),)).fetchone()
    if row is None:
        raise TenantNotFound()
    return row


def _limits(row: tuple) -> Limits:
    if row[4] is not None:
        return Limits(row[4], row[5], row[6], row[7])
    return Limits(row[0], row[1], row[2], row[3])


def asset_count(tenant_id: str) -> int:
    """How many assets the tenant has (count(*): the tenant index answers it)."""
    return Asset.select(fn.COUNT(SQL("*"))).where(Asset.tenant == str(tenant_id)).scalar()


def _refuse_past(error: type[Exception], message: str, limits: Limits, limit: str,
                 used_key: str, used: int, extra: int) -> None:
    """Raise ``error`` (with the limit, plan and use in its details) if ``extra`` more pass it."""
    allowed = getattr(limits, limit)
    if used + extra > allowed:
        raise error(message, details={"limit": limit, "plan": limits.plan, limit: allowed,
                                      used_key: used})


def check_asset_limit(tenant_id: str, extra: int = 1) -> None:
    """Raise AssetLimitReached, naming the limit and the plan, if ``extra`` more would pass it."""
    row = _effective_row(tenant_id, _ASSET_COUNT)  # and the count, in the same statement
    limits = _limits(row)
    _refuse_past(AssetLimitReached,
                 f"This tenant has reached the asset limit of its plan: {limits.max_assets} "
                 f"assets on plan '{limits.plan}'.",
                 limits, "max_assets", "assets", int(row[8]), extra)


def storage_used(media_dir: Path | None) -> int:
    """Bytes of the files in the tenant's own folder (what its uploads take)."""
    if media_dir is None:
        return 0
    total = 0
    for root, _dirs, files in os.walk(media_dir):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:  # removed while we walked
                continue
    return total


def check_storage_quota(tenant_id: str, media_dir: Path | None, incoming: int) -> None:
    """Raise StorageQuotaReached if ``incoming`` more bytes would pass the plan's quota.

    The device's own tenant is not held to one: a device's disk is its limit, as on Anthias.
    """
    limits = effective_limits(tenant_id)
    if limits.plan == DEVICE_PLAN:
        return
    used = storage_used(media_dir)
    if used + max(incoming, 0) > limits.storage_bytes:
        raise StorageQuotaReached(
            f"This upload would pass the storage quota of your plan: "
            f"{limits.storage_quota_gb} GB on plan '{limits.plan}'.",
            details={"limit": "storage_quota_gb", "plan": limits.plan,
                     "storage_quota_gb": limits.storage_quota_gb, "storage_bytes": used,
                     "incoming_bytes": incoming})


def device_count(tenant_id: str) -> int:
    """How many devices the tenant has linked (revoked ones no longer count)."""
    return (Device.select(fn.COUNT(SQL("*")))
            .where(Device.tenant == str(tenant_id), Device.status == ACTIVE).scalar())


def check_device_limit(tenant_id: str, devices_in_use: int | None = None,
                       extra: int = 1) -> None:
    """For device linking (issue 15): raise DeviceLimitReached if one more passes the plan.

    ``devices_in_use`` defaults to the tenant's linked devices now.
    """
    limits = effective_limits(tenant_id)
    if devices_in_use is None:
        devices_in_use = device_count(tenant_id)
    _refuse_past(DeviceLimitReached,
                 f"This tenant has as many devices as its plan allows: {limits.max_devices} on "
                 f"plan '{limits.plan}'.",
                 limits, "max_devices", "devices", devices_in_use, extra)


def usage(tenant_id: str, media_dir: Path | None,
          devices_in_use: int | None = None) -> dict[str, dict]:
    """Use against each limit: ``{assets: {used, limit}, devices: ..., storage_bytes: ...}``."""
    limits = effective_limits(tenant_id)
    if devices_in_use is None:
        devices_in_use = device_count(tenant_id)
    return {"assets": {"used": asset_count(tenant_id), "limit": limits.max_assets},
            "devices": {"used": devices_in_use, "limit": limits.max_devices},
            "storage_bytes": {"used": storage_used(media_dir), "limit": limits.storage_bytes}}
