"""The fleet's secrets: pairing codes, device codes, fleet tokens and poll tokens.

Only their sha256 (hex) is stored, so a copy of the database links no device. Codes people
type are 8 characters of an alphabet without look-alikes (no 0/O, 1/I): 32^8 = 2^40 codes,
each alive 10 minutes and used once. Typing is forgiving: case, spaces and dashes are ignored.
"""

from __future__ import annotations

import hashlib
import re
import secrets

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 8
FLEET_TOKEN_PREFIX = "aft_"
FLEET_TOKEN_BYTES = 32  # 43 urlsafe base64 characters
POLL_TOKEN_BYTES = 32
_SEPARATORS = re.compile(r"[\s-]+")
_CODE = re.compile(rf"^[{ALPHABET}]{{{CODE_LENGTH}}}$")
_FLEET_TOKEN = re.compile(r"^aft_[A-Za-z0-9_-]{43}$")


def digest(secret: str) -> str:
    """The stored form of a secret: sha256 hex of its UTF-8 bytes."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_code() -> str:
    """A fresh 8-character code from ``ALPHABET``."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: object) -> str | None:
    """The code a person meant (upper case, no spaces or dashes), or None if it cannot be one."""
    if not isinstance(text, str) or len(text) > 64:
        return None
    code = _SEPARATORS.sub("", text).upper()
    return code if _CODE.match(code) else None


def new_fleet_token() -> str:
    """``aft_`` and 43 urlsafe characters (256 random bits)."""
    return FLEET_TOKEN_PREFIX + secrets.token_urlsafe(FLEET_TOKEN_BYTES)


def is_fleet_token(text: object) -> bool:
    """Whether ``text`` has the form of a fleet token's secret."""
    return isinstance(text, str) and bool(_FLEET_TOKEN.match(text))


def new_poll_token() -> str:
    """The secret a device polls its own code's state with (never shown to people)."""
    return secrets.token_urlsafe(POLL_TOKEN_BYTES)
