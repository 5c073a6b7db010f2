"""HTTP Basic authentication exactly as Anthias does it (docs/legacy-api.md §6.2).

Pure functions over the ``Authorization`` header and the settings; the app turns an ``AuthResult``
into a response with its ``status``, ``body`` and ``headers``. Throttling password guesses needs
the database, so it lives in ``auth/throttling.py``, which also makes the ``THROTTLED`` result.
"""

from __future__ import annotations

import base64
import enum
import hmac
import logging
from dataclasses import dataclass
from email.header import Header

from anthias_edge.settings import Settings

logger = logging.getLogger(__name__)

CONTENT_TYPE = "text/html; charset=utf-8"
TOO_MANY_ATTEMPTS = "Too many failed attempts. Try again later."


class AuthOutcome(enum.Enum):
    """What a Basic auth check concluded."""

    OK = "ok"
    DENIED = "denied"
    BACKEND_ERROR = "backend_error"
    THROTTLED = "throttled"


@dataclass(frozen=True)
class AuthResult:
    """Outcome of ``check_basic_auth`` plus what Anthias answers for it."""

    outcome: AuthOutcome
    realm: str = ""
    error: str = ""
    # Whether a user name and password were sent at all: only those are password guesses.
    credentials_given: bool = False
    retry_after: int = 0

    @property
    def ok(self) -> bool:
        """True when the request may proceed."""
        return self.outcome is AuthOutcome.OK

    @property
    def status(self) -> int:
        """HTTP status for a refused request: 401, 429 or 503 (200 when OK)."""
        return {AuthOutcome.OK: 200, AuthOutcome.DENIED: 401, AuthOutcome.BACKEND_ERROR: 503,
                AuthOutcome.THROTTLED: 429}[self.outcome]

    @property
    def body(self) -> str:
        """Plain body Anthias sends with the refusal (empty when OK)."""
        if self.outcome is AuthOutcome.DENIED:
            return "Access denied"
        if self.outcome is AuthOutcome.BACKEND_ERROR:
            return f"Authorization backend is unavailable: {self.error}"
        if self.outcome is AuthOutcome.THROTTLED:
            return TOO_MANY_ATTEMPTS
        return ""

    @property
    def headers(self) -> dict[str, str]:
        """Response headers for the refusal; only a 401 carries ``WWW-Authenticate``.

        A 429 carries ``Retry-After`` and no challenge, so a client does not prompt again.
        """
        if self.outcome is AuthOutcome.OK:
            return {}
        headers = {"Content-Type": CONTENT_TYPE}
        if self.outcome is AuthOutcome.DENIED:
            headers["WWW-Authenticate"] = _header_value(f'Basic realm="{self.realm}"')
        if self.outcome is AuthOutcome.THROTTLED:
            headers["Retry-After"] = str(self.retry_after)
        return headers


def _header_value(value: str) -> str:
    # A player name may hold CR/LF (header injection) or characters outside latin-1, which WSGI
    # cannot send. Django, which Anthias runs on, MIME-encodes such values; do the same.
    value = value.replace("\r", " ").replace("\n", " ")
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return Header(value, "utf-8", maxlinelen=10_000).encode()
    return value


def realm(settings: Settings) -> str:
    """The Basic auth realm, ``Anthias <player_name>`` (trailing space when the name is empty)."""
    return f"Anthias {settings['player_name']}"


def check_basic_auth(authorization_header: str | None, settings: Settings) -> AuthResult:
    """Check an ``Authorization`` header against the stored user and password hash.

    Only the credentials are checked; callers skip the check when ``auth_enabled`` is false.
    """
    denied = AuthResult(AuthOutcome.DENIED, realm=realm(settings))
    if not authorization_header:
        return denied
    parts = authorization_header.split(" ")
    if len(parts) != 2 or parts[0] != "Basic":
        return denied
    try:
        credentials = base64.b64decode(parts[1]).decode("utf-8")
    except ValueError as exc:  # binascii.Error and UnicodeDecodeError are both ValueErrors
        logger.info("Unreadable Basic credentials: %s", exc)
        return AuthResult(AuthOutcome.BACKEND_ERROR, error=str(exc))
    fields = credentials.split(":")
    guessed = AuthResult(AuthOutcome.DENIED, realm=realm(settings), credentials_given=True)
    # Exactly two fields, so a password containing ':' never matches (docs/legacy-api.md Q11).
    if len(fields) != 2:
        return guessed
    username, password = fields
    # Check both so the timing does not tell whether the user name was right.
    user_ok = hmac.compare_digest(username.encode(), str(settings["user"]).encode())
    password_ok = settings.password_matches(password)
    if user_ok and password_ok:
        return AuthResult(AuthOutcome.OK, credentials_given=True)
    return guessed
