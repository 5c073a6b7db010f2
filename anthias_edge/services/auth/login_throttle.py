"""Failed-login throttling: growing delays per account and address, never a lockout.

Two counts, kept in the database so every worker sees the same ones:

* per account *from one client address* (``pair:``): after ``free_per_address``
  failures that address must wait before its next try, 1 s, then 2, 4, ... up to
  ``max_delay``;
* per account *across addresses* (``user:``): after ``free_per_user`` failures the
  same doubling wait applies, but only to addresses that have failed for this
  account themselves. A clean address is never slowed, so an attacker cannot lock
  the owner out, and failures for one account never slow another account.

While an address must wait, its request is refused before the password is looked at,
so a throttled guesser learns nothing, not even from the right password. A key is
forgotten after ``forget_after`` without a failure; a success from an address clears
that address's count for the account (the account-wide count is left to expire, so
the owner signing in elsewhere does not help an attacker). IPv6 clients count per
/64 network, the block one subscriber usually holds. docs/security.md states the
policy for operators.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

from peewee import Case

from anthias_edge.errors import TooManyAttempts
from anthias_edge.models import LoginAttempt
from anthias_edge.models.base import PreparedSelect
from anthias_edge.timeutil import utcnow

logger = logging.getLogger(__name__)

MAX_KEY_PART = 150  # longer names are stored as a digest, so any input fits an index

# Every request with a password runs this (on a device, every Basic-auth API call): SQL
# rendered once, one primary-key probe, about 20 us where a peewee query took 200.
_COUNT = PreparedSelect(lambda key: LoginAttempt.select(
    LoginAttempt.failures, LoginAttempt.last_failure_at).where(LoginAttempt.key == key))


@dataclass(frozen=True)
class ThrottlePolicy:
    """The numbers of the policy (docs/security.md, "Login throttling")."""

    free_per_address: int = 5
    free_per_user: int = 10
    first_delay: dt.timedelta = dt.timedelta(seconds=1)
    max_delay: dt.timedelta = dt.timedelta(minutes=15)
    forget_after: dt.timedelta = dt.timedelta(hours=24)

    def delay(self, failures: int, free: int) -> dt.timedelta:
        """The wait after ``failures`` failures when ``free`` of them cost nothing."""
        if failures < free:
            return dt.timedelta(0)
        doublings = min(failures - free, 32)  # 2 ** 32 s is far past any cap
        return min(self.first_delay * 2**doublings, self.max_delay)


def _key_part(text: str) -> str:
    if len(text) <= MAX_KEY_PART:
        return text
    return "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def account_key(account: str) -> str:
    """The account-wide key (``account`` already normalised by the caller)."""
    return "user:" + _key_part(account)


def client_network(ip: str | None) -> str:
    """The address a client is counted under: IPv4 as is, IPv6 by its /64."""
    if not ip:
        return "unknown"
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return _key_part(ip)
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def pair_key(account: str, ip: str | None) -> str:
    """The key of one account from one client address (or network)."""
    return f"pair:{_key_part(account)}|{client_network(ip)}"


class LoginThrottle:
    """``check`` before a password is verified, then ``record_failure`` or ``record_success``."""

    def __init__(self, policy: ThrottlePolicy | None = None,
                 clock: Callable[[], dt.datetime] = utcnow) -> None:
        """Use ``policy`` (the documented defaults when None) and ``clock`` (naive UTC)."""
        self.policy = policy or ThrottlePolicy()
        self.clock = clock

    def check(self, account: str, ip: str | None) -> bool:
        """Raise TooManyAttempts (with seconds to wait) when this address must wait.

        Returns True when this address has failures on record for the account, which a
        success should then clear (so a clean success writes nothing).
        """
        now = self.clock()
        own = self._count(pair_key(account, ip), now)
        if own is None:
            return False  # a clean address is never slowed, whatever the account's count
        failures, until = own[0], own[1] + self.policy.delay(own[0], self.policy.free_per_address)
        everyone = self._count(account_key(account), now)
        if everyone is not None:
            until = max(until, everyone[1] + self.policy.delay(everyone[0],
                                                               self.policy.free_per_user))
        if until > now:
            retry_after = max(1, math.ceil((until - now).total_seconds()))
            logger.warning("login throttled for %d s (%s failures from this address)",
                           retry_after, failures)
            raise TooManyAttempts(retry_after)
        return True

    def _count(self, key: str, now: dt.datetime) -> tuple[int, dt.datetime] | None:
        """(failures, last failure) of a key not yet forgotten, or None."""
        row = _COUNT.first(key)
        if row is None or row[1] is None or row[1] <= now - self.policy.forget_after:
            return None
        return row[0], row[1]

    def record_failure(self, account: str, ip: str | None) -> None:
        """Count one failure for the account and for this address; drop forgotten keys."""
        now = self.clock()
        cutoff = now - self.policy.forget_after
        LoginAttempt.delete().where(LoginAttempt.last_failure_at <= cutoff).execute()
        rows = [{"key": key, "failures": 1, "last_failure_at": now}
                for key in (pair_key(account, ip), account_key(account))]
        # One statement per failure, so two workers failing at once both count.
        (LoginAttempt.insert_many(rows)
         .on_conflict(conflict_target=[LoginAttempt.key], update={
             LoginAttempt.failures: Case(None, [(LoginAttempt.last_failure_at <= cutoff, 1)],
                                         LoginAttempt.failures + 1),
             LoginAttempt.last_failure_at: now})
         .execute())

    def record_success(self, account: str, ip: str | None) -> None:
        """Clear this address's count for the account (not the account-wide one)."""
        LoginAttempt.delete().where(LoginAttempt.key == pair_key(account, ip)).execute()
