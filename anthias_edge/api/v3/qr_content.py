"""``/api/v3/qr-content``: the tenant's shared codes of its assets, and their pictures.

A QR content is addressed by its code (``QR`` + 16 hex digits). Its pictures (QR code and,
when it has one, Code 128 barcode) are answered with a strong ETag and cached for a year:
a picture's URL names everything it depends on, as ``v`` (the landing URL's digest) changes
when the address the code leads to changes.
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Response, request

from anthias_edge.api.v3.fields import Bool, DateTime, Int, Spec, Str
from anthias_edge.api.v3.routing import Call, route
from anthias_edge.auth.hosts import base_domain
from anthias_edge.errors import QRContentNotFound
from anthias_edge.models import QRContent, Tenant
from anthias_edge.services import qr_images
from anthias_edge.services.qr_content import (
    MAX_DESCRIPTION,
    MAX_LIMIT,
    MAX_TITLE,
    QRContentService,
)
from anthias_edge.services.qr_links import cloud_share_base, device_share_base, landing_url
from anthias_edge.timeutil import format_datetime

PREFIX = "/api/v3/qr-content"
IMMUTABLE = "public, max-age=31536000, immutable"
MAX_BARCODE_SIZE = 10
TEXT_OR_NULL = {"type": ["string", "null"]}
DATE_OR_NULL = {"type": ["string", "null"], "format": "date-time"}

CREATE: dict[str, Spec] = {
    "asset_id": Str(required=True, min_length=1, max_length=64,
                    description="One of the tenant's assets."),
    "title": Str(max_length=MAX_TITLE, description="Default: the asset's name."),
    "description": Str(max_length=MAX_DESCRIPTION, default=""),
    "expires_at": DateTime(nullable=True, default=None,
                           description="After this the code answers 410; must be future."),
    "include_barcode": Bool(default=False, description="Also make a Code 128 barcode."),
    "device_id": Str(min_length=1, max_length=64, nullable=True, default=None,
                     description="Cloud: a linked device; asset_id is then an asset of its "
                                 "inventory, and the device shows the code."),
}

EDITABLE: dict[str, Spec] = {
    "title": Str(max_length=MAX_TITLE),
    "description": Str(max_length=MAX_DESCRIPTION),
    "expires_at": DateTime(nullable=True, description="null: never expires."),
    "is_active": Bool(description="false: scans answer 410 until it is true again."),
}

LIST_QUERY: dict[str, Spec] = {
    "asset": Str(min_length=1, max_length=64, description="Only this asset's codes."),
    "device": Str(min_length=1, max_length=64, description="Only this device's codes."),
    "active": Bool(),
    "expired": Bool(),
    "q": Str(min_length=1, max_length=200,
             description="Part of the title, description, code or barcode, any case."),
    "limit": Int(minimum=1, maximum=MAX_LIMIT, default=50),
    "cursor": Str(min_length=1, max_length=200, description="next_cursor of the last page."),
}

QR_QUERY: dict[str, Spec] = {
    "size": Int(minimum=qr_images.MIN_SIZE, maximum=qr_images.MAX_SIZE,
                default=qr_images.DEFAULT_SIZE, description="Pixels per module."),
    "border": Int(minimum=qr_images.MIN_BORDER, maximum=qr_images.MAX_BORDER,
                  default=qr_images.DEFAULT_BORDER, description="Quiet zone, in modules."),
    "ec": Str(choices=qr_images.ERROR_CORRECTION, default=qr_images.DEFAULT_EC,
              description="Error correction level."),
    "v": Str(max_length=64, description="Cache key the JSON's URLs carry; not read."),
}

BARCODE_QUERY: dict[str, Spec] = {
    "size": Int(minimum=1, maximum=MAX_BARCODE_SIZE, default=2,
                description="Pixels per bar module."),
    "border": Int(minimum=qr_images.MIN_BORDER, maximum=qr_images.MAX_BORDER,
                  default=qr_images.MAX_BORDER, description="Quiet zone, in modules."),
    "v": Str(max_length=64, description="Cache key; not read."),
}

QR_CONTENT = {"type": "object", "required": [
    "qr_id", "qr_code", "barcode", "asset_id", "device_id", "title", "description",
    "access_count",
    "last_accessed", "expires_at", "is_active", "is_expired", "created_by", "created_at",
    "updated_at", "landing_url", "qr_svg_url", "qr_png_url", "barcode_svg_url",
    "barcode_png_url"], "properties": {
    "qr_id": {"type": "string"}, "qr_code": {"type": "string"}, "barcode": TEXT_OR_NULL,
    "asset_id": {"type": "string"}, "device_id": TEXT_OR_NULL, "title": {"type": "string"},
    "description": {"type": "string"}, "access_count": {"type": "integer"},
    "last_accessed": DATE_OR_NULL, "expires_at": DATE_OR_NULL,
    "is_active": {"type": "boolean"}, "is_expired": {"type": "boolean"},
    "created_by": TEXT_OR_NULL, "created_at": {"type": "string", "format": "date-time"},
    "updated_at": {"type": "string", "format": "date-time"},
    "landing_url": {"type": "string"}, "qr_svg_url": {"type": "string"},
    "qr_png_url": {"type": "string"}, "barcode_svg_url": TEXT_OR_NULL,
    "barcode_png_url": TEXT_OR_NULL}}
PAGE = {"type": "object", "required": ["items", "next_cursor"], "properties": {
    "items": {"type": "array", "items": QR_CONTENT},
    "next_cursor": {"type": ["string", "null"]}}}


def _service(call: Call) -> QRContentService:
    return QRContentService(call.tenant_id, clock=call.runtime.clock, actor=call.actor,
                            ip=call.ip)


def _tell_screen(call: Call) -> None:
    """A device's screen may draw this code (qr_overlay): have the player read again."""
    if not call.runtime.is_cloud:
        call.runtime.tell_player_data_changed()


