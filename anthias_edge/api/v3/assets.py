"""``/api/v3/assets``: the tenant's asset library with filters, cursor pages and sharing.

Unlike v1.2/v2, a v3 write never renumbers the playlist and never renames a
duplicate name; every create, update and delete is written to the audit log.
"""

from __future__ import annotations

from typing import Any

from anthias_edge.api.asset_extensions import CONVERTERS, MAX_HEADERS, MAX_REFRESH_S
from anthias_edge.api.asset_extensions import read_extensions as check_extensions
from anthias_edge.api.v3.asset_store import asset_schema, v3_asset
from anthias_edge.api.v3.fields import (
    Bool,
    Converted,
    DateTime,
    Int,
    Obj,
    Spec,
    Str,
    StrList,
)
from anthias_edge.api.v3.routing import Call, route
from anthias_edge.models import Asset
from anthias_edge.services import qr_overlay, uploads
from anthias_edge.services.asset_queries import list_page
from anthias_edge.services.assets import AssetService

MIMETYPES = ("image", "video", "webpage", "streaming")
MAX_DURATION = 366 * 24 * 3600
_CLOCK = {"type": ["string", "null"], "pattern": r"^\d{2}:\d{2}(:\d{2})?$"}

EXTENSIONS: dict[str, Spec] = {
    "play_days": Converted(converter=CONVERTERS["play_days"], json_schema={
        "type": "array", "minItems": 1, "maxItems": 7, "uniqueItems": True,
        "items": {"type": "integer", "minimum": 1, "maximum": 7}},
        description="ISO weekdays, 1 (Mon) to 7 (Sun)."),
    "play_time_from": Converted(converter=CONVERTERS["play_time_from"], nullable=True,
                                json_schema=_CLOCK, description="Daily start, HH:MM:SS."),
    "play_time_to": Converted(converter=CONVERTERS["play_time_to"], nullable=True,
                              json_schema=_CLOCK, description="Daily end; may pass midnight."),
    "refresh_interval_s": Int(minimum=0, maximum=MAX_REFRESH_S),
    "custom_headers": Converted(converter=CONVERTERS["custom_headers"], json_schema={
        "type": "object", "maxProperties": MAX_HEADERS,
        "additionalProperties": {"type": "string"}}),
    "qr_overlay": Converted(converter=qr_overlay.normalize, nullable=True,
                            json_schema=qr_overlay.SCHEMA),
}

EDITABLE: dict[str, Spec] = {
    "name": Str(required=True, min_length=1, max_length=255),
    "start_date": DateTime(required=True, nullable=True),
    "end_date": DateTime(required=True, nullable=True),
    "duration": Int(required=True, minimum=0, maximum=MAX_DURATION,
                    description="Seconds; ignored for videos, which are measured."),
    "is_enabled": Bool(required=True),
    "nocache": Bool(),
    "play_order": Int(minimum=0, maximum=1_000_000),
    "skip_asset_check": Bool(),
    "skip_ssl_verify": Bool(),
    "is_shared": Bool(description="true gives the asset a share_code; false removes it."),
    "tags": StrList(max_items=20, max_length=50),
    "metadata": Obj(max_properties=50),
    **EXTENSIONS,
}

CREATE: dict[str, Spec] = {
    "name": Str(required=True, min_length=1, max_length=255),
    "uri": Str(required=True, min_length=1, max_length=2048,
               description="A URL, or the upload:<id> reference POST /uploads answered."),
    "mimetype": Str(required=True, choices=MIMETYPES),
    "start_date": DateTime(nullable=True, default=None),
    "end_date": DateTime(nullable=True, default=None),
    "duration": Int(minimum=0, maximum=MAX_DURATION,
                    description="Seconds; default the device's default; 0 for videos."),
    "is_enabled": Bool(default=True),
    "nocache": Bool(default=False),
    "play_order": Int(minimum=0, maximum=1_000_000, default=0),
    "skip_asset_check": Bool(default=False),
    "skip_ssl_verify": Bool(default=False),
    "is_shared": Bool(default=False),
    "tags": StrList(max_items=20, max_length=50, default=[]),
    "metadata": Obj(max_properties=50, default={}),
    **EXTENSIONS,
}

