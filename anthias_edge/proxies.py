"""Believe ``X-Forwarded-For`` and ``X-Forwarded-Proto`` only from the administrator's proxies.

The login throttle counts failures per client address, so the address must be one a
client cannot choose. Werkzeug's ``ProxyFix`` trusts a fixed number of hops from
whoever connects; here it is applied only when the direct peer is in the
``trusted_proxies`` setting, and the hop count is the run of trusted proxies at the
end of ``X-Forwarded-For``, so the client's address is the last one that no trusted
proxy wrote. Anything a client puts in the header itself sits before that and is
ignored. With the setting empty (the default) the headers are never read.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.middleware.proxy_fix import ProxyFix

from anthias_edge.errors import InvalidSetting

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def parse_trusted_proxies(value: str) -> tuple[Network, ...]:
    """The networks of a ``trusted_proxies`` value (``"127.0.0.1, 10.0.0.0/8"``)."""
    networks = []
    for part in value.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise InvalidSetting(
                f"Setting trusted_proxies: {part!r} is not an address or network.") from None
    return tuple(networks)


def _is_trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in networks)


class TrustedProxies:
    """WSGI middleware: ``ProxyFix`` for requests that come through a trusted proxy."""

    def __init__(self, app: WSGIApp, networks: tuple[Network, ...]) -> None:
        """Wrap ``app``; requests from ``networks`` have their forwarded headers applied."""
        self.app = app
        self.networks = networks

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if not _is_trusted(environ.get("REMOTE_ADDR", ""), self.networks):
            return self.app(environ, start_response)
        hops = 1
        forwarded = [part.strip() for part in environ.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        while hops < len(forwarded) and _is_trusted(forwarded[-hops], self.networks):
            hops += 1
        return ProxyFix(self.app, x_for=hops, x_proto=1)(environ, start_response)
