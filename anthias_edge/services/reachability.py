"""Can the device fetch an asset's URL? Used on create and by the periodic check.

In cloud mode the server must never be steered into fetching internal
addresses (SSRF), so every hop of a redirect chain is resolved and checked.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlparse

from anthias_edge.errors import BlockedUri
from anthias_edge.services.uri_rules import STREAM_SCHEMES, is_local

logger = logging.getLogger(__name__)

DESKTOP_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36"
)
MAX_REDIRECTS = 10
STREAM_PORTS = {"rtsp": 554, "rtmp": 1935}


def is_internal_address(host: str) -> bool:
    """True when any address the host resolves to is not a public unicast address."""
    try:
        infos = socket.getaddrinfo(host, None)
    except (socket.gaierror, UnicodeError):
        return False  # unresolvable: the fetch fails on its own
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if not address.is_global or address.is_multicast:
            return True
    return False


@dataclass(frozen=True)
class ReachabilityChecker:
    """Probes URLs the way Anthias does: HEAD, then GET, redirects followed, 10 s timeout."""

    verify_ssl: bool = True
    block_internal: bool = False
    timeout_s: float = 10.0

    def check_allowed(self, uri: str) -> None:
        """Raise BlockedUri in cloud mode when the URL points at an internal address."""
        if not self.block_internal or is_local(uri):
            return
        host = urlparse(uri).hostname
        if host and is_internal_address(host):
            raise BlockedUri()

    def is_reachable(self, uri: str, *, skip_ssl_verify: bool = False) -> bool:
        """Whether the asset can be fetched now. Local files must exist."""
        if is_local(uri):
            return Path(uri).is_file()
        scheme = urlparse(uri).scheme
        if scheme in STREAM_SCHEMES:
            return self._stream_port_open(uri)
        verify = self.verify_ssl and not skip_ssl_verify
        return any(self._fetch(uri, method, verify) for method in ("HEAD", "GET"))

    def _fetch(self, uri: str, method: str, verify: bool) -> bool:
        import requests  # imported late: most processes never fetch anything

        url = uri
        try:
            for _ in range(MAX_REDIRECTS + 1):
                self.check_allowed(url)
                with requests.request(
                    method, url, allow_redirects=False, timeout=self.timeout_s, verify=verify,
                    headers={"User-Agent": DESKTOP_USER_AGENT}, stream=True,
                ) as response:
                    if response.is_redirect and response.headers.get("Location"):
                        url = urljoin(url, response.headers["Location"])
                        continue
                    return response.status_code < 400
        except BlockedUri:
            raise
        except (requests.RequestException, ValueError) as exc:
            logger.info("%s %s failed: %s", method, uri, exc)
        return False

    def _stream_port_open(self, uri: str) -> bool:
        parsed = urlparse(uri)
        if not parsed.hostname:
            return False
        self.check_allowed(uri)
        port = parsed.port or STREAM_PORTS.get(parsed.scheme, 554)
        try:
            with socket.create_connection((parsed.hostname, port), timeout=self.timeout_s):
                return True
        except OSError:
            return False
