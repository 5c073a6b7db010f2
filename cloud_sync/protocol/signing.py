"""Signed requests: a short-lived EdDSA JWT that binds the method, the path and the body.

The device signs every request with its Ed25519 key (``sign_request``, a JWT made by pyjwt);
the hub reads the token's device id (``read_token``), looks the device's public key up, and
checks the signature and every claim (``verify_token``). The check is the JWS one done
directly: the Ed25519 signature over ``header.payload`` with ``cryptography``, on the header
and claims ``read_token`` already decoded; pyjwt's generic decode cost the hub's busiest
request (a conditional pull) more than the signature itself. A test checks that both accept
and refuse the same tokens. The hub, not this module, remembers each ``jti`` until the
token expires, so a replayed request is refused (``DeviceAuthReplayed``).

Claims: iss (device id, also the header's kid), aud "anthias-sync", iat, exp (iat + 60; more
than 300 s of lifetime is refused), jti (22+ random url-safe characters), htm (method), htu
(path, "?" and the query when there is one) and bh (base64url sha256 of the raw body bytes).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from dataclasses import dataclass

import jwt
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from cloud_sync.protocol.errors import DeviceAuthExpired, DeviceAuthInvalid, DeviceAuthMissing
from cloud_sync.protocol.keys import b64url, b64url_decode

AUDIENCE = "anthias-sync"
SCHEME = "Device"
TOKEN_LIFETIME_S = 60
MAX_LIFETIME_S = 300
SKEW_S = 30
MAX_TOKEN_CHARS = 4096
_JTI = re.compile(r"^[A-Za-z0-9_-]{22,64}$")
_REQUIRED = ("iss", "aud", "iat", "exp", "jti", "htm", "htu", "bh")


@dataclass(frozen=True)
class UnverifiedToken:
    """A token's parts before its signature is checked: only good for looking the key up."""

    token: str
    device_id: str
    jti: str
    exp: int
    claims: dict
    signing_input: bytes
    signature: bytes


@dataclass(frozen=True)
class Claims:
    """The checked claims of a signed request."""

    device_id: str
    jti: str
    iat: int
    exp: int
    method: str
    path: str
    body_hash: str


def body_hash(body: bytes) -> str:
    """base64url (no padding) of the sha256 of the exact body bytes."""
    return b64url(hashlib.sha256(body).digest())


def sign_request(private_key: Ed25519PrivateKey, device_id: str, method: str,
                 path_with_query: str, body: bytes = b"", now: float | None = None) -> str:
    """The ``Authorization`` header value (``Device <jwt>``) for one request."""
    iat = int(time.time() if now is None else now)
    claims = {
        "iss": device_id, "aud": AUDIENCE, "iat": iat, "exp": iat + TOKEN_LIFETIME_S,
        "jti": secrets.token_urlsafe(16), "htm": method.upper(), "htu": path_with_query,
        "bh": body_hash(body),
    }
    token = jwt.encode(claims, private_key, algorithm="EdDSA", headers={"kid": device_id})
    return f"{SCHEME} {token}"


def read_token(authorization: str | None) -> UnverifiedToken:
    """Split the header and read the device id, jti and exp without trusting them yet."""
    if not authorization:
        raise DeviceAuthMissing()
    scheme, _, token = authorization.strip().partition(" ")
    if scheme != SCHEME or not token:
        raise DeviceAuthMissing()
    token = token.strip()
    if len(token) > MAX_TOKEN_CHARS or token.count(".") != 2:
        raise DeviceAuthInvalid("The request token is malformed.")
    head, payload, signature = token.split(".")
    try:
        header = json.loads(b64url_decode(head))
        claims = json.loads(b64url_decode(payload))
        raw_signature = b64url_decode(signature)
    except ValueError as exc:  # json's errors are ValueErrors too
        raise DeviceAuthInvalid("The request token is malformed.") from exc
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise DeviceAuthInvalid("The request token is malformed.")
    if header.get("alg") != "EdDSA":
        raise DeviceAuthInvalid("The request token must be signed with EdDSA.")
    kid, jti, exp = header.get("kid"), claims.get("jti"), claims.get("exp")
    if not isinstance(kid, str) or not kid or len(kid) > 64 or claims.get("iss") != kid:
        raise DeviceAuthInvalid("The token's kid and iss must both be the device id.")
    if not isinstance(jti, str) or not _JTI.match(jti):
        raise DeviceAuthInvalid("The token's jti must be 22 to 64 url-safe characters.")
    if not _is_int(exp):
        raise DeviceAuthInvalid("The token has no valid exp.")
    return UnverifiedToken(token=token, device_id=kid, jti=jti, exp=exp, claims=claims,
                           signing_input=f"{head}.{payload}".encode("ascii"),
                           signature=raw_signature)


def verify_token(unverified: UnverifiedToken, public_key: Ed25519PublicKey, method: str,
                 path_with_query: str, body: bytes, now: float | None = None) -> Claims:
    """Check the signature and every claim against this request; raise on the first fault."""
    try:
        public_key.verify(unverified.signature, unverified.signing_input)
    except InvalidSignature as exc:
        raise DeviceAuthInvalid() from exc
    claims = unverified.claims
    missing = [name for name in _REQUIRED if name not in claims]
    if missing:
        raise DeviceAuthInvalid("The token lacks claims.", details={"missing": missing})
    if claims["aud"] != AUDIENCE:
        raise DeviceAuthInvalid("The token is meant for another audience.")
    iat, exp = claims["iat"], claims["exp"]
    if not _is_int(iat) or not _is_int(exp) or exp <= iat:
        raise DeviceAuthInvalid("The token's iat and exp are not valid times.")
    if exp - iat > MAX_LIFETIME_S:
        raise DeviceAuthInvalid(f"A token may live at most {MAX_LIFETIME_S} seconds.")
    current = time.time() if now is None else now
    if iat > current + SKEW_S:
        raise DeviceAuthExpired("The token was issued in the future; check the device clock.")
    if exp < current - SKEW_S:
        raise DeviceAuthExpired()
    if claims["htm"] != method.upper():
        raise DeviceAuthInvalid("The token was signed for another method.")
    if claims["htu"] != path_with_query:
        raise DeviceAuthInvalid("The token was signed for another path.")
    if not secrets.compare_digest(str(claims["bh"]), body_hash(body)):
        raise DeviceAuthInvalid("The body is not the one that was signed.")
    return Claims(device_id=unverified.device_id, jti=unverified.jti, iat=iat, exp=exp,
                  method=claims["htm"], path=claims["htu"], body_hash=claims["bh"])


def verify_request(authorization: str | None, public_key: Ed25519PublicKey, method: str,
                   path_with_query: str, body: bytes, now: float | None = None) -> Claims:
    """``read_token`` then ``verify_token`` in one call (the replay check is the caller's)."""
    return verify_token(read_token(authorization), public_key, method, path_with_query, body,
                        now)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
