"""The device dashboard's own sign-in on v3, for sharing content and nothing else.

v3 takes Bearer tokens only. The device dashboard holds none: it has the session cookie of
``/login``, cached Basic credentials, or nothing at all on a device without a password (where
no user exists to log in as). So the dashboard could not call ``/api/v3/qr-content``.

This module is the narrowest way in, on a device only: a request that our own pages marked
(the ``X-CSRFToken`` header, which scripts never send) and that passes exactly the check the
dashboard and v2 already pass (``auth/guard.basic_auth_challenge``: the signed-in session,
with its CSRF token on writes, or Basic, or nothing when the device has no password) acts for
the device's tenant with the sharing permissions below (and assets.edit, for the
edit dialog's qr_overlay) and no other. Every other v3 call still
needs a token; the cloud never looks here. Cross-site requests are refused before any view
by ``api/origin_check.py``, as for v2.
"""

from __future__ import annotations

import logging

from flask import Request

from anthias_edge.auth.guard import basic_auth_challenge, from_web_ui
from anthias_edge.errors import CsrfTokenInvalid
from anthias_edge.permissions import Principal
from anthias_edge.runtime import Runtime

logger = logging.getLogger(__name__)

# Read the assets to pick one, and manage its QR contents: the Share dialog and the list.
# assets.edit: the edit dialog sets qr_overlay, which only v3 carries (v1-v2 stay Anthias's);
# the same check already lets the dashboard change every asset field through v2.
DASHBOARD_PERMISSIONS = frozenset({"assets.view", "assets.edit", "qr.view", "qr.create",
                                   "qr.edit", "qr.delete"})
# The audit log's actor and a QR content's created_by for what the dashboard does.
DASHBOARD_ACTOR = "device-dashboard"


def dashboard_principal(request: Request, runtime: Runtime) -> Principal | None:
    """The dashboard acting for the device's tenant, or None when the request is not its own.

    None sends the request on to the usual Bearer check (a 401 without a token). A session
    write without its CSRF token is refused here with 403, as the dashboard refuses it.
    """
    if runtime.is_cloud or not from_web_ui():
        return None
    scheme = request.headers.get("Authorization", "").partition(" ")[0].lower()
    if scheme == "bearer":
        return None  # a token speaks for itself, with its own permissions
    refusal = basic_auth_challenge(runtime.settings)
    if refusal is not None:
        if refusal.status_code == 403:
            raise CsrfTokenInvalid()
        return None  # signed out or wrong Basic: the 401 sends the page to /login
    return Principal(user_id=DASHBOARD_ACTOR, tenant_id=runtime.local_tenant_id, role="editor",
                     permissions=DASHBOARD_PERMISSIONS)
