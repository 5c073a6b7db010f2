"""The device dashboard: HTML pages, sign-in with a session, and the splash page's QR code.

``init_web(app)`` sets up the session (its key is the ``django_secret_key`` setting) and mounts
``bp``; the pages are plain templates plus vanilla JavaScript modules, with no build step.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Flask

from anthias_edge.runtime import runtime_of

logger = logging.getLogger(__name__)

bp = Blueprint("web", __name__)


def init_web(app: Flask) -> None:
    """Configure sessions and register the dashboard blueprint on ``app``."""
    from anthias_edge.web import pages, session_auth  # noqa: F401  (they add routes to bp)

    runtime = runtime_of(app)
    session_auth.configure_sessions(app, runtime.settings)
    app.register_blueprint(bp)
