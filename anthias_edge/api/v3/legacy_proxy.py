"""``/api/v3/legacy/<path>``: the v2 endpoints with v3 credentials, scoped to the caller's tenant.

The v2 route is found in the app's own URL map and its view is called with the
caller's tenant on ``flask.g`` (``api/legacy/blueprint.py: legacy_tenant_id``). Each
v2 endpoint needs one permission; endpoints that act on the host itself (power,
backups, settings, the player) exist only on a device.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Response, current_app, g, request
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

from anthias_edge.api.v3.routing import Call, route
from anthias_edge.errors import LegacyRouteNotFound
from anthias_edge.errors import MethodNotAllowed as MethodNotAllowedError
from anthias_edge.services import audit

logger = logging.getLogger(__name__)

LEGACY_PREFIX = "/api/v2/"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

# v2 endpoint -> method -> permission.
TENANT_ENDPOINTS: dict[str, dict[str, str]] = {
    "v2.asset_list": {"GET": "assets.view"},
    "v2.asset_create": {"POST": "assets.create"},
    "v2.asset_detail": {"GET": "assets.view"},
    "v2.asset_update": {"PUT": "assets.edit", "PATCH": "assets.edit"},
    "v2.asset_delete": {"DELETE": "assets.delete"},
    "v2.asset_content": {"GET": "assets.view"},
    "v2.playlist_order": {"POST": "assets.edit"},
}
DEVICE_ENDPOINTS: dict[str, dict[str, str]] = {
    "v2.file_asset": {"POST": "assets.create"},
    "v2.info": {"GET": "devices.view"},
    "v2.integrations": {"GET": "devices.view"},
    "v2.play_log": {"GET": "devices.view"},
    "v2.control": {"GET": "devices.manage"},
    "v2.device_settings": {"GET": "devices.manage"},
    "v2.update_device_settings": {"PATCH": "devices.manage"},
    "v2.backup": {"POST": "devices.manage"},
    "v2.recover": {"POST": "devices.manage"},
    "v2.reboot": {"POST": "devices.manage"},
    "v2.shutdown": {"POST": "devices.manage"},
}
AUDITED = {"v2.asset_create": "asset.create", "v2.asset_update": "asset.update",
           "v2.asset_delete": "asset.delete", "v2.playlist_order": "asset.order",
           "v2.update_device_settings": "device.settings", "v2.recover": "device.recover",
           "v2.reboot": "device.reboot", "v2.shutdown": "device.shutdown"}


def _permissions_for(endpoint: str, cloud: bool) -> dict[str, str] | None:
    if endpoint in TENANT_ENDPOINTS:
        return TENANT_ENDPOINTS[endpoint]
    if not cloud:
        return DEVICE_ENDPOINTS.get(endpoint)
    return None


def _match(rest: str) -> tuple[str, dict[str, Any]]:
    adapter = current_app.url_map.bind_to_environ(request.environ)
    try:
        endpoint, args = adapter.match(LEGACY_PREFIX + rest, method=request.method)
    except (NotFound, RequestRedirect) as exc:
        raise LegacyRouteNotFound() from exc
    except MethodNotAllowed as exc:
        raise MethodNotAllowedError(request.method) from exc
    return endpoint, args


def _object_id(args: dict[str, Any], response: Response) -> str:
    if "asset_id" in args:
        return str(args["asset_id"])
    if response.mimetype == "application/json":
        try:
            body = json.loads(response.get_data())
        except ValueError:
            return ""
        if isinstance(body, dict):
            return str(body.get("asset_id", ""))
    return ""


def dispatch(call: Call, rest: str) -> Response:
    """Run the v2 view for ``rest`` as the caller's tenant."""
    endpoint, args = _match(rest)
    permissions = _permissions_for(endpoint, call.runtime.is_cloud)
    if permissions is None:
        raise LegacyRouteNotFound()
    needed = permissions.get(request.method)
    if needed is None:
        raise MethodNotAllowedError(request.method)
    call.principal.require(needed)
    # A file of the host (or of another tenant) is refused by AssetService.create itself,
    # which takes a local path only from the tenant's own folder; so is the asset limit.
    g.user_id = call.principal.user_id  # a v2 create records its creator (created_by)
    response = current_app.make_response(current_app.view_functions[endpoint](**args))
    if endpoint in AUDITED and response.status_code < 400:
        audit.record(call.tenant_id, call.actor, AUDITED[endpoint], "asset",
                     _object_id(args, response), f"via legacy {request.method} /{rest}",
                     call.ip, clock=call.runtime.clock)
    return response


def _register(method: str) -> None:
    def view(call: Call, rest: str) -> Any:
        return dispatch(call, rest)

    view.__name__ = f"legacy_{method.lower()}"
    view.__doc__ = (f"{method} a v2 endpoint as the caller's tenant; the v2 body and answer, "
                    "v3 credentials and errors.")
    route("/legacy/<path:rest>", method, errors=(400, 404, 405, 409), tag="legacy",
          returns={}, extra={"legacy": True})(view)


for _method in METHODS:
    _register(_method)
