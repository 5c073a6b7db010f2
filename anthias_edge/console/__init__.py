"""The cloud console: a tenant's web app on the v3 API, served at ``/`` in cloud mode.

One HTML page loads plain ES modules (no build step); every action is a v3 call. The page
knows which tenant its host names (a subdomain of the base domain or a custom domain); on
the base domain itself the sign-in form asks for the organisation instead.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, current_app, render_template, request

from anthias_edge.console.host import HostTenant, host_tenant_of
from anthias_edge.console.security_headers import add_security_headers

logger = logging.getLogger(__name__)

STATIC_URL = "/console/static"


def console_blueprint() -> Blueprint:
    """The console's page, its static files and the security headers on all of them."""
    bp = Blueprint("console", __name__, static_folder="static", static_url_path=STATIC_URL,
                   template_folder="templates")
    bp.after_request(add_security_headers)
    bp.add_url_rule("/", "index", index, methods=["GET"])
    return bp


def index() -> Any:
    """The one page; the host decides whose sign-in it shows."""
    found: HostTenant = host_tenant_of(request)
    status = 404 if found.unknown else 200
    response = current_app.make_response((render_template(
        "console/index.html", tenant=found.tenant, unknown_host=found.unknown,
        static_url=STATIC_URL), status))
    response.headers["Cache-Control"] = "no-store"
    return response
