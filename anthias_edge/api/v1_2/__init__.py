"""API v1.2: direct fields, 0/1 flags, escaping and play-order renumbering
(docs/legacy-api.md §3.3, §3.7)."""

from __future__ import annotations

from typing import Any

from flask import request

from anthias_edge.api.asset_format import v1_asset
from anthias_edge.api.legacy.asset_routes import AssetRules, register_asset_routes
from anthias_edge.api.legacy.blueprint import make_blueprint
from anthias_edge.api.legacy.fields import (
    CharField,
    DateTimeField,
    DurationField,
    ExtensionField,
    IntegerField,
    validate,
)
from anthias_edge.api.request_body import read_data
from anthias_edge.models import Asset
from anthias_edge.services.uri_rules import escape_uri

FLAG = IntegerField(min_value=0, max_value=1)

CREATE = {
    "name": CharField(required=True),
    "uri": CharField(required=True),
    "start_date": DateTimeField(required=True),
    "end_date": DateTimeField(required=True),
    "duration": DurationField(required=True),
    "mimetype": CharField(required=True),
    "is_enabled": IntegerField(required=True, min_value=0, max_value=1),
    "nocache": IntegerField(min_value=0, max_value=1, default=0),
    "play_order": IntegerField(default=0),
    # Anthias 500s when this is missing (docs/legacy-api.md Q8); it defaults to "check the URL".
    "skip_asset_check": IntegerField(min_value=0, max_value=1, default=0),
    "ext": ExtensionField(),
}

UPDATE = {
    "name": CharField(required=True),
    "start_date": DateTimeField(required=True),
    "end_date": DateTimeField(required=True),
    "duration": DurationField(required=True),
    "is_enabled": IntegerField(required=True, min_value=0, max_value=1),
    "is_processing": FLAG,
    "nocache": FLAG,
    "play_order": IntegerField(),
    "skip_asset_check": FLAG,
}


def read_create() -> tuple[dict[str, Any], str | None]:
    """Direct fields; the name loses ``&amp;`` and the uri is escaped as Anthias does."""
    values = validate(CREATE, read_data())
    values["name"] = values["name"].replace("&amp;", "&")
    values["uri"] = escape_uri(values["uri"])
    return values, values.pop("ext", None)


def read_update(_asset: Asset, partial: bool) -> dict[str, Any]:
    """PUT needs the required set; PATCH takes any subset."""
    return validate(UPDATE, read_data(), partial=partial or request.method == "PATCH")


bp = make_blueprint("v1_2", "/api/v1.2")

register_asset_routes(bp, AssetRules(
    suffix="V1_2", formatter=v1_asset, read_create=read_create, read_update=read_update,
    unique_name=True, renumber=True, patch=True,
))
