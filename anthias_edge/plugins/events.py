"""The sink through which the core tells plugins what changed (``Runtime`` hands it out).

Each event goes to each enabled plugin that implements its hook, one plugin at a time: pluggy
calling them all at once would stop at the first exception and leave the rest untold. A
plugin's exception is logged with its name (logger ``anthias_edge.plugins.<name>``) and
swallowed: the change it reports is already committed, and the user's request succeeded.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from anthias_edge.plugins.payment import SubscriptionChange

EVENT_HOOKS = ("asset_created", "asset_updated", "asset_deleted", "subscription_changed")


class PluginEvents:
    """Implements ``services.asset_events.AssetEventSink`` and ``subscription_changed``."""

    def __init__(self, manager: pluggy.PluginManager) -> None:
        """Fix, per event hook, the plugins registered now that implement it."""
        self._callers: dict[str, list[tuple[str, Any]]] = {}
        plugins = manager.get_plugins()
        for hook in EVENT_HOOKS:
            callers = []
            for impl in getattr(manager.hook, hook).get_hookimpls():
                others = [p for p in plugins if p is not impl.plugin]
                callers.append((impl.plugin_name,
                                manager.subset_hook_caller(hook, remove_plugins=others)))
            self._callers[hook] = callers

    def listeners(self, hook: str) -> list[str]:
        """The names of the plugins that receive ``hook``, in call order."""
        return [name for name, _caller in self._callers[hook]]

    def asset_created(self, tenant_id: str | None, asset: Mapping[str, Any],
                      actor: str | None) -> None:
        """Tell plugins an asset was created (``hookspecs.asset_created``)."""
        self._tell("asset_created", tenant_id=tenant_id, asset=asset, actor=actor)

    def asset_updated(self, tenant_id: str | None, asset: Mapping[str, Any],
                      changed: Sequence[str], actor: str | None) -> None:
        """Tell plugins an asset was changed (``hookspecs.asset_updated``)."""
        self._tell("asset_updated", tenant_id=tenant_id, asset=asset, changed=list(changed),
                   actor=actor)

    def asset_deleted(self, tenant_id: str | None, asset: Mapping[str, Any],
                      actor: str | None) -> None:
        """Tell plugins an asset was deleted (``hookspecs.asset_deleted``)."""
        self._tell("asset_deleted", tenant_id=tenant_id, asset=asset, actor=actor)

    def subscription_changed(self, change: SubscriptionChange) -> None:
        """Tell plugins a tenant's subscription moved (``hookspecs.subscription_changed``)."""
        self._tell("subscription_changed", change=change)

    def _tell(self, hook: str, **kwargs: Any) -> None:
        for name, caller in self._callers[hook]:
            # A copy each, so one plugin changing the dict cannot mislead the next.
            arguments = {k: dict(v) if k == "asset" else v for k, v in kwargs.items()}
            try:
                caller(**arguments)
            except Exception:
                logging.getLogger(f"anthias_edge.plugins.{name}").exception(
                    "plugin %s failed in %s; the change itself stands", name, hook)
