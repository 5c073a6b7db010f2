"""Where the asset service reports what it changed, once the change is committed.

The service knows nothing of plugins: the runtime hands it an ``AssetEventSink`` (the plugin
host's, ``plugins/events.py``) and it calls one method per change after its transaction. An
asset goes out as a plain ``dict`` of its columns (``asset_snapshot``), so a listener can
neither change the row nor keep a database object past its request.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from anthias_edge.models import Asset

_FIELD_NAMES = [field.name for field in Asset._meta.sorted_fields]


class AssetEventSink(Protocol):
    """What ``AssetService`` tells after each committed create, update and delete."""

    def asset_created(self, tenant_id: str | None, asset: dict[str, Any],
                      actor: str | None) -> None:
        """A new asset (its columns) was committed."""

    def asset_updated(self, tenant_id: str | None, asset: dict[str, Any],
                      changed: Sequence[str], actor: str | None) -> None:
        """An asset was changed; ``changed`` names the fields the caller sent."""

    def asset_deleted(self, tenant_id: str | None, asset: dict[str, Any],
                      actor: str | None) -> None:
        """An asset (its columns as they were) was deleted."""


class NoAssetEvents(AssetEventSink):
    """The sink of a service nobody listens to (the player, imports, most tests).

    Subclassing the protocol gives it the protocol's own methods, which do nothing: one
    place states the three signatures.
    """


NO_ASSET_EVENTS = NoAssetEvents()


def asset_snapshot(asset: Asset) -> dict[str, Any]:
    """The asset's columns by field name, detached from the row object."""
    return {name: getattr(asset, name, None) for name in _FIELD_NAMES}
