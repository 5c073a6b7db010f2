"""Access tokens: short HS256 JWTs signed with rotating keys kept encrypted in the database.

The newest unretired ``SigningKey`` signs; every unretired key verifies, so a
rotation logs no one out. Verification pins HS256 (so ``alg: none`` and RS/HS
confusion are refused), requires every claim, and checks ``iss``, ``aud``,
``exp`` and ``nbf``, and that ``exp - iat`` is within this service's lifetime (``ttl``).
Every worker reads the same keys from the database; each keeps the keys it has decrypted
for ``KEY_CACHE_TTL``, so verifying a token costs neither a query nor a decryption, and a
key retired by another worker stops verifying here within that time. Whether a valid token
was signed out is not this module's question: ``AuthService.access_token_caller`` reads the
revocation list in the query that reads the member.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from anthias_edge.errors import TokenInvalid
from anthias_edge.models import SigningKey
from anthias_edge.timeutil import utcnow

if TYPE_CHECKING:  # the key store loads cryptography only when tokens are used
    from anthias_edge.services.auth.crypto_box import CryptoBox

logger = logging.getLogger(__name__)

ALGORITHM = "HS256"
MAX_TTL = dt.timedelta(minutes=15)
DEFAULT_ISSUER = "anthias-edge"
DEFAULT_AUDIENCE = "anthias-edge-api"
REQUIRED_CLAIMS = ["sub", "tenant_id", "role", "iat", "nbf", "exp", "iss", "aud", "jti"]
# How long a worker trusts a key it has read (and decrypted) without reading it again. Keys
# are retired only after their last token expired (15 min) or in an emergency; seconds of
# delay for the other workers are worth not querying and decrypting on every request.
KEY_CACHE_TTL = dt.timedelta(seconds=10)


@dataclass(frozen=True)
class AccessClaims:
    """The verified content of an access token."""

    user_id: str
    tenant_id: str
    role: str
    jti: str
    issued_at: dt.datetime
    expires_at: dt.datetime
    kid: str


def _epoch(value: dt.datetime) -> int:
    return int(value.replace(tzinfo=dt.UTC).timestamp())


class AccessTokens:
    """Issue and verify access tokens; rotate and retire their signing keys."""

    def __init__(
        self,
        box: CryptoBox,
        *,
        issuer: str = DEFAULT_ISSUER,
        audience: str = DEFAULT_AUDIENCE,
        ttl: dt.timedelta = MAX_TTL,
        leeway: dt.timedelta = dt.timedelta(seconds=10),
        clock: Callable[[], dt.datetime] = utcnow,
        key_cache_ttl: dt.timedelta = KEY_CACHE_TTL,
    ) -> None:
        """``ttl`` is capped at 15 minutes; ``clock`` returns naive UTC."""
        if ttl > MAX_TTL or ttl <= dt.timedelta(0):
            raise ValueError("access tokens live more than 0 and at most 15 minutes")
        self.box = box
        self.issuer = issuer
        self.audience = audience
        self.ttl = ttl
        self.leeway = leeway
        self.clock = clock
        self.key_cache_ttl = key_cache_ttl.total_seconds()
        # kid -> (secret, monotonic time it was read). Threads share it without a lock: single
        # dict operations are atomic, and a race costs at most one more read of the key or
        # trusts a key retired at that moment for one more KEY_CACHE_TTL.
        self._keys: dict[str, tuple[bytes, float]] = {}

    # -- keys -------------------------------------------------------------------------

    def rotate_signing_key(self) -> str:
        """Make a new current signing key and return its ``kid``; older keys keep verifying."""
        secret = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")
        kid = secrets.token_urlsafe(12)
        created_at = self.clock()
        current = self._current_key()
        if current is not None and current.created_at >= created_at:
            # The newest key signs; keep the order strict even within one clock tick.
            created_at = current.created_at + dt.timedelta(microseconds=1)
        SigningKey.create(kid=kid, secret_encrypted=self.box.encrypt(secret),
                          created_at=created_at)
        logger.info("new access-token signing key %s", kid)
        return kid

    def retire_signing_key(self, kid: str) -> bool:
        """Stop accepting tokens signed by ``kid``; True if it was active."""
        count = (SigningKey.update(retired_at=self.clock())
                 .where(SigningKey.kid == kid, SigningKey.retired_at.is_null()).execute())
        self._forget_key(kid)
        if count:
            logger.info("retired access-token signing key %s", kid)
        return bool(count)

    def retire_superseded_keys(self) -> list[str]:
        """Retire keys replaced longer than one token lifetime ago: nothing they signed is valid."""
        current = self._current_key()
        if current is None:
            return []
        cutoff = self.clock() - self.ttl - self.leeway
        # A key is superseded when the key after it was created; its tokens outlive that by ttl.
        stale = [key.kid for key in SigningKey.select().where(
            SigningKey.retired_at.is_null(), SigningKey.kid != current.kid,
            SigningKey.created_at < current.created_at)
            if self._successor_created(key) < cutoff]
        for kid in stale:
            self.retire_signing_key(kid)
        return stale

    @staticmethod
    def _successor_created(key: SigningKey) -> dt.datetime:
        successor = (SigningKey.select(SigningKey.created_at)
                     .where(SigningKey.created_at > key.created_at)
                     .order_by(SigningKey.created_at).first())
        return successor.created_at

    @staticmethod
    def _current_key() -> SigningKey | None:
        return (SigningKey.select().where(SigningKey.retired_at.is_null())
                .order_by(SigningKey.created_at.desc(), SigningKey.kid.desc()).first())

    def _signing_key(self) -> tuple[str, bytes]:
        key = self._current_key()
        if key is None:
            self.rotate_signing_key()
            key = self._current_key()
        return key.kid, self._remember_key(key)

    def _verifying_key(self, kid: str) -> bytes:
        cached = self._keys.get(kid)
        if cached is not None and time.monotonic() - cached[1] < self.key_cache_ttl:
            return cached[0]
        key = SigningKey.get_or_none(SigningKey.kid == kid)
        if key is None or key.retired_at is not None:
            self._forget_key(kid)
            raise TokenInvalid()
        return self._remember_key(key)

    def _remember_key(self, key: SigningKey) -> bytes:
        """The key's secret, decrypted once per worker: a kid's secret never changes."""
        cached = self._keys.get(key.kid)
        secret = (cached[0] if cached is not None
                  else base64.urlsafe_b64decode(self.box.decrypt(key.secret_encrypted)))
        self._keys[key.kid] = (secret, time.monotonic())
        return secret

    def _forget_key(self, kid: str) -> None:
        self._keys.pop(kid, None)

    def check_keys(self) -> int:
        """Decrypt every unretired signing key afresh; SecretKeyUnusable if one does not open.

        For start-up and readiness: a secret key that cannot open the stored keys would make
        every login and every token check fail. Answers how many keys were checked.
        """
        keys = list(SigningKey.select(SigningKey.secret_encrypted)
                    .where(SigningKey.retired_at.is_null()))
        for key in keys:
            self.box.decrypt(key.secret_encrypted)
        return len(keys)

    # -- tokens -----------------------------------------------------------------------

    def issue(self, user_id: str, tenant_id: str, role: str) -> tuple[str, AccessClaims]:
        """A signed access token for one user in one tenant, and what it says."""
        kid, secret = self._signing_key()
        now = self.clock().replace(microsecond=0)
        claims = AccessClaims(user_id=user_id, tenant_id=tenant_id, role=role,
                              jti=str(uuid.uuid4()), issued_at=now,
                              expires_at=now + self.ttl, kid=kid)
        payload = {"sub": user_id, "tenant_id": tenant_id, "role": role,
                   "iat": _epoch(now), "nbf": _epoch(now), "exp": _epoch(claims.expires_at),
                   "iss": self.issuer, "aud": self.audience, "jti": claims.jti}
        import jwt  # pyjwt and cryptography load on the first v3 login, not at start-up

        token = jwt.encode(payload, secret, algorithm=ALGORITHM,
                           headers={"kid": kid, "typ": "JWT"})
        return token, claims

    def verify(self, token: str) -> AccessClaims:
        """The claims of a valid token; anything else raises TokenInvalid (one message)."""
        import jwt

        try:
            header = jwt.get_unverified_header(token)
            kid = header.get("kid")
            if header.get("alg") != ALGORITHM or not isinstance(kid, str):
                raise TokenInvalid()
            payload = jwt.decode(
                token, self._verifying_key(kid), algorithms=[ALGORITHM],
                audience=self.audience, issuer=self.issuer,
                leeway=self.leeway.total_seconds(),
                # Times are checked below against this service's clock, not pyjwt's.
                options={"require": REQUIRED_CLAIMS, "verify_iat": False,
                         "verify_exp": False, "verify_nbf": False},
            )
            if not (all(isinstance(payload[name], str)
                        for name in ("sub", "tenant_id", "role", "jti"))
                    and all(type(payload[name]) is int for name in ("iat", "nbf", "exp"))):
                raise TokenInvalid()
            now = _epoch(self.clock())
            leeway = self.leeway.total_seconds()
            if payload["exp"] <= now - leeway or payload["nbf"] > now + leeway:
                raise TokenInvalid()
            # Only this service's lifetime counts, whatever the token claims: a leaked key or
            # a bug must not mint long-lived tokens, nor ones dated ahead to last longer.
            if (payload["exp"] - payload["iat"] > self.ttl.total_seconds()
                    or payload["iat"] > now + leeway):
                raise TokenInvalid()
        except jwt.PyJWTError as exc:
            logger.debug("access token refused: %s", type(exc).__name__)
            raise TokenInvalid() from exc
        return AccessClaims(
            user_id=payload["sub"], tenant_id=payload["tenant_id"], role=payload["role"],
            jti=payload["jti"], kid=kid,
            issued_at=dt.datetime.fromtimestamp(payload["iat"], dt.UTC).replace(tzinfo=None),
            expires_at=dt.datetime.fromtimestamp(payload["exp"], dt.UTC).replace(tzinfo=None))
