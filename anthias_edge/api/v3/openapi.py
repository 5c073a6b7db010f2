"""``GET /api/v3/openapi.json``: an OpenAPI 3.1 document generated from the v3 routes.

Nothing here lists paths: the generator walks ``app.url_map`` for ``v3.`` endpoints
and reads the ``Operation`` that ``routing.route`` attached to each view, so a
new route is documented the moment it is registered.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, current_app

from anthias_edge import __version__
from anthias_edge.api.v3 import assets
from anthias_edge.api.v3.fields import object_schema
from anthias_edge.api.v3.routing import ATTRIBUTE, Call, Operation, json_response, route

OPENAPI_VERSION = "3.1.0"
ENDPOINT_PREFIX = "v3."
# The sync hub's blueprint (cloud only, cloud_sync/hub) lives under /api/v3/sync.
HUB_PREFIX = "sync_hub."
DEVICE_SIGNATURE = {"type": "apiKey", "in": "header", "name": "Authorization",
                    "description": "`Device <EdDSA JWT>`: see docs/sync-protocol.md."}
CACHE_KEY = "anthias_edge.openapi_v3"
IGNORED_METHODS = {"HEAD", "OPTIONS"}
ERROR = {"type": "object", "required": ["error"], "properties": {"error": {
    "type": "object", "required": ["code", "message", "details"],
    "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                   "details": {}}}}}
ERROR_TEXT = {400: "Invalid input.", 401: "Missing, invalid or expired credentials.",
              403: "A permission is missing, the tenant is inactive, or the request names "
                   "another tenant (tenant_mismatch).",
              404: "Not found in the caller's tenant.", 405: "Method not allowed.",
              409: "Conflicts with existing data or a plan limit.",
              415: "The body is not JSON.", 422: "The asset could not be checked or read.",
              429: "Too many failed logins; see Retry-After."}


def openapi_path(rule: str) -> tuple[str, list[tuple[str, str]]]:
    """``/api/v3/assets/<asset_id>`` → ``/api/v3/assets/{asset_id}`` and its parameters."""
    params = re.findall(r"<(?:([^:<>]+):)?([^<>]+)>", rule)
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule), [(n, c) for c, n in params]


def _error(status: int) -> dict[str, Any]:
    return {"description": ERROR_TEXT.get(status, "Error."),
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _operation(view: Any, method: str, path: str, params: list[tuple[str, str]],
               schemas: dict[str, Any]) -> dict[str, Any]:
    op: Operation = getattr(view, ATTRIBUTE)
    doc = (view.__doc__ or "").strip()
    summary, _, description = doc.partition("\n")
    result: dict[str, Any] = {"operationId": view.__name__, "summary": summary.strip(),
                              "tags": [op.tag or "v3"]}
    if op.permission:
        description = f"Needs the `{op.permission}` permission. {description.strip()}"
    if description.strip():
        result["description"] = description.strip()
    parameters = [{"name": name, "in": "path", "required": True,
                   "schema": {"type": "string", "minLength": 1,
                              **({"pattern": "^[^/]+$"} if conv != "path" else {})}}
                  for name, conv in params]
    parameters += [{"name": name, "in": "query", "required": False, "schema": spec.schema()}
                   for name, spec in (op.query or {}).items()]
    if parameters:
        result["parameters"] = parameters
    if op.extra.get("request_schema") is not None:  # the hub's bodies: JSON Schemas
        result["requestBody"] = {"required": True, "content": {"application/json": {
            "schema": op.extra["request_schema"]}}}
    elif op.extra.get("media") and method == "PUT":
        result["requestBody"] = {"required": True, "content": {"application/octet-stream": {
            "schema": {"type": "string", "format": "binary"}}}}
    if op.body is not None:
        result["requestBody"] = {"required": not op.partial, "content": {"application/json": {
            "schema": object_schema(op.body, partial=op.partial)}}}
    responses: dict[str, Any] = {}
    if op.status == 204:
        responses["204"] = {"description": "Done; no body."}
    elif op.extra.get("legacy"):
        responses["2XX"] = {"description": "The v2 endpoint's answer."}
    elif op.extra.get("content_type"):  # a picture (QR codes): cached, conditional GET
        responses[str(op.status)] = {"description": "Success.", "content": {
            op.extra["content_type"]: {"schema": {"type": "string"}}}}
        responses["304"] = {"description": "Not modified (If-None-Match named its ETag)."}
    else:
        responses[str(op.status)] = {"description": "Success.", "content": {
            "application/json": {"schema": op.returns if op.returns is not None else {}}}}
        for content_type in op.extra.get("also_content", ()):  # e.g. a report's CSV
            responses[str(op.status)]["content"][content_type] = {"schema": {"type": "string"}}
    statuses = set(op.errors) | {405}
    if op.body is not None or op.query:
        statuses |= {400}
    if op.body is not None:
        statuses |= {415}
    if op.extra.get("conditional"):
        responses["304"] = {"description": "Not modified (If-None-Match named its ETag)."}
    if op.extra.get("device_signed"):
        statuses |= {401}
        result["security"] = [{"deviceSignature": []}]
    elif not op.public:
        statuses |= {401, 403, 404}
        result["security"] = [{"bearerAuth": []}]
    else:
        result["security"] = []
    for status in sorted(statuses):
        responses[str(status)] = _error(status)
    result["responses"] = responses
    return result


def build_document(app: Flask) -> dict[str, Any]:
    """The whole document, from the app's ``v3.`` routes."""
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {"Error": ERROR}
    for name, build in assets.COMPONENTS.items():
        schemas[name] = build()
    security_schemes: dict[str, Any] = {"bearerAuth": {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT or ae_ API token"}}
    if HUB_PREFIX.rstrip(".") in app.blueprints:
        from cloud_sync.hub.schemas import schemas as hub_schemas

        schemas.update(hub_schemas())
        security_schemes["deviceSignature"] = DEVICE_SIGNATURE
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.endpoint.startswith((ENDPOINT_PREFIX, HUB_PREFIX)):
            continue
        view = app.view_functions[rule.endpoint]
        if getattr(view, ATTRIBUTE, None) is None:
            raise RuntimeError(f"v3 view {rule.endpoint} was not registered through route()")
        path, params = openapi_path(rule.rule)
        item = paths.setdefault(path, {})
        for method in sorted((rule.methods or set()) - IGNORED_METHODS):
            item[method.lower()] = _operation(view, method, path, params, schemas)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": "Anthias Edge API", "version": f"3 ({__version__})",
                 "description": "Multi-tenant API v3. Log in at /api/v3/auth/token and send "
                                "`Authorization: Bearer <token>`; API tokens (ae_...) work "
                                "the same way."},
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": security_schemes},
        "security": [{"bearerAuth": []}],
    }


@route("/openapi.json", "GET", public=True, returns={"type": "object"}, tag="meta")
def openapi_document(_call: Call) -> Any:
    """This OpenAPI 3.1 document."""
    app = current_app._get_current_object()
    document = app.extensions.get(CACHE_KEY)
    if document is None:
        document = app.extensions[CACHE_KEY] = build_document(app)
    return json_response(document)
