"""Routes outside the versioned API: splash page, static and backup files, API schema and docs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Response,
    redirect,
    render_template,
    request,
    send_from_directory,
)
from werkzeug.exceptions import BadRequest, NotFound
from werkzeug.security import safe_join

from anthias_edge.auth.guard import basic_auth_challenge
from anthias_edge.runtime import current_runtime
from anthias_edge.services.device import info as device_info
from anthias_edge.settings import printable_text

bp = Blueprint("unversioned", __name__)

WEB_STATIC = Path(__file__).resolve().parent.parent.parent / "web_ui" / "static"
# The hotspot page's fields (docs/legacy-api.md §7.2 setup_wifi) and their longest sensible value:
# an SSID is at most 32 bytes and a WPA passphrase 63 characters; an address is a host name.
HOTSPOT_LIMITS = {"network": 32, "ssid_pswd": 63, "address": 253}


@bp.route("/splash-page", methods=["GET"])
def splash_page() -> Any:
    """The device's addresses, shown on screen at start; open to all
    (docs/legacy-api.md §3.17, Q13 fixed)."""
    import os

    settings = current_runtime().settings
    # The URL must carry the port the server listens on, or the address shown opens nothing.
    addresses = device_info.dashboard_addresses(
        os.environ, settings["listen"], served_port=int(request.environ.get("SERVER_PORT") or 0))
    return render_template("splash_page.html", addresses=addresses.urls,
                           loopback_only=addresses.loopback_only, listen=addresses.listen,
                           behind_proxy=bool(settings["trusted_proxies"]),
                           player_name=printable_text(settings["player_name"]),
                           device_code=_pending_device_code())


def _pending_device_code() -> dict[str, Any] | None:
    """The code this screen shows for an admin to claim (started on the Cloud page), if any.

    Only a code the dashboard started is known here; none is started for the splash page.
    """
    from flask import current_app

    link = current_app.extensions.get("device_cloud_link")
    return link.pending_code() if link is not None else None


@bp.route("/hotspot", methods=["GET"])
def hotspot_page() -> Any:
    """Wi-Fi set-up instructions the player shows for ``setup_wifi``; open like the splash page.

    Besides the network's name and password (as Anthias shows them), a QR code lets a phone
    join the hotspot without typing the password.
    """
    values = {field: request.args.get(field, "") for field in HOTSPOT_LIMITS}
    for field, limit in HOTSPOT_LIMITS.items():
        if len(values[field]) > limit:
            raise BadRequest(f"{field} is longer than {limit} characters.")
    join_code = None
    if values["network"]:
        join_code = wifi_join_code(values["network"], values["ssid_pswd"])
    return render_template("hotspot_page.html", join_code=join_code, **values)


def wifi_join_code(network: str, password: str) -> str:
    """The ``WIFI:`` text phone cameras read to join a network (ZXing's format)."""
    def escape(text: str) -> str:
        return "".join("\\" + char if char in '\\;,:"' else char for char in text)

    if not password:
        return f"WIFI:T:nopass;S:{escape(network)};;"
    return f"WIFI:T:WPA;S:{escape(network)};P:{escape(password)};;"


def _backup_file(filename: str) -> Any:
    """A backup archive from HOME/screenly/staticfiles, behind the API's auth
    (docs/legacy-api.md §3.16)."""
    challenge = basic_auth_challenge(current_runtime().settings)
    if challenge is not None:
        return challenge
    static_dir = current_runtime().settings.static_dir
    if safe_join(str(static_dir), filename) is None:
        raise NotFound()
    return send_from_directory(static_dir, filename, as_attachment=filename.endswith(".tar.gz"),
                               mimetype="application/x-tgz")


@bp.route("/static/<path:filename>", methods=["GET"])
def static_file(filename: str) -> Any:
    """Web UI files first (open), then backups (authenticated), like Anthias's nginx."""
    path = safe_join(str(WEB_STATIC), filename)
    if path is not None and Path(path).is_file():
        return send_from_directory(WEB_STATIC, filename)
    return _backup_file(filename)


@bp.route("/static_with_mime/<path:filename>", methods=["GET"])
def static_with_mime(filename: str) -> Any:
    """Where the UI downloads backups; ``?mime=`` is ignored as nginx did."""
    return _backup_file(filename)


@bp.route("/api/docs", methods=["GET"])
def docs_without_slash() -> Response:
    """Django's APPEND_SLASH answer (docs/legacy-api.md §1.2)."""
    return redirect("/api/docs/", code=301)
