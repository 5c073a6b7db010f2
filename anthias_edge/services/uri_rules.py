"""Validation and escaping of asset URIs (docs/legacy-api.md §4.5)."""

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


def local_file_inside(uri: str | None, folder: Path) -> Path | None:
    """The path a local URI names, links and ``..`` resolved, if it lies inside ``folder``.

    The resolved path is what callers must open, move or delete: the name as given may be
    a link out of the folder, or go up out of it with ``..``.
    """
    if not uri or not is_local(uri) or "\0" in uri:
        return None
    try:
        path = Path(uri).resolve()
        inside = path.is_relative_to(folder.resolve())
    except (OSError, RuntimeError, ValueError):  # a link loop, an unreadable folder
        return None
    return path if inside else None


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
