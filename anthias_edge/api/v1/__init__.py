"""API v1: Anthias's first REST API, plus the device endpoints (docs/legacy-api.md §3)."""

from __future__ import annotations

from typing import Any

from anthias_edge.api.asset_format import v1_asset
from anthias_edge.api.legacy import v1_family
from anthias_edge.api.legacy.asset_routes import AssetRules, register_asset_routes
from anthias_edge.api.legacy.blueprint import make_blueprint, named
from anthias_edge.api.legacy.device_routes import register_device_routes
from anthias_edge.api.legacy.http import render
from anthias_edge.runtime import current_runtime
from anthias_edge.services.device import info as device_info

bp = make_blueprint("v1", "/api/v1")

register_asset_routes(bp, AssetRules(
    suffix="V1", formatter=v1_asset, read_create=v1_family.read_create,
    read_update=v1_family.read_update, unique_name=False, renumber=False, patch=False,
))
register_device_routes(bp, "V1")


@bp.route("/info")
@named("InfoViewV1")
def info() -> Any:
    """Load, free space, display power and update state (docs/legacy-api.md §3.14)."""
    return render(device_info.info_v1())


@bp.route("/viewer_current_asset")
@named("ViewerCurrentAssetViewV1")
def viewer_current_asset() -> Any:
    """Ask the player what it shows; ``[]`` when nothing (docs/legacy-api.md §3.13)."""
    rt = current_runtime()
    asset_id = rt.messenger.ask_current_asset_id()
    if not asset_id:
        return render([])
    return render(v1_asset(rt.assets().get(asset_id), rt.clock(), rt.zone))
