"""Which tenant the console's host names: the one place the console resolves it."""

from __future__ import annotations

from typing import NamedTuple

from flask import Request

from anthias_edge.api.v3.tenancy import base_domain, request_host
from anthias_edge.auth.cloud_legacy import host_tenant
from anthias_edge.models import Tenant


class HostTenant(NamedTuple):
    """The tenant the host names (None: ask for it), and whether the host is nobody's."""

    tenant: Tenant | None
    unknown: bool


def host_tenant_of(request: Request) -> HostTenant:
    """The host's tenant; a subdomain of the base domain that no tenant has is ``unknown``."""
    host, base = request_host(request), base_domain()
    tenant = host_tenant(host, base)
    if tenant is not None:
        return HostTenant(tenant, False)
    return HostTenant(None, bool(base) and host.endswith("." + base))
