"""Built-in plugin ``event_log``: one log line per asset and subscription event.

An operator following the log (``journalctl -u anthias-edge``) sees what plugins are told, and
plugin authors have a working example of every event hook. Lines go to the plugin's own logger
``anthias_edge.plugins.event_log`` at DEBUG (shown with ``debug_logging`` on), so a busy
library's writes do not fill the journal; ``disabled_plugins = event_log`` removes it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from anthias_edge.plugins import hookimpl

if TYPE_CHECKING:
    from anthias_edge.plugins.payment import SubscriptionChange

logger = logging.getLogger("anthias_edge.plugins.event_log")


@hookimpl
def asset_created(tenant_id: str | None, asset: Mapping[str, Any], actor: str | None) -> None:
    """Log the new asset's id and name."""
    logger.debug("asset created: %s %r (tenant %s, by %s)", asset.get("asset_id"),
                asset.get("name"), tenant_id, actor or "legacy API")


@hookimpl
def asset_updated(tenant_id: str | None, asset: Mapping[str, Any], changed: Sequence[str],
                  actor: str | None) -> None:
    """Log the asset and the fields sent."""
    logger.debug("asset updated: %s %r: %s (tenant %s, by %s)", asset.get("asset_id"),
                asset.get("name"), ", ".join(changed) or "nothing", tenant_id,
                actor or "legacy API")


@hookimpl
def asset_deleted(tenant_id: str | None, asset: Mapping[str, Any], actor: str | None) -> None:
    """Log the deleted asset's id and name."""
    logger.debug("asset deleted: %s %r (tenant %s, by %s)", asset.get("asset_id"),
                asset.get("name"), tenant_id, actor or "legacy API")


@hookimpl
def subscription_changed(change: SubscriptionChange) -> None:
    """Log the tenant's move from one plan and status to the next."""
    logger.debug("subscription of tenant %s: %s/%s -> %s/%s (%s)", change.tenant_id,
                change.previous_plan, change.previous_status, change.plan, change.status,
                change.reason)
