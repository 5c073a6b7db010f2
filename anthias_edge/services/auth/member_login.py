"""A tenant member's password check under the login throttle: one rule for every way in.

v3 logins (``AuthService.authenticate``) and HTTP Basic on a tenant's host in the cloud
(``auth/cloud_legacy.py``) both check a member's password here. The throttle comes first,
before the user is even looked up: a throttled address must learn nothing, not even that it
just sent the right password. An unknown user costs a dummy verification, so the timing does
not tell which names exist. A wrong password counts a failure; what a right one leads to
(a membership that is inactive, a tenant that is closed) is the caller's to settle, with
``accept`` or ``refuse``.

The cloud checks Basic credentials on every request, so it verifies through
``VerifiedPasswords``: a short per-worker memo that keeps argon2id (tens of milliseconds) off
repeated requests. A changed password changes the stored hash and so misses the memo.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from anthias_edge.db import db
from anthias_edge.models import TenantUser, User
from anthias_edge.services.auth.login_throttle import LoginThrottle
from anthias_edge.services.auth.passwords import Passwords
from anthias_edge.services.row_security import set_tenant

VERIFIED_TTL_S = 300
VERIFIED_MAX = 4096


class PasswordVerifier(Protocol):
    """What checks a password against its stored hash (``Passwords``, ``VerifiedPasswords``)."""

    def verify(self, password_hash: str, password: str) -> bool:
        """True when ``password`` matches ``password_hash``."""
        ...

    def dummy_verify(self, password: str) -> bool:
        """Spend the time of a verification for a user that does not exist."""
        ...


class VerifiedPasswords:
    """``Passwords`` with a small per-worker memo of successes, keyed by an HMAC digest."""

    def __init__(self, passwords: Passwords | None = None, ttl_s: float = VERIFIED_TTL_S,
                 max_entries: int = VERIFIED_MAX) -> None:
        """Use ``passwords`` for real checks; remember successes ``ttl_s`` seconds."""
        self.passwords = passwords or Passwords()
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._key = secrets.token_bytes(32)
        self._lock = threading.Lock()
        self._seen: OrderedDict[bytes, float] = OrderedDict()

    def _digest(self, password_hash: str, password: str) -> bytes:
        material = password_hash.encode() + b"\0" + password.encode()
        return hmac.new(self._key, material, hashlib.sha256).digest()

    def remembered(self, password_hash: str, password: str) -> bool:
        """True when this pair was verified within the last ``ttl_s`` seconds."""
        digest = self._digest(password_hash, password)
        with self._lock:
            until = self._seen.get(digest)
            if until is not None and until > time.monotonic():
                return True
            self._seen.pop(digest, None)
        return False

    def verify(self, password_hash: str, password: str) -> bool:
        """A remembered pair at once; else check with argon2id and remember a success."""
        if self.remembered(password_hash, password):
            return True
        if not self.passwords.verify(password_hash, password):
            return False
        with self._lock:
            self._seen[self._digest(password_hash, password)] = time.monotonic() + self.ttl_s
            while len(self._seen) > self.max_entries:
                self._seen.popitem(last=False)
        return True

    def dummy_verify(self, password: str) -> bool:
        """As ``Passwords.dummy_verify``: an unknown user costs a real verification."""
        return self.passwords.dummy_verify(password)


@dataclass(frozen=True)
class PasswordAttempt:
    """The outcome of one checked password: whose it was, and how to close the attempt."""

    user: User | None  # the user whose password matched; None when it did not
    throttle: LoginThrottle
    account: str
    ip: str | None
    had_failures: bool

    def accept(self) -> None:
        """The login goes through: clear this address's failures for the account."""
        if self.had_failures:
            self.throttle.record_success(self.account, self.ip)

    def refuse(self) -> None:
        """The password matched but the login is refused anyway: count it as a failure."""
        self.throttle.record_failure(self.account, self.ip)


def check_member_password(throttle: LoginThrottle, passwords: PasswordVerifier, account: str,
                          password: str, ip: str | None,
                          find_user: Callable[[], User | None]) -> PasswordAttempt:
    """Check ``password`` for the user ``find_user`` finds, once the throttle allows it.

    Raises TooManyAttempts (before ``find_user`` runs) while this address must wait. A wrong
    password, or no such user, is counted as a failure here; for a right one the caller
    settles the attempt with ``accept`` or ``refuse``.
    """
    had_failures = throttle.check(account, ip)
    user = find_user()
    if user is None:
        passwords.dummy_verify(password)
        matched = None
    else:
        matched = user if passwords.verify(user.password_hash, password) else None
    if matched is None:
        throttle.record_failure(account, ip)
    return PasswordAttempt(matched, throttle, account, ip, had_failures)


def active_user(username: str) -> User | None:
    """The active user of this name, from the global directory: no tenant is entered yet."""
    return User.get_or_none(User.username == username,
                            User.is_active == True)  # noqa: E712 (peewee expression)


def member_after_password(user: User, tenant_id: str) -> TenantUser | None:
    """The user's membership of the tenant (with its user), active or not, read inside it.

    Only for a user whose password matched: the tenant's rows are entered here, never before
    (row_security.py).
    """
    set_tenant(db, tenant_id)
    return (TenantUser.select(TenantUser, User).join(User)
            .where(TenantUser.user == user.id, TenantUser.tenant == tenant_id).first())
