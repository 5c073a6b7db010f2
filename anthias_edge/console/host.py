"""Which tenant the console's host names: the one place the console resolves it."""

from __future__ import annotations

from typing import NamedTuple

from flask import Request

from anthias_edge.auth.hosts import base_domain, request_host
from anthias_edge.errors import TenantNotFound
from anthias_edge.models import Tenant
from anthias_edge.services.tenant_hosts import tenant_for_host


class HostTenant(NamedTuple):
    """The tenant the host names (None: ask for it), and whether the host is nobody's."""

    tenant: Tenant | None
    unknown: bool


def host_tenant_of(request: Request) -> HostTenant:
    """The host's tenant; a subdomain of the base domain that no tenant has is ``unknown``.

    The console runs only in the cloud, where the device's tenant is nobody's.
    """
    try:
        return HostTenant(tenant_for_host(request_host(request), base_domain(), cloud=True),
                          False)
    except TenantNotFound:
        return HostTenant(None, True)
