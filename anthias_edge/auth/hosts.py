"""The host a request names and the cloud's base domain: in the cloud the host tells tenants
apart before any credential is read (v3, legacy Basic on a tenant's host, the console).

The rule from a host name to a tenant is ``services/tenant_hosts.py``; this module only reads
the request and the configuration.
"""

from __future__ import annotations

from flask import Request, current_app

from anthias_edge.runtime import current_runtime

BASE_DOMAIN_ENV = "ANTHIAS_BASE_DOMAIN"


def base_domain() -> str:
    """The cloud's base domain (``example.com``): app config first, then the settings."""
    value = current_app.config.get(BASE_DOMAIN_ENV) or current_runtime().settings.base_domain
    return value.strip().lower().strip(".")


def request_host(request: Request) -> str:
    """The request's host name, lower-case, without port or trailing dot."""
    host = (request.host or "").lower()
    if host.startswith("[") or "\x00" in host:  # an IPv6 literal names no tenant
        return ""
    return host.rsplit(":", 1)[0].rstrip(".")
