"""The asset endpoints every legacy version has; each version passes its own rules."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, g, request

from anthias_edge.api.asset_format import SHOWN_COLUMNS
from anthias_edge.api.asset_list_render import AssetListRenderer
from anthias_edge.api.legacy.blueprint import legacy_tenant_id, named
from anthias_edge.api.legacy.http import dumps, empty, render, render_body
from anthias_edge.api.legacy.list_fast_path import asset_list_key
from anthias_edge.api.schema import AssetOf, Body, ListOf, openapi
from anthias_edge.compression import REUSED_BODY
from anthias_edge.models import Asset
from anthias_edge.runtime import current_runtime

CACHE_HORIZON = dt.timedelta(hours=1)

Formatter = Callable[[Asset, dt.datetime, dt.tzinfo], dict[str, Any]]


@dataclass(frozen=True)
class AssetRules:
    """How one version reads, writes and shows assets."""

    suffix: str  # DRF class-name suffix: V1, V1_1, V1_2, V2
    formatter: Formatter
    read_create: Callable[[], tuple[dict[str, Any], str | None]]
    read_update: Callable[[Asset, bool], dict[str, Any]]
    unique_name: bool
    renumber: bool
    patch: bool
    create_body: Body | None = None  # what read_create validates, for /api/schema/
    update_body: Body | None = None


def _list_renderer() -> AssetListRenderer:
    return AssetListRenderer(CACHE_HORIZON, SHOWN_COLUMNS)


def register_asset_routes(bp: Blueprint, rules: AssetRules) -> None:
    """List, create, get, update and delete under ``/assets``."""

    def show(asset: Asset) -> dict[str, Any]:
        rt = current_runtime()
        return rules.formatter(asset, rt.clock(), rt.zone)

    @named(f"AssetListView{rules.suffix}")
    @openapi(returns=ListOf(AssetOf(rules.formatter)))
    def asset_list() -> Any:
        """List every asset in playlist order."""
        rt = current_runtime()
        now, zone = rt.clock(), rt.zone
        tenant_id = legacy_tenant_id() or rt.local_tenant_id

        # The list is what scripts and the UI poll: reuse it until data or a schedule edge moves.
        key = asset_list_key(rules.suffix, tenant_id, rt.zone_file)

        def build() -> tuple[bytes, dt.datetime]:
            # After a write only the changed rows are formatted again (api/asset_list_render.py).
            renderer = rt.render_cache.companion(AssetListRenderer, _list_renderer)
            return renderer.render(rt.database, tenant_id, rules.formatter, dumps, now, zone)

        body, etag = rt.render_cache.get_or_build(key, now, build)
        if rt.render_cache.reuses:  # the same bytes object comes again: keep its gzip form
            request.environ[REUSED_BODY] = True
        if rules.suffix != "V2":
            return render_body(body)
        # The web UI polls this list; an unchanged body costs a 304 and no transfer.
        quoted = f'"{etag}"'
        if quoted in request.headers.get("If-None-Match", ""):
            return Response(status=304, headers={"ETag": quoted})
        response = render_body(body)
        response.headers["ETag"] = quoted
        return response

    @named(f"AssetListView{rules.suffix}")
    @openapi(request=rules.create_body, status=201, returns=AssetOf(rules.formatter))
    def asset_create() -> Any:
        """Create an asset."""
        values, ext = rules.read_create()
        # The cloud's authenticated user (subdomain Basic auth or v3's legacy proxy); a
        # device's Basic credentials name no user.
        asset = current_runtime().assets(legacy_tenant_id()).create(
            values, ext=ext, unique_name=rules.unique_name, renumber=rules.renumber,
            created_by=g.get("user_id"))
        return render(show(asset), 201)

    @named(f"AssetView{rules.suffix}")
    @openapi(returns=AssetOf(rules.formatter))
    def asset_detail(asset_id: str) -> Any:
        """Show one asset."""
        return render(show(current_runtime().assets(legacy_tenant_id()).get(asset_id)))

    @named(f"AssetView{rules.suffix}")
    @openapi(request=rules.update_body, returns=AssetOf(rules.formatter))
    def asset_update(asset_id: str) -> Any:
        """Update an asset (PATCH: only the fields sent)."""
        from flask import request

        service = current_runtime().assets(legacy_tenant_id())
        asset = service.get(asset_id)
        values = rules.read_update(asset, request.method == "PATCH")
        # The row just read saves the update reading it again. Its answer is then read back
        # only after a renumbering, so v1 and v1.1 (which do not renumber) keep that read.
        return render(show(service.update(asset_id, values, renumber=rules.renumber,
                                          current=asset if rules.renumber else None)))

    @named(f"AssetView{rules.suffix}")
    @openapi(status=204)
    def asset_delete(asset_id: str) -> Any:
        """Delete an asset."""
        current_runtime().assets(legacy_tenant_id()).delete(asset_id)
        return empty(204)

    update_methods = ["PUT", "PATCH"] if rules.patch else ["PUT"]
    bp.add_url_rule("/assets", "asset_list", asset_list, methods=["GET"])
    bp.add_url_rule("/assets", "asset_create", asset_create, methods=["POST"])
    bp.add_url_rule("/assets/<asset_id>", "asset_detail", asset_detail, methods=["GET"])
    bp.add_url_rule("/assets/<asset_id>", "asset_update", asset_update, methods=update_methods)
    bp.add_url_rule("/assets/<asset_id>", "asset_delete", asset_delete, methods=["DELETE"])
