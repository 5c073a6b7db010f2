"""Legacy v1-v2 in the cloud: a tenant's subdomain, HTTP Basic against that tenant's users.

Old scripts pointed at ``https://<sub>.<ANTHIAS_BASE_DOMAIN>/api/v2/...`` (or a tenant's
custom domain) keep working. The host names the tenant; Basic credentials must belong to an
active member of that tenant, checked with argon2id. Refusals have the device's shape: 401
``Access denied`` with ``WWW-Authenticate: Basic realm="Anthias <tenant name>"``. An unknown
host gets the same 401 (realm ``Anthias``), so tenants cannot be probed.

Each method needs a permission: reads ``assets.view``, POST ``assets.create``, PUT/PATCH
``assets.edit``, DELETE ``assets.delete``. Device endpoints (reboot, shutdown, backup, recover,
player control, device settings, info, play log, file uploads) answer 404 in the cloud: they
act on a screen or on local files, which a cloud tenant does not have.

Nothing is kept between requests that another worker would need. To keep argon2id (tens of
milliseconds) off every request, each worker remembers for a short time which
(password hash, password) pairs it verified, under a keyed digest; a changed password changes
the stored hash and so misses, and membership and activity are read from the database on
every request.
"""

from __future__ import annotations

import base64
import binascii
import logging

from flask import Response, current_app, g, request
from werkzeug.exceptions import NotFound

from anthias_edge.auth.basic import CONTENT_TYPE, _header_value
from anthias_edge.auth.hosts import base_domain, request_host
from anthias_edge.auth.throttling import login_throttle
from anthias_edge.errors import TenantNotFound, TooManyAttempts
from anthias_edge.models import Tenant, User
from anthias_edge.permissions import effective_permissions
from anthias_edge.runtime import current_runtime
from anthias_edge.services.auth.member_login import (
    VerifiedPasswords,
    active_user,
    check_member_password,
    member_after_password,
)
from anthias_edge.services.tenant_hosts import tenant_for_host
from anthias_edge.services.tenants import normalise_username

logger = logging.getLogger(__name__)

# Endpoint names (without the blueprint) that exist for tenants in the cloud.
CLOUD_ENDPOINTS = frozenset({"asset_list", "asset_create", "asset_detail", "asset_update",
                             "asset_delete", "asset_content", "playlist_order",
                             "playlist_order_wrong_method"})
METHOD_PERMISSIONS = {"GET": "assets.view", "HEAD": "assets.view", "OPTIONS": "assets.view",
                      "POST": "assets.create", "PUT": "assets.edit", "PATCH": "assets.edit",
                      "DELETE": "assets.delete"}
# Reordering the playlist edits assets, though it is a POST.
ENDPOINT_PERMISSIONS = {"playlist_order": "assets.edit"}


def _verified() -> VerifiedPasswords:
    """This worker's memo, kept on the app (not a module global)."""
    return current_app.extensions.setdefault("cloud_legacy_verified", VerifiedPasswords())


def host_tenant(host: str, base: str) -> Tenant | None:
    """The tenant ``<sub>.<base>`` or a custom domain names, or None (always for ``local``).

    Only the cloud reaches here, so the device's tenant is nobody's (0009).
    """
    try:
        return tenant_for_host(host, base, cloud=True)
    except TenantNotFound:
        return None


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """(username, password) from ``Authorization: Basic ...``, or None."""
    scheme, _, encoded = (header or "").partition(" ")
    if scheme != "Basic" or not encoded:
        return None
    try:
        text = base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, sep, password = text.partition(":")
    return (username, password) if sep else None


def denied(tenant: Tenant | None) -> Response:
    """The device's 401: ``Access denied`` and a Basic challenge naming the tenant."""
    realm = f"Anthias {tenant.name}" if tenant is not None else "Anthias"
    return Response("Access denied", status=401, content_type=CONTENT_TYPE,
                    headers={"WWW-Authenticate": _header_value(f'Basic realm="{realm}"')})


def _matching_user(username: str, password: str) -> User | None:
    """The user whose password this is, checked under the login throttle, or None.

    A right password clears the address's failures at once: whether the user is a member
    of this tenant is another question, answered with the same 401 whatever the password.
    """
    attempt = check_member_password(login_throttle(current_runtime()),
                                    _verified(), username, password, request.remote_addr,
                                    lambda: active_user(username))
    if attempt.user is not None:
        attempt.accept()
    return attempt.user


def authenticate_cloud_legacy() -> Response | None:
    """None when the request may go on (``g.tenant_id`` set); else the refusal to send.

    Raises NotFound for device endpoints, which the app renders in the version's error shape.
    """
    endpoint = (request.endpoint or "").rpartition(".")[2]
    if endpoint not in CLOUD_ENDPOINTS:
        raise NotFound()
    tenant = host_tenant(request_host(request), base_domain())
    credentials = basic_credentials(request.headers.get("Authorization"))
    if tenant is None or credentials is None:
        return denied(tenant)
    username = normalise_username(credentials[0])
    try:
        user = _matching_user(username, credentials[1])
    except TooManyAttempts as exc:
        return Response("Too many failed attempts. Try again later.", status=429,
                        content_type=CONTENT_TYPE,
                        headers={"Retry-After": str(exc.retry_after)})
    # The tenant is entered only now, for a caller whose password matched (row_security.py).
    member = member_after_password(user, tenant.id) if user is not None else None
    if member is None or not member.is_active:
        return denied(tenant)
    if not tenant.is_active:
        return Response("This tenant is not active.", status=403, content_type=CONTENT_TYPE)
    needed = ENDPOINT_PERMISSIONS.get(endpoint) or METHOD_PERMISSIONS.get(request.method,
                                                                           "assets.edit")
    if needed not in effective_permissions(member.role, member.grants, member.revokes):
        return Response("You do not have permission to perform this action.", status=403,
                        content_type=CONTENT_TYPE)
    g.tenant_id = tenant.id
    g.user_id = member.user_id  # a create records its creator (created_by)
    return None
