"""``/api/v3/device/cloud``: the device's link to a cloud tenant, for its dashboard's Cloud page.

Device mode only (the cloud answers 404). These calls act on the device itself, not on a
tenant's data, so they live with the dashboard (not on the v3 blueprint, its tokens or its
OpenAPI document) and take the device's own check, exactly the one the dashboard and v2 pass
(``auth/guard.basic_auth_challenge``: the signed-in session, with its CSRF token on writes,
or Basic, or nothing on a device without a password). The URL keeps the v3 error body. The check
runs before the body is read, so a caller without credentials learns nothing from it.
Cross-site writes are refused before any view by ``api/origin_check.py``.

- ``GET``: linked or not, tenant and device name, cloud URL, last successful sync, pending
  outbox entries, last error in plain words, and the code this screen shows, if any.
- ``POST /link``: ``{cloud_url, code, name?}`` links with a pairing code from the cloud;
  ``{cloud_url, mode: "device_code", name?}`` asks the cloud for a code to show on this
  screen (an admin claims it; ``GET`` says when).
- ``DELETE /link``: unlink (the cloud is told when it answers); also drops a pending code.
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, jsonify

from anthias_edge.api.v3.fields import Str, validate
from anthias_edge.api.v3.routing import read_json
from anthias_edge.auth.guard import basic_auth_challenge
from anthias_edge.errors import CsrfTokenInvalid, PathNotFound, ValidationError
from anthias_edge.runtime import Runtime, current_runtime
from anthias_edge.services.device.cloud_link import CloudLink
from anthias_edge.web import bp

PATH = "/api/v3/device/cloud"
EXTENSION = "device_cloud_link"
LINK = {
    "cloud_url": Str(required=True, max_length=500),
    "code": Str(max_length=40),
    "name": Str(max_length=100),
    "mode": Str(choices=("code", "device_code")),
}


def cloud_link_of(runtime: Runtime) -> CloudLink:
    """The app's one CloudLink (it holds the pending device code between requests)."""
    link = current_app.extensions.get(EXTENSION)
    if link is None:
        link = current_app.extensions.setdefault(
            EXTENSION, CloudLink(runtime.settings, runtime.clock))
    return link


def _refusal() -> Response | None:
    runtime = current_runtime()
    if runtime.is_cloud:
        raise PathNotFound()
    refusal = basic_auth_challenge(runtime.settings)
    if refusal is not None and refusal.status_code == 403:
        raise CsrfTokenInvalid()
    return refusal  # 401/429/503 exactly as the dashboard and v2 answer them


@bp.route(PATH, methods=["GET"])
def device_cloud_status() -> Any:
    """This device's link to the cloud."""
    if (refusal := _refusal()) is not None:
        return refusal
    return jsonify(cloud_link_of(current_runtime()).status())


@bp.route(PATH + "/link", methods=["POST"])
def device_cloud_link() -> Any:
    """Link with a pairing code, or start a code shown on this screen (``mode: device_code``)."""
    if (refusal := _refusal()) is not None:
        return refusal
    body = validate(LINK, read_json())
    link = cloud_link_of(current_runtime())
    if body.get("mode") == "device_code":
        return jsonify(link.start_device_code(body["cloud_url"], body.get("name")))
    if not body.get("code"):
        raise ValidationError({"code": ["Enter the pairing code from the cloud console."]})
    return jsonify(link.link_with_code(body["cloud_url"], body["code"], body.get("name")))


@bp.route(PATH + "/link", methods=["DELETE"])
def device_cloud_unlink() -> Any:
    """Unlink this device (and stop showing a pending code)."""
    if (refusal := _refusal()) is not None:
        return refusal
    return jsonify(cloud_link_of(current_runtime()).unlink())


@bp.route(PATH + "/code.svg", methods=["GET"])
def device_cloud_code_qr() -> Any:
    """A QR code of the pending code's claim address (404 when no code is pending)."""
    if (refusal := _refusal()) is not None:
        return refusal
    pending = cloud_link_of(current_runtime()).pending_code()
    if pending is None:
        raise PathNotFound("No code is waiting to be claimed.")
    from anthias_edge.web.pages import qr_code_svg

    response = Response(str(qr_code_svg(pending["claim_url"])), content_type="image/svg+xml")
    response.headers["Cache-Control"] = "no-store"
    return response
