"""Validation and escaping of asset URIs (legacy-api.md 4.5)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

from anthias_edge.errors import InvalidFilePath, InvalidUri

URL_SCHEMES = ("http", "https", "rtsp", "rtmp")
STREAM_SCHEMES = ("rtsp", "rtmp")


def escape_uri(uri: str) -> str:
    """Anthias v1.2/v2 create escaping: ``&amp;``→``&`` then HTML-escape ``<>'"``."""
    return (
        uri.replace("&amp;", "&")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("'", "&apos;")
        .replace('"', "&quot;")
    )


def is_local(uri: str) -> bool:
    """Anthias treats a URI starting with ``/`` as a path on the device."""
    return uri.startswith("/")


def validate_uri(uri: str) -> None:
    """Raise unless the URI is an existing regular file or an http(s)/rtsp/rtmp URL with a host."""
    if is_local(uri):
        if not Path(uri).is_file():
            raise InvalidFilePath()
        return
    try:
        parsed = urlparse(uri)
        host = parsed.hostname
    except ValueError as exc:
        raise InvalidUri() from exc
    if parsed.scheme not in URL_SCHEMES or not host:
        raise InvalidUri()


def is_stream(uri: str) -> bool:
    """True for rtsp/rtmp URLs."""
    return urlparse(uri).scheme in STREAM_SCHEMES
