"""Routes outside the versioned API: splash page, static and backup files, API schema and docs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, redirect, render_template, send_from_directory
from werkzeug.exceptions import NotFound
from werkzeug.security import safe_join

from anthias_edge.auth.guard import basic_auth_challenge
from anthias_edge.runtime import Runtime
from anthias_edge.services import device_info

bp = Blueprint("unversioned", __name__)

WEB_STATIC = Path(__file__).resolve().parent.parent.parent / "web_ui" / "static"


def _runtime() -> Runtime:
    return current_app.extensions["anthias"]


@bp.route("/splash-page", methods=["GET"])
def splash_page() -> Any:
    """The device's addresses, shown on screen at start; open to all (3.17, Q13 fixed)."""
    import os

    addresses = device_info.info_v2(os.environ)["ip_addresses"]
    return render_template("splash_page.html", addresses=addresses,
                           player_name=_runtime().settings["player_name"])


def _backup_file(filename: str) -> Any:
    """A backup archive from HOME/screenly/staticfiles, behind the API's auth (3.16)."""
    challenge = basic_auth_challenge(_runtime().settings)
    if challenge is not None:
        return challenge
    static_dir = _runtime().settings.static_dir
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
    """Django's APPEND_SLASH answer (1.2)."""
    return redirect("/api/docs/", code=301)
