"""Which tenant a request's host names: one rule for v3, cloud legacy Basic and the console.

A host names a tenant by a subdomain of the cloud's base domain (``acme.example.com``) or by
the tenant's custom domain. IP addresses, ``localhost`` and the bare base domain name none,
so a device answers on any address and those hosts cost no query. The device's own tenant
is nobody's in the cloud: there a host naming it names no reachable tenant.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from anthias_edge.errors import TenantNotFound
from anthias_edge.models import Tenant
from anthias_edge.models.tenant import LOCAL_SUBDOMAIN
from anthias_edge.services.tenants import get_tenant_by_domain, get_tenant_by_subdomain

if TYPE_CHECKING:
    from anthias_edge.services.auth.tokens import TenantRef

SUBDOMAIN = "subdomain"
DOMAIN = "domain"


def is_device_tenant(tenant: Tenant | TenantRef) -> bool:
    """The device's own tenant, which nothing in the cloud may reach (it is removed there)."""
    return tenant.subdomain == LOCAL_SUBDOMAIN


def _is_address(host: str) -> bool:
    """IP literals and ``localhost`` are never a tenant's custom domain: skip the lookup."""
    if host == "localhost":
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def host_name(host: str, base: str) -> tuple[str, str] | None:
    """What the host says about the tenant: (SUBDOMAIN, label), (DOMAIN, name) or None.

    ``host`` is lower-case without port; ``base`` the base domain (may be empty). A label
    with a dot (``a.b.<base>``) is kept as a subdomain that no tenant has.
    """
    if not host:
        return None
    if base and host.endswith("." + base):
        return SUBDOMAIN, host[: -len(base) - 1].strip()
    if (base and host == base) or _is_address(host):
        return None  # an IP address or the bare base domain names no tenant
    return DOMAIN, host.strip()


def tenant_for_host(host: str, base: str, *, cloud: bool) -> Tenant | None:
    """The tenant the host names, or None when it names none.

    Raises TenantNotFound when the host is a subdomain no tenant has (or, in the cloud, the
    device's tenant's): such a host is somebody's name, unlike a custom domain of no tenant,
    which is ignored like any other host.
    """
    named = host_name(host, base)
    if named is None:
        return None
    kind, name = named
    if kind == SUBDOMAIN:
        if "." in name:
            raise TenantNotFound()
        tenant = get_tenant_by_subdomain(name)
        if cloud and is_device_tenant(tenant):
            raise TenantNotFound()
        return tenant
    try:
        tenant = get_tenant_by_domain(name)
    except TenantNotFound:
        return None
    return None if cloud and is_device_tenant(tenant) else tenant