def share_base(call: Call) -> str:
    """Where this tenant's codes lead: ``qr_links`` decides, given this request."""
    runtime = call.runtime
    fallback = request.host_url.rstrip("/")
    if runtime.is_cloud:
        tenant = Tenant.get_or_none(Tenant.id == call.tenant_id)
        if tenant is None:
            return fallback
        return cloud_share_base(tenant.subdomain, base_domain(),
                                custom_domain=tenant.custom_domain, scheme=request.scheme,
                                fallback=fallback)
    return device_share_base(runtime.settings, fallback=fallback,
                             served_port=int(request.environ.get("SERVER_PORT") or 0))


def _show(call: Call, row: QRContent, base: str) -> dict[str, Any]:
    url = landing_url(row.qr_code, public_url=None, base_url=base)
    version = hashlib.sha256(url.encode()).hexdigest()[:12]
    own = f"{PREFIX}/{row.qr_code}"
    return {
        "qr_id": row.qr_id, "qr_code": row.qr_code, "barcode": row.barcode,
        "asset_id": row.asset_id, "device_id": row.device_id, "title": row.title,
        "description": row.description,
        "access_count": row.access_count,
        "last_accessed": format_datetime(row.last_accessed),
        "expires_at": format_datetime(row.expires_at), "is_active": bool(row.is_active),
        "is_expired": row.is_expired(call.runtime.clock()), "created_by": row.created_by,
        "created_at": format_datetime(row.created_at),
        "updated_at": format_datetime(row.updated_at), "landing_url": url,
        "qr_svg_url": f"{own}/qr.svg?v={version}", "qr_png_url": f"{own}/qr.png?v={version}",
        "barcode_svg_url": f"{own}/barcode.svg" if row.barcode else None,
        "barcode_png_url": f"{own}/barcode.png" if row.barcode else None,
    }


@route("/qr-content", "GET", permission="qr.view", query=LIST_QUERY, returns=PAGE, tag="qr")
def qr_content_list(call: Call) -> Any:
    """List the tenant's QR contents, newest first, filtered, one page at a time."""
    args = call.query
    page = _service(call).page(limit=args["limit"], cursor=args.get("cursor"),
                               asset_id=args.get("asset"), active=args.get("active"),
                               expired=args.get("expired"), q=args.get("q"),
                               device_id=args.get("device"))
    base = share_base(call)
    return {"items": [_show(call, row, base) for row in page.items],
            "next_cursor": page.next_cursor}


@route("/qr-content", "POST", permission="qr.create", body=CREATE, status=201,
       returns=QR_CONTENT, tag="qr")
