"""Which tenant a v3 request is for.

The credentials' tenant is authoritative. The host (a subdomain of the configured
base domain, or a tenant's custom domain) and an ``X-Tenant-ID`` header (id or
subdomain) may name a tenant too; each one that does must name the same tenant,
else 403 ``tenant_mismatch``. Hosts that name nothing (an IP address, the base
domain itself, ``localhost``) are ignored, so a device answers on any address.
"""

from __future__ import annotations

import logging

from flask import Request

from anthias_edge.auth.hosts import base_domain, request_host
from anthias_edge.errors import TenantMismatch, TenantNotFound
from anthias_edge.models import Tenant
from anthias_edge.runtime import current_runtime
from anthias_edge.services.auth.tokens import TenantRef
from anthias_edge.services.tenant_hosts import (
    SUBDOMAIN,
    host_name,
    is_device_tenant,
    tenant_for_host,
)
from anthias_edge.services.tenants import get_tenant, get_tenant_by_domain

logger = logging.getLogger(__name__)

TENANT_HEADER = "X-Tenant-ID"


def _cloud_usable(tenant: Tenant) -> Tenant:
    """``tenant``, or TenantNotFound for the device's tenant in the cloud."""
    if is_device_tenant(tenant) and current_runtime().is_cloud:
        raise TenantNotFound()
    return tenant


def _host_tenant(host: str, base: str) -> Tenant | bool | None:
    """The tenant the host names; None when it names none; False when it names an unknown one."""
    try:
        return tenant_for_host(host, base, cloud=current_runtime().is_cloud)
    except TenantNotFound:
        return False


def named_tenants(request: Request) -> list[tuple[str, Tenant | None]]:
    """Every tenant the request names besides its credentials: (source, tenant or None).

    ``None`` means the source names a tenant that does not exist.
    """
    named: list[tuple[str, Tenant | None]] = []
    by_host = _host_tenant(request_host(request), base_domain())
    if by_host is False:
        named.append(("host", None))
    elif by_host is not None:
        named.append(("host", by_host))
    header = (request.headers.get(TENANT_HEADER) or "").strip()
    if "\x00" in header:
        named.append(("header", None))
    elif header:
        try:
            named.append(("header", _cloud_usable(get_tenant(header))))
        except TenantNotFound:
            named.append(("header", None))
    return named


def _host_names_other(host: str, base: str, own: TenantRef) -> bool:
    """Whether the host names a tenant other than ``own``, or an unknown subdomain.

    Answers as ``_host_tenant`` would, but only a custom domain other than ``own``'s costs a
    query (to tell another tenant's domain from a name of no tenant, which is ignored).
    """
    named = host_name(host, base)
    if named is None:
        return False
    kind, name = named
    if kind == SUBDOMAIN:
        return name != own.subdomain
    if own.custom_domain and name == own.custom_domain:
        return False
    try:
        get_tenant_by_domain(name)
    except TenantNotFound:
        return False
    return True


def check_tenant(request: Request, tenant: TenantRef) -> None:
    """Raise TenantMismatch unless every tenant the request names is ``tenant``.

    The same answer as comparing ``named_tenants`` with ``tenant``, but a request that names
    its credentials' own tenant (by subdomain, id or custom domain) costs no query.
    """
    mismatched = None
    if _host_names_other(request_host(request), base_domain(), tenant):
        mismatched = "host"
    else:
        header = (request.headers.get(TENANT_HEADER) or "").strip()
        if header and header != tenant.id and header.lower() != tenant.subdomain:
            mismatched = "header"  # another tenant, or none: both are a mismatch
    if mismatched:
        logger.info("tenant named by %s does not match the credentials", mismatched)
        raise TenantMismatch(details={"source": mismatched})


def login_tenant(request: Request, given: str | None, default: str | None) -> str | None:
    """The tenant a login is for: the body's, else the host's or header's, else ``default``.

    A body tenant that disagrees with the host or header is a mismatch.
    """
    named = named_tenants(request)
    if given:
        try:
            wanted = _cloud_usable(get_tenant(given)).id
        except TenantNotFound:
            return ""  # names no tenant: the login fails with the usual 401
        for source, tenant in named:
            if tenant is None or tenant.id != wanted:
                raise TenantMismatch(details={"source": source})
        return wanted
    ids = {tenant.id if tenant else None for _source, tenant in named}
    if len(ids) > 1 or None in ids:
        raise TenantMismatch(details={"source": "host" if len(ids) > 1 else named[0][0]})
    if ids:
        return ids.pop()
    return default
