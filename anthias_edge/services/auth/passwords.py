"""Password hashing with argon2id: hash, verify, rehash on parameter change.

One legacy scheme is also verified: ``sha256$<hex>``, the unsalted SHA-256 that a
device's ``screenly.conf`` stores for its Basic-auth user. Such a hash always
``needs_rehash``, so the first successful login replaces it with argon2id.
``dummy_verify`` spends the same time as a real check so that a login for an
unknown user cannot be told apart from a wrong password by its timing.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from argon2 import PasswordHasher

logger = logging.getLogger(__name__)

LEGACY_SHA256 = "sha256$"

# RFC 9106's low-memory profile (argon2.profiles.RFC_9106_LOW_MEMORY), written out so that
# argon2 and cffi load on the first hash, not at start: a device with authentication off never
# hashes, and the server's idle memory has a budget (benchmarks/RESULTS.md).
LOW_MEMORY_TIME_COST = 3
LOW_MEMORY_KIB = 65536
LOW_MEMORY_PARALLELISM = 4


def legacy_sha256_hash(hex_digest: str) -> str:
    """The stored form of a ``screenly.conf`` password hash (64 hex digits)."""
    return LEGACY_SHA256 + hex_digest.lower()


class Passwords:
    """argon2id with RFC 9106's low-memory profile (64 MiB, fits a Raspberry Pi) by default."""

    def __init__(
        self,
        *,
        time_cost: int = LOW_MEMORY_TIME_COST,
        memory_cost: int = LOW_MEMORY_KIB,
        parallelism: int = LOW_MEMORY_PARALLELISM,
    ) -> None:
        """Choose the cost parameters; hashes made with others are rehashed on login."""
        self._parameters = {"time_cost": time_cost, "memory_cost": memory_cost,
                            "parallelism": parallelism}

    @cached_property
    def _hasher(self) -> PasswordHasher:
        from argon2 import PasswordHasher, Type

        return PasswordHasher(**self._parameters, type=Type.ID)

    def hash(self, password: str) -> str:
        """An encoded ``$argon2id$...`` hash of ``password`` with a fresh salt."""
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        """True when ``password`` matches; a malformed hash is simply a mismatch."""
        if password_hash.startswith(LEGACY_SHA256):
            expected = password_hash.removeprefix(LEGACY_SHA256).lower().encode()
            # Spend argon2's time too, so the scheme cannot be told apart by timing.
            self.dummy_verify(password)
            actual = hashlib.sha256(password.encode("utf-8")).hexdigest().encode()
            return len(expected) == 64 and hmac.compare_digest(actual, expected)
        from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

        try:
            return self._hasher.verify(password_hash, password)
        except VerifyMismatchError:
            return False
        except (VerificationError, InvalidHashError):
            logger.warning("a stored password hash could not be checked")
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        """True when the hash was made with other parameters (or another algorithm)."""
        from argon2.exceptions import InvalidHashError

        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True

    def dummy_verify(self, password: str) -> bool:
        """Spend the time of a real verification; always False."""
        self.verify(self._dummy_hash, password)
        return False

    @cached_property
    def _dummy_hash(self) -> str:
        return self._hasher.hash("anthias-edge timing equaliser")
