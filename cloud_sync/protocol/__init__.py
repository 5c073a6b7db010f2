"""The sync wire shared by the device agent and the cloud hub: keys, signed requests, messages.

No Flask here: the agent (its own process) imports it, and so does the hub. See
docs/sync-protocol.md for the protocol in words.
"""

from cloud_sync.protocol.errors import (
    DeviceAuthExpired,
    DeviceAuthInvalid,
    DeviceAuthMissing,
    DeviceAuthReplayed,
    DeviceRevoked,
)
from cloud_sync.protocol.keys import (
    load_private_key,
    load_public_key,
    new_key_pair,
    public_key_b64,
    save_private_key,
)
from cloud_sync.protocol.messages import (
    KINDS,
    MAX_ENTRIES,
    Entry,
    PushBatch,
    format_time,
    parse_time,
    validate_push,
    validate_state,
)
from cloud_sync.protocol.signing import (
    AUDIENCE,
    MAX_LIFETIME_S,
    SKEW_S,
    TOKEN_LIFETIME_S,
    Claims,
    UnverifiedToken,
    body_hash,
    read_token,
    sign_request,
    verify_request,
    verify_token,
)

__all__ = [
    "AUDIENCE",
    "KINDS",
    "MAX_ENTRIES",
    "MAX_LIFETIME_S",
    "SKEW_S",
    "TOKEN_LIFETIME_S",
    "Claims",
    "DeviceAuthExpired",
    "DeviceAuthInvalid",
    "DeviceAuthMissing",
    "DeviceAuthReplayed",
    "DeviceRevoked",
    "Entry",
    "PushBatch",
    "UnverifiedToken",
    "body_hash",
    "format_time",
    "load_private_key",
    "load_public_key",
    "new_key_pair",
    "parse_time",
    "public_key_b64",
    "read_token",
    "save_private_key",
    "sign_request",
    "validate_push",
    "validate_state",
    "verify_request",
    "verify_token",
]
