"""Security headers on every console response.

The console runs only its own files: scripts and styles come from this origin (no inline
script, no ``style`` attribute from markup), pictures may also be ``data:``/``blob:`` URLs
(previews of uploads), nothing may frame it, and no URL it links to learns the page's path.
"""

from __future__ import annotations

from flask import Response, request

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-src 'none'",
    "frame-ancestors 'none'",
))
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
# Browsers honour this one only from a trustworthy origin (HTTPS) and report an error in the
# console when plain HTTP sends it, so it goes with HTTPS only, as the refresh cookie's Secure.
HTTPS_HEADERS = {
    "Cross-Origin-Opener-Policy": "same-origin",
}


def add_security_headers(response: Response) -> Response:
    """Set the console's headers on ``response`` (a view's own values are replaced)."""
    for name, value in HEADERS.items():
        response.headers[name] = value
    if request.is_secure:
        for name, value in HTTPS_HEADERS.items():
            response.headers[name] = value
    return response
