"""The asset endpoints every legacy version has; each version passes its own rules."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint

from anthias_edge.api.legacy.blueprint import named, runtime
from anthias_edge.api.legacy.http import empty, render
from anthias_edge.models import Asset

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


def register_asset_routes(bp: Blueprint, rules: AssetRules) -> None:
    """List, create, get, update and delete under ``/assets``."""

    def show(asset: Asset) -> dict[str, Any]:
        rt = runtime()
        return rules.formatter(asset, rt.clock(), rt.zone)

    @named(f"AssetListView{rules.suffix}")
    def asset_list() -> Any:
        rt = runtime()
        now, zone = rt.clock(), rt.zone
        return render([rules.formatter(a, now, zone) for a in rt.assets().list_assets()])

    @named(f"AssetListView{rules.suffix}")
    def asset_create() -> Any:
        values, ext = rules.read_create()
        asset = runtime().assets().create(values, ext=ext, unique_name=rules.unique_name,
                                          renumber=rules.renumber)
        return render(show(asset), 201)

    @named(f"AssetView{rules.suffix}")
    def asset_detail(asset_id: str) -> Any:
        return render(show(runtime().assets().get(asset_id)))

    @named(f"AssetView{rules.suffix}")
    def asset_update(asset_id: str) -> Any:
        from flask import request

        service = runtime().assets()
        asset = service.get(asset_id)
        values = rules.read_update(asset, request.method == "PATCH")
        return render(show(service.update(asset_id, values, renumber=rules.renumber)))

    @named(f"AssetView{rules.suffix}")
    def asset_delete(asset_id: str) -> Any:
        runtime().assets().delete(asset_id)
        return empty(204)

    update_methods = ["PUT", "PATCH"] if rules.patch else ["PUT"]
    bp.add_url_rule("/assets", "asset_list", asset_list, methods=["GET"])
    bp.add_url_rule("/assets", "asset_create", asset_create, methods=["POST"])
    bp.add_url_rule("/assets/<asset_id>", "asset_detail", asset_detail, methods=["GET"])
    bp.add_url_rule("/assets/<asset_id>", "asset_update", asset_update, methods=update_methods)
    bp.add_url_rule("/assets/<asset_id>", "asset_delete", asset_delete, methods=["DELETE"])
