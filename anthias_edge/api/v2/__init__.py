"""API v2: booleans, integer durations, the 2025 device endpoints and extensions
(docs/legacy-api.md §3.4, §3.18, §13)."""

from __future__ import annotations

import os
from typing import Any

from anthias_edge.api.asset_extensions import BOOLEAN_EXTENSIONS, CONVERTERS, read_extensions
from anthias_edge.api.asset_format import v2_asset
from anthias_edge.api.legacy.asset_routes import AssetRules, register_asset_routes
from anthias_edge.api.legacy.blueprint import named
from anthias_edge.api.legacy.device_routes import register_device_routes
from anthias_edge.api.legacy.fields import (
    MAX_DURATION,
    BooleanField,
    CharField,
    DateTimeField,
    ExtensionField,
    IntegerField,
    validate,
)
from anthias_edge.api.legacy.http import render
from anthias_edge.api.request_body import body_kind, read_data
from anthias_edge.api.schema import Body, openapi
from anthias_edge.api.v2.blueprint import bp
from anthias_edge.models import Asset
from anthias_edge.services.device import info as device_info
from anthias_edge.services.uri_rules import escape_uri

CREATE = {
    "name": CharField(required=True),
    "uri": CharField(required=True),
    "start_date": DateTimeField(required=True),
    "end_date": DateTimeField(required=True),
    "duration": IntegerField(required=True, min_value=0, max_value=MAX_DURATION),
    "mimetype": CharField(required=True),
    "is_enabled": BooleanField(required=True),
    "nocache": BooleanField(default=False),
    "play_order": IntegerField(default=0),
    # Anthias 500s when this is missing from JSON (docs/legacy-api.md Q8); it defaults to
    # "check the URL".
    "skip_asset_check": BooleanField(default=False),
    "skip_ssl_verify": BooleanField(default=False),
    "ext": ExtensionField(),
}

UPDATE = {
    "name": CharField(required=True),
    "start_date": DateTimeField(required=True),
    "end_date": DateTimeField(required=True),
    "duration": IntegerField(required=True, min_value=0, max_value=MAX_DURATION),
    "is_enabled": BooleanField(required=True),
    "is_processing": BooleanField(),
    "nocache": BooleanField(),
    "play_order": IntegerField(),
    "skip_asset_check": BooleanField(),
    "skip_ssl_verify": BooleanField(),
}


def _is_form() -> bool:
    # A request with no body at all reads as JSON: every required field is reported
    # (docs/legacy-api.md §3.4).
    return body_kind() == "form"


def read_create() -> tuple[dict[str, Any], str | None]:
    """Direct fields with booleans; a form's omitted boolean counts as false
    (docs/legacy-api.md §3.4)."""
    data = read_data()
    values = validate(CREATE, data, form_booleans_default_false=_is_form())
    values.update(read_extensions(data, None))
    values["name"] = values["name"].replace("&amp;", "&")
    values["uri"] = escape_uri(values["uri"])
    return values, values.pop("ext", None)


def read_update(asset: Asset, partial: bool) -> dict[str, Any]:
    """PUT needs the required set; PATCH any subset; the window is checked as a whole."""
    data = read_data()
    schema = UPDATE
    if _is_form() and not partial:
        schema = {k: v for k, v in UPDATE.items() if k not in BOOLEAN_EXTENSIONS}
    values = validate(schema, data, partial=partial, form_booleans_default_false=_is_form())
    current = {"play_time_from": asset.play_time_from, "play_time_to": asset.play_time_to}
    values.update(read_extensions(data, current))
    return values


register_asset_routes(bp, AssetRules(
    suffix="V2", formatter=v2_asset, read_create=read_create, read_update=read_update,
    unique_name=True, renumber=True, patch=True,
    create_body=Body(CREATE, CONVERTERS), update_body=Body(UPDATE, CONVERTERS),
))
register_device_routes(bp, "V2")


@bp.route("/info")
@named("InfoViewV2")
@openapi(returns={"type": "object"})
def info() -> Any:
    """Device facts in words and units (docs/legacy-api.md §3.18)."""
    return render(device_info.info_v2(os.environ))


@bp.route("/integrations")
@named("IntegrationsViewV2")
@openapi(returns={"type": "object"})
def integrations() -> Any:
    """balena details, all null off balena (docs/legacy-api.md §3.18)."""
    return render(device_info.integrations(os.environ))


# Imported last, so their routes follow the ones above in the URL map and the OpenAPI document.
from anthias_edge.api.v2 import device_settings, play_log  # noqa: E402,F401
