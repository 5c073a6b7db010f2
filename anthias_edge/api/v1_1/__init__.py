"""API v1.1: v1's asset endpoints with unique names on create (docs/legacy-api.md §3.2, §4.4)."""

from __future__ import annotations

from anthias_edge.api.asset_format import v1_asset
from anthias_edge.api.legacy import v1_family
from anthias_edge.api.legacy.asset_routes import AssetRules, register_asset_routes
from anthias_edge.api.legacy.blueprint import make_blueprint

bp = make_blueprint("v1_1", "/api/v1.1")

register_asset_routes(bp, AssetRules(
    suffix="V1_1", formatter=v1_asset, read_create=v1_family.read_create,
    read_update=v1_family.read_update, unique_name=True, renumber=False, patch=False,
))
