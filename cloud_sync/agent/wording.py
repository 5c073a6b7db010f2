"""The agent's outcomes in plain words, for the Cloud page, ``sync status`` and the log."""

from __future__ import annotations

import math

from anthias_edge.errors import AnthiasError
from cloud_sync.agent.errors import CloudRefused, CloudUnreachable

# The hub's refusal codes (docs/sync-protocol.md), said for the person at the device.
REFUSALS = {
    "pairing_code_invalid": "That pairing code is not valid: it may be mistyped, already used "
                            "or expired (codes last 10 minutes). Ask for a new one.",
    "fleet_token_invalid": "The cloud refused the fleet token (revoked, expired or used up).",
    "device_code_expired": "The code shown on this screen expired before anyone claimed it.",
    "rate_limited": "Too many attempts from this device; wait a minute and try again.",
    "device_limit_reached": "The organisation's plan allows no more screens; remove one in the "
                            "cloud console or upgrade the plan.",
    "device_revoked": "This device was unlinked in the cloud.",
    "device_auth_expired": "The cloud refused the request's signature as expired: check that "
                           "this device's clock is right.",
    "device_auth_invalid": "The cloud did not accept this device's signature; if it persists, "
                           "unlink and link the device again.",
    "device_auth_replayed": "The cloud saw the same signed request twice.",
}


def duration(seconds: float) -> str:
    """``40 s``, ``3 min``, ``2 h``: a wait as a person reads it."""
    seconds = max(0, math.ceil(seconds))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{round(seconds / 60)} min"
    return f"{round(seconds / 3600)} h"


def refusal_words(exc: CloudRefused) -> str:
    """A hub refusal in plain words (the hub's own message when the code is not known here)."""
    if exc.code == "fleet_token_invalid" and isinstance(exc.details, dict):
        reason = exc.details.get("reason")
        if isinstance(reason, str) and reason:
            return f"The cloud refused the fleet token ({reason.replace('_', ' ')})."
    if exc.code in REFUSALS:
        return REFUSALS[exc.code]
    if exc.http_status in (402, 409) and "limit" in exc.code:
        return REFUSALS["device_limit_reached"]
    return exc.message


def problem_words(exc: BaseException) -> str:
    """Any failure as one sentence without a trailing full stop."""
    if isinstance(exc, CloudRefused):
        text = refusal_words(exc)
    elif isinstance(exc, CloudUnreachable | AnthiasError):
        text = exc.message
    else:
        text = f"The sync agent hit an unexpected problem ({type(exc).__name__}: {exc})"
    return text.rstrip(". ")


def retrying(exc: BaseException, delay_s: float) -> str:
    """``The cloud could not be reached (connection refused) — retrying in 40 s``."""
    return f"{problem_words(exc)} — retrying in {duration(delay_s)}"
