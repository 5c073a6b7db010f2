"""The sync wire shared by the device agent and the cloud hub: keys, signed requests, messages.

No Flask here: the agent (its own process) imports it, and so does the hub. See
docs/sync-protocol.md for the protocol in words.

The names below are looked up in their module on first use (PEP 562), not imported with the
package: a device's server imports ``messages`` for its outbox on every start, and importing
``keys`` and ``signing`` with it loaded cryptography and PyJWT, about 11 MiB of resident
memory, into a server that is not linked (issue 11's idle-memory figure).
"""

from __future__ import annotations

import importlib
from typing import Any

_MODULE_OF = {
    **dict.fromkeys(("DeviceAuthExpired", "DeviceAuthInvalid", "DeviceAuthMissing",
                     "DeviceAuthReplayed", "DeviceRevoked"), "errors"),
    **dict.fromkeys(("load_private_key", "load_public_key", "new_key_pair", "public_key_b64",
                     "save_private_key"), "keys"),
    **dict.fromkeys(("KINDS", "MAX_ENTRIES", "Entry", "PushBatch", "format_time",
                     "parse_time", "validate_push", "validate_state"), "messages"),
    **dict.fromkeys(("AUDIENCE", "MAX_LIFETIME_S", "SKEW_S", "TOKEN_LIFETIME_S", "Claims",
                     "UnverifiedToken", "body_hash", "read_token", "sign_request",
                     "verify_request", "verify_token"), "signing"),
}

__all__ = sorted(_MODULE_OF)


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # found once: later lookups do not come here
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_MODULE_OF])
