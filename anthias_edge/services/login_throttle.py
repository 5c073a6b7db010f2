"""Failed-login throttling per user and per address, kept in the database.

Every worker counts the same ``LoginAttempt`` rows, so the limit holds across
processes and hosts. Two workers racing may let one extra attempt through; the
limit is about slowing guessing, not an exact count.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

from peewee import fn

from anthias_edge.errors import TooManyAttempts
from anthias_edge.models import LoginAttempt
from anthias_edge.timeutil import utcnow

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ThrottlePolicy:
    """At most ``max_per_user`` / ``max_per_address`` failures within ``window``."""

    max_per_user: int = 5
    max_per_address: int = 20
    window: dt.timedelta = dt.timedelta(minutes=15)


def user_key(username: str) -> str:
    """The attempt key of a username (known or not, so unknown names are throttled too)."""
    return "user:" + username.strip().lower()


def address_key(ip: str | None) -> str | None:
    """The attempt key of a client address, or None when it is unknown."""
    return "ip:" + ip if ip else None


class LoginThrottle:
    """Check before a login, record failures after, forget a user's failures on success."""

    def __init__(self, policy: ThrottlePolicy | None = None,
                 clock: Callable[[], dt.datetime] = utcnow) -> None:
        """Use ``policy`` (defaults: 5 per user, 20 per address, 15 minutes)."""
        self.policy = policy or ThrottlePolicy()
        self.clock = clock

    def check(self, username: str, ip: str | None) -> None:
        """Raise TooManyAttempts (with seconds to wait) if the user or address is over."""
        now = self.clock()
        since = now - self.policy.window
        waits = []
        for key, limit in ((user_key(username), self.policy.max_per_user),
                           (address_key(ip), self.policy.max_per_address)):
            if key is None:
                continue
            count, oldest = (LoginAttempt
                             .select(fn.COUNT(LoginAttempt.id), fn.MIN(LoginAttempt.at))
                             .where(LoginAttempt.key == key, LoginAttempt.at > since)
                             .tuples().get())
            if count >= limit:
                oldest = LoginAttempt.at.python_value(oldest)
                waits.append((oldest + self.policy.window - now).total_seconds())
        if waits:
            retry_after = max(1, math.ceil(max(waits)))
            logger.warning("login throttled for %d s", retry_after)
            raise TooManyAttempts(retry_after)

    def record_failure(self, username: str, ip: str | None) -> None:
        """Count one failure against the user and the address; drop expired records."""
        now = self.clock()
        LoginAttempt.delete().where(LoginAttempt.at <= now - self.policy.window).execute()
        rows = [{"key": key, "at": now} for key in (user_key(username), address_key(ip)) if key]
        LoginAttempt.insert_many(rows).execute()

    def record_success(self, username: str) -> None:
        """A good password clears the user's count (not the address's: one known account
        must not let an attacker reset the address limit)."""
        LoginAttempt.delete().where(LoginAttempt.key == user_key(username)).execute()
