"""``/settings/sharing``: the settings page reads and writes ``public_url`` (issue 13).

``public_url`` is where a device's QR codes lead. It is a device setting with no home in
v1-v2 (``/api/v2/device_settings`` keeps Anthias's fields exactly), and not a tenant's, so
it is not a v3 resource either: like the pages, it belongs to the device's own dashboard,
under the same check as v2 (a session with its CSRF token on writes, or Basic, or nothing on
a device without a password), and only for requests our pages marked (the CSRF header,
which a cross-site form cannot send).
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from anthias_edge.auth.guard import basic_auth_challenge, from_web_ui
from anthias_edge.errors import CsrfTokenInvalid, PathNotFound, ValidationError
from anthias_edge.runtime import current_runtime
from anthias_edge.services.device.settings_save import discard_changes
from anthias_edge.services.qr_links import LANDING_PATH, device_share_base
from anthias_edge.settings import Settings
from anthias_edge.web import bp

PATH = "/settings/sharing"


def _refusal() -> Response | None:
    runtime = current_runtime()
    if runtime.is_cloud:
        raise PathNotFound()  # a cloud tenant's codes lead to its own address
    if not from_web_ui():
        raise CsrfTokenInvalid()
    return basic_auth_challenge(runtime.settings)


def _shown(settings: Settings) -> dict[str, Any]:
    # Where the screen's codes lead, as the player finds it (player.main.code_link): empty
    # when the server listens on loopback only, and the screen then draws no code.
    base = device_share_base(settings)
    return {"public_url": str(settings["public_url"]),
            "landing_base": base + LANDING_PATH if base else ""}


@bp.route(PATH, methods=["GET"])
def sharing_settings() -> Any:
    """The device's public_url and where its codes lead now."""
    if (refusal := _refusal()) is not None:
        return refusal
    settings = current_runtime().settings
    settings.reload()
    return jsonify(_shown(settings))


@bp.route(PATH, methods=["PATCH"])
def sharing_settings_patch() -> Any:
    """Set public_url (empty: the LAN address); the player rereads it and redraws its codes."""
    if (refusal := _refusal()) is not None:
        return refusal
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("public_url"), str) \
            or set(body) != {"public_url"}:
        raise ValidationError({"public_url": ["Send {\"public_url\": \"<address or empty>\"}."]})
    runtime = current_runtime()
    settings = runtime.settings
    try:
        settings.reload()
        settings.update({"public_url": body["public_url"].strip()})  # InvalidSetting: 400
        settings.save()
    except BaseException:
        discard_changes(settings)
        raise
    runtime.messenger.send_to_viewer("reload")  # the player reads its settings on reload
    return jsonify(_shown(settings))
