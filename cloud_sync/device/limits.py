"""The plan limits the cloud last sent, while they are valid, and the local check against them.

A linked device enforces its tenant's ``max_assets`` on new assets, offline too, until the
limits' ``valid_until`` (the hub sends now + 24 h on each pull). Past that, or unlinked, nothing
is enforced: a device that lost the cloud falls back to its own rules rather than refusing
everything. Only creates are refused; nothing already on the device is hidden or stopped.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from anthias_edge.errors import AssetLimitReached
from anthias_edge.models import Asset
from anthias_edge.timeutil import parse_datetime, utcnow
from cloud_sync.device import link_store, outbox


@dataclass(frozen=True)
class Limits:
    """The tenant's limits as the hub sent them, and until when they hold."""

    plan: str
    max_assets: int | None
    max_devices: int | None
    storage_quota_gb: int | None
    valid_until: dt.datetime


def parse(body: Any) -> Limits | None:
    """The ``limits`` object of a pulled state (None when absent or unreadable)."""
    if not isinstance(body, dict) or not body.get("valid_until"):
        return None
    try:
        until = parse_datetime(str(body["valid_until"]))
    except ValueError:
        return None
    return Limits(plan=str(body.get("plan") or ""), max_assets=_count(body.get("max_assets")),
                  max_devices=_count(body.get("max_devices")),
                  storage_quota_gb=_count(body.get("storage_quota_gb")), valid_until=until)


def cached_limits(now: dt.datetime | None = None) -> Limits | None:
    """The cached limits while valid; None when unlinked, never pulled, or expired."""
    if not outbox.is_linked():
        return None
    state = link_store.load()
    if state is None or state.limits_json is None:
        return None
    limits = parse(state.limits_json)
    if limits is None or limits.valid_until <= (now or utcnow()):
        return None
    return limits


def check_asset_limit(extra: int = 1, now: dt.datetime | None = None) -> None:
    """Raise AssetLimitReached if ``extra`` more assets would pass the cached ``max_assets``."""
    limits = cached_limits(now)
    if limits is None or limits.max_assets is None:
        return
    used = Asset.select().count()
    if used + extra > limits.max_assets:
        raise AssetLimitReached(
            f"This device has reached the asset limit of its cloud plan: {limits.max_assets} "
            f"assets on plan '{limits.plan}'. Delete an asset or upgrade the plan to add more.",
            details={"limit": "max_assets", "plan": limits.plan,
                     "max_assets": limits.max_assets, "assets": used, "source": "cloud"})


def _count(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value
