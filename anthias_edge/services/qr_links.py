"""Where a shared code leads: ``<base>/q/<code>``, and which base a device or tenant has.

The base is, first, the ``public_url`` setting (a device behind a name or a tunnel); else,
in the cloud, the tenant's own address (its custom domain, or its subdomain of the base
domain); else a device's own LAN address, found as the splash page finds it
(``device/info.dashboard_addresses``); else the address the caller used.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from anthias_edge.services.device.info import dashboard_addresses

LANDING_PATH = "/q/"


def landing_url(code: str, *, public_url: str | None, base_url: str) -> str:
    """The landing page of ``code``: under ``public_url`` when set, else under ``base_url``."""
    base = (public_url or base_url).rstrip("/")
    return f"{base}{LANDING_PATH}{code}"


def device_base_url(listen: str, environ: Mapping[str, str] | None = None,
                    served_port: int | None = None) -> str | None:
    """The device's first LAN address with the server's port, or None when it listens on
    loopback only (another machine could not open it)."""
    addresses = dashboard_addresses(os.environ if environ is None else environ, listen,
                                    served_port=served_port)
    return None if addresses.loopback_only or not addresses.urls else addresses.urls[0]


def tenant_base_url(subdomain: str, base_domain: str, *, custom_domain: str | None = None,
                    scheme: str = "https") -> str | None:
    """A cloud tenant's own address: its custom domain, else ``<subdomain>.<base domain>``;
    None when neither is known (no base domain configured)."""
    if custom_domain:
        return f"{scheme}://{custom_domain}"
    if base_domain and subdomain:
        return f"{scheme}://{subdomain}.{base_domain}"
    return None


def device_share_base(settings: Mapping[str, object], *, fallback: str = "",
                      served_port: int | None = None,
                      environ: Mapping[str, str] | None = None) -> str:
    """A device's base: ``public_url``, else its LAN address, else ``fallback`` (the address
    the caller used; empty for the player, which then has no address to draw)."""
    public_url = str(settings.get("public_url") or "")
    if public_url:
        return public_url.rstrip("/")
    lan = device_base_url(str(settings["listen"]), environ, served_port)
    return (lan or fallback).rstrip("/")


def cloud_share_base(subdomain: str, base_domain: str, *, custom_domain: str | None = None,
                     scheme: str = "https", fallback: str = "") -> str:
    """A cloud tenant's base: its own address, else ``fallback``. The device setting
    ``public_url`` is the server's, not a tenant's, so it plays no part here."""
    own = tenant_base_url(subdomain, base_domain, custom_domain=custom_domain, scheme=scheme)
    return (own or fallback).rstrip("/")
