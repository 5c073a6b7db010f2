"""The device dashboard: HTML pages, sign-in with a session, and the splash page's QR code.

``init_web(app)`` sets up the session (its key is the ``django_secret_key`` setting) and mounts
``bp``; the pages are plain templates plus vanilla JavaScript modules, with no build step.
The public landing page of shared codes, ``/q/<code>`` (``landing.py``), is put in front of it.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Flask

from anthias_edge.runtime import runtime_of

logger = logging.getLogger(__name__)

bp = Blueprint("web", __name__)


def init_web(app: Flask) -> None:
    """Configure sessions and register the dashboard blueprint on ``app``."""
    from anthias_edge.web import (  # noqa: F401  (they add routes to bp)
        cloud_link,
        pages,
        session_auth,
        sharing_settings,
    )
    from anthias_edge.web.landing import init_landing

    runtime = runtime_of(app)
    session_auth.configure_sessions(app, runtime.settings)
    app.register_blueprint(bp)
    init_landing(app, runtime)