def qr_content_create(call: Call) -> Any:
    """Make a QR content (and optionally a barcode) for one of the tenant's assets."""
    data = call.data
    row = _service(call).create(data["asset_id"], data.get("title"), data["description"],
                                data["expires_at"], data["include_barcode"],
                                device_id=data["device_id"])
    _tell_screen(call)
    return _show(call, row, share_base(call))


@route("/qr-content/<qr_code>", "GET", permission="qr.view", returns=QR_CONTENT, tag="qr")
def qr_content_detail(call: Call, qr_code: str) -> Any:
    """Show one QR content, with its scan count."""
    return _show(call, _service(call).get(qr_code), share_base(call))


@route("/qr-content/<qr_code>", "PATCH", permission="qr.edit", body=EDITABLE, partial=True,
       returns=QR_CONTENT, tag="qr")
def qr_content_patch(call: Call, qr_code: str) -> Any:
    """Change the title, description, expiry or whether the code is active."""
    row = _service(call).update(qr_code, call.data)
    _tell_screen(call)
    return _show(call, row, share_base(call))


@route("/qr-content/<qr_code>", "DELETE", permission="qr.delete", status=204, tag="qr")
def qr_content_delete(call: Call, qr_code: str) -> Any:
    """Delete a QR content for good (its code then answers 404)."""
    _service(call).delete(qr_code)
    _tell_screen(call)
    return None


def _picture(kind: str, data: str, content_type: str, draw: Any, **options: Any) -> Response:
    tag = qr_images.etag(kind, data, **options)
    if request.if_none_match.contains_weak(tag.strip('"')):
        response = Response(status=304)
    else:
        response = Response(draw(), content_type=content_type)
    response.headers["ETag"] = tag
    response.headers["Cache-Control"] = IMMUTABLE
    return response


def _qr_picture(call: Call, qr_code: str, kind: str) -> Response:
    row = _service(call).get(qr_code)
    url = landing_url(row.qr_code, public_url=None, base_url=share_base(call))
    size, border, ec = call.query["size"], call.query["border"], call.query["ec"]
    draw = qr_images.qr_svg if kind == "svg" else qr_images.qr_png
    return _picture(f"qr.{kind}", url, "image/svg+xml" if kind == "svg" else "image/png",
                    lambda: draw(url, size=size, border=border, error_correction=ec),
                    size=size, border=border, error_correction=ec)


def _barcode_picture(call: Call, qr_code: str, kind: str) -> Response:
    row = _service(call).get(qr_code)
    if not row.barcode:
        raise QRContentNotFound("This QR content has no barcode.")
    size, border = call.query["size"], call.query["border"]
    draw = qr_images.barcode_svg if kind == "svg" else qr_images.barcode_png
    return _picture(f"barcode.{kind}", row.barcode,
                    "image/svg+xml" if kind == "svg" else "image/png",
                    lambda: draw(row.barcode, size=size, border=border),
                    size=size, border=border)


@route("/qr-content/<qr_code>/qr.svg", "GET", permission="qr.view", query=QR_QUERY,
       extra={"content_type": "image/svg+xml"}, tag="qr")
def qr_content_qr_svg(call: Call, qr_code: str) -> Any:
    """The QR code of the landing URL as SVG (cached; ETag)."""
    return _qr_picture(call, qr_code, "svg")


@route("/qr-content/<qr_code>/qr.png", "GET", permission="qr.view", query=QR_QUERY,
       extra={"content_type": "image/png"}, tag="qr")
def qr_content_qr_png(call: Call, qr_code: str) -> Any:
    """The QR code of the landing URL as PNG (cached; ETag)."""
    return _qr_picture(call, qr_code, "png")


@route("/qr-content/<qr_code>/barcode.svg", "GET", permission="qr.view",
       query=BARCODE_QUERY, extra={"content_type": "image/svg+xml"}, tag="qr")
def qr_content_barcode_svg(call: Call, qr_code: str) -> Any:
    """The Code 128 barcode as SVG, the code written under it (cached; ETag)."""
    return _barcode_picture(call, qr_code, "svg")


@route("/qr-content/<qr_code>/barcode.png", "GET", permission="qr.view",
       query=BARCODE_QUERY, extra={"content_type": "image/png"}, tag="qr")
def qr_content_barcode_png(call: Call, qr_code: str) -> Any:
    """The Code 128 barcode as PNG (cached; ETag)."""
    return _barcode_picture(call, qr_code, "png")
