"""The dashboard pages (``/``, ``/settings``, ``/system-info``, ``/integrations``, ``/cloud``) and
the QR code.

Pages are protected like Anthias's (docs/legacy-api.md §6.1), but a browser with no credentials is
sent to ``/login`` instead of getting a Basic prompt; a request that does send Basic credentials is
checked as before.
"""

from __future__ import annotations

import logging
import os
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from flask import current_app, redirect, render_template, request
from markupsafe import Markup
from werkzeug.exceptions import NotFound

from anthias_edge.auth.guard import basic_auth_challenge, has_session
from anthias_edge.runtime import current_runtime
from anthias_edge.services.device import info as device_info
from anthias_edge.settings import SETTINGS, auth_enabled, printable_text
from anthias_edge.web import bp

logger = logging.getLogger(__name__)

PAGES = ("/", "/settings", "/system-info", "/integrations", "/cloud")
STYLESHEET = Path(__file__).resolve().parents[2] / "web_ui" / "static" / "css" / "app.css"
HELP = {setting.key: setting.help for setting in SETTINGS}
# device_settings fields whose help lives under another key in the settings table.
HELP["username"] = HELP["user"]
# The form shows labels, not stored values: its help must speak of what the person sees.
HELP.update({
    "auth_backend": "“User name and password” asks for them before this dashboard or the API "
                    "can be used; “None” leaves both open to anyone on the network.",
    "audio_output": "Where sound goes: HDMI (through the screen's cable) or the 3.5 mm jack.",
    "username": "The user name to sign in with when a password is required.",
})
DATE_FORMATS = ("mm/dd/yyyy", "dd/mm/yyyy", "yyyy/mm/dd", "mm-dd-yyyy", "dd-mm-yyyy",
                "yyyy-mm-dd", "mm.dd.yyyy", "dd.mm.yyyy", "yyyy.mm.dd")


@bp.before_request
def _require_sign_in() -> Any:
    """Pages only: no credentials at all means the sign-in form; wrong Basic ones the 401."""
    if request.path not in PAGES:
        return None
    settings = current_runtime().settings
    if not auth_enabled(settings) or has_session(settings):
        return None
    if "Authorization" not in request.headers:
        return redirect("/login?next=" + quote(request.full_path.rstrip("?"), safe="/"))
    return basic_auth_challenge(settings)


def _page(template: str, active: str, **context: Any) -> Any:
    settings = current_runtime().settings
    response = current_app.make_response(render_template(
        template, active=active, player_name=printable_text(settings["player_name"]),
        signed_in=auth_enabled(settings) and has_session(settings),
        # Every page's scripts show dates the way the settings ask, so every page gets them.
        date_format=settings["date_format"], use_24_hour_clock=bool(settings["use_24_hour_clock"]),
        **context))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/", methods=["GET"])
def assets_page() -> Any:
    """The asset manager."""
    settings = current_runtime().settings
    return _page("assets.html", "assets",
                 default_duration=int(settings["default_duration"]),
                 default_streaming_duration=int(settings["default_streaming_duration"]))


@bp.route("/settings", methods=["GET"])
def settings_page() -> Any:
    """The device settings form, with each setting's help text."""
    # "Current password" is asked for only once a password exists: a first one has none.
    return _page("settings.html", "settings", help=HELP, date_formats=DATE_FORMATS,
                 password_set=bool(current_runtime().settings["password"]))


@bp.route("/system-info", methods=["GET"])
def system_page() -> Any:
    """Device facts, power buttons, backup and restore."""
    addresses = device_info.dashboard_addresses(
        os.environ, current_runtime().settings["listen"],
        served_port=int(request.environ.get("SERVER_PORT") or 0))
    return _page("system_info.html", "system", addresses=addresses,
                 behind_proxy=bool(current_runtime().settings["trusted_proxies"]))


@bp.route("/integrations", methods=["GET"])
def integrations_page() -> Any:
    """What ``/api/v2/integrations`` reports (balena), in words."""
    return _page("integrations.html", "integrations")


@bp.route("/cloud", methods=["GET"])
def cloud_page() -> Any:
    """Link this device to a cloud tenant, see how its sync goes, unlink it (devices only)."""
    if current_runtime().is_cloud:
        raise NotFound()
    settings = current_runtime().settings
    return _page("cloud.html", "cloud", cloud_url=str(settings["cloud_url"] or ""))


@bp.app_template_global("inline_stylesheet")
@cache
def inline_stylesheet() -> Markup:
    """The dashboard's stylesheet, inlined: one round trip fewer before the first paint."""
    return Markup(STYLESHEET.read_text(encoding="utf-8"))


@bp.app_template_global("qr_code_svg")
def qr_code_svg(url: str) -> Markup:
    """An inline SVG QR code that opens ``url`` (used by the splash page)."""
    import qrcode  # only the splash page needs it: kept off the server's start-up
    import qrcode.image.svg

    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage)
    svg = image.to_string(encoding="unicode")
    # Drop the XML declaration: the SVG sits inside an HTML page.
    if svg.startswith("<?xml"):
        svg = svg.split("?>", 1)[1]
    return Markup(svg)