LIST_QUERY: dict[str, Spec] = {
    "enabled": Bool(),
    "tag": Str(min_length=1, max_length=50),
    "mimetype": Str(min_length=1, max_length=50),
    "q": Str(min_length=1, max_length=200, description="Part of the name, any case."),
    "limit": Int(minimum=1, maximum=200, default=50),
    "cursor": Str(min_length=1, max_length=100, description="next_cursor of the last page."),
}

PAGE = {"type": "object", "required": ["items", "next_cursor"], "properties": {
    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Asset"}},
    "next_cursor": {"type": ["string", "null"]}}}
ASSET = {"$ref": "#/components/schemas/Asset"}
COMPONENTS = {"Asset": asset_schema}


def _show(call: Call, asset: Asset) -> dict[str, Any]:
    rt = call.runtime
    return v3_asset(asset, rt.clock(), rt.zone)


def _service(call: Call) -> AssetService:
    """The tenant's assets, every write audited in its own transaction as the caller."""
    service = call.runtime.assets(call.tenant_id)
    service.actor, service.ip = call.actor, call.ip
    return service


def _check_window(values: dict[str, Any], asset: Asset | None) -> None:
    current = None if asset is None else {"play_time_from": asset.play_time_from,
                                          "play_time_to": asset.play_time_to}
    check_extensions({k: values[k] for k in ("play_time_from", "play_time_to")
                      if k in values}, current)


@route("/assets", "GET", permission="assets.view", query=LIST_QUERY, returns=PAGE,
       tag="assets")
def asset_list(call: Call) -> Any:
    """List the tenant's assets in insertion order, filtered, one page at a time."""
    args = call.query
    page = list_page(call.tenant_id, limit=args["limit"], cursor=args.get("cursor"),
                     enabled=args.get("enabled"), tag=args.get("tag"),
                     mimetype=args.get("mimetype"), q=args.get("q"))
    now, zone = call.runtime.clock(), call.runtime.zone
    return {"items": [v3_asset(asset, now, zone) for asset in page.items],
            "next_cursor": page.next_cursor}


@route("/assets", "POST", permission="assets.create", body=CREATE, status=201, returns=ASSET,
       errors=(400, 409, 422), tag="assets")
def asset_create(call: Call) -> Any:
    """Create an asset (no renumbering, no renaming); counts against the asset limit."""
    values = dict(call.data)
    _check_window(values, None)
    if uploads.is_upload_reference(values["uri"]):
        # Only ever the caller's own folder: another tenant's upload id names nothing here.
        values["uri"] = str(uploads.uploaded_file(values["uri"],
                                                  call.runtime.media_dir(call.tenant_id)))
    settings = call.runtime.settings
    if "duration" not in values:
        values["duration"] = (0 if values["mimetype"] == "video" else
                              int(settings["default_streaming_duration"])
                              if values["mimetype"] == "streaming"
                              else int(settings["default_duration"]))
    shared = values.pop("is_shared")
    values["created_by"] = call.principal.user_id
    asset = _service(call).create(values, unique_name=False, renumber=False, shared=shared)
    return _show(call, asset)


@route("/assets/<asset_id>", "GET", permission="assets.view", returns=ASSET, tag="assets")
def asset_detail(call: Call, asset_id: str) -> Any:
    """Show one asset."""
    return _show(call, call.runtime.assets(call.tenant_id).get(asset_id))


def _update(call: Call, asset_id: str) -> Any:
    service = _service(call)
    asset = service.get(asset_id)  # the one read: the update writes to it and returns it
    values = dict(call.data)
    _check_window(values, asset)
    shared = values.pop("is_shared", None)
    return _show(call, service.update(asset_id, values, renumber=False, current=asset,
                                      shared=shared))


@route("/assets/<asset_id>", "PUT", permission="assets.edit", body=EDITABLE, returns=ASSET,
       errors=(400,), tag="assets")
def asset_replace(call: Call, asset_id: str) -> Any:
    """Replace an asset's editable fields (uri and mimetype never change)."""
    return _update(call, asset_id)


@route("/assets/<asset_id>", "PATCH", permission="assets.edit", body=EDITABLE, partial=True,
       returns=ASSET, errors=(400,), tag="assets")
def asset_patch(call: Call, asset_id: str) -> Any:
    """Change some of an asset's fields."""
    return _update(call, asset_id)


@route("/assets/<asset_id>", "DELETE", permission="assets.delete", status=204, tag="assets")
def asset_delete(call: Call, asset_id: str) -> Any:
    """Delete an asset (and its file when it lives in the asset folder)."""
    _service(call).delete(asset_id)
    return None
