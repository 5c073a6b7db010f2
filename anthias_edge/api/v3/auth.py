"""Who is calling v3: ``Authorization: Bearer`` with a JWT access token or an ``ae_`` API token."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from flask import Request

from anthias_edge.errors import TokenInvalid

if TYPE_CHECKING:  # the auth stack (jwt, cryptography, argon2) loads on the first v3 call
    from anthias_edge.services.auth.tokens import AuthService, Caller

logger = logging.getLogger(__name__)


class MissingCredentials(TokenInvalid):
    """No Bearer token was sent."""

    code = "authentication_required"
    default_message = "Send Authorization: Bearer <access token or API token>."


def bearer_token(request: Request) -> str:
    """The token of an ``Authorization: Bearer ...`` header, or MissingCredentials."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise MissingCredentials()
    if "\x00" in token:
        raise TokenInvalid()
    return token


def authenticate(request: Request, auth: AuthService) -> Caller:
    """Who the request's token speaks for, with its tenant; TokenInvalid (401) if wrong."""
    from anthias_edge.services.auth.tokens import API_TOKEN_PREFIX

    token = bearer_token(request)
    if token.startswith(API_TOKEN_PREFIX):
        return auth.api_token_caller(token)
    return auth.access_token_caller(token)
