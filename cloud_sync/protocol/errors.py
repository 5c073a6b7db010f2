"""Why the hub refuses a signed request; each is a 401 with its own v3 error code."""

from __future__ import annotations

from anthias_edge.errors import AnthiasError


class DeviceAuthMissing(AnthiasError):
    """No ``Authorization: Device <jwt>`` header."""

    status = 401
    code = "device_auth_missing"
    default_message = "Sign the request: send Authorization: Device <token>."


class DeviceAuthInvalid(AnthiasError):
    """Bad signature, bad claims, another method/path/body than signed, or an unknown device."""

    status = 401
    code = "device_auth_invalid"
    default_message = "The request signature is not valid."


class DeviceAuthExpired(AnthiasError):
    """The token's lifetime is over (or has not begun, beyond the allowed clock skew)."""

    status = 401
    code = "device_auth_expired"
    default_message = "The request signature has expired; check the device clock."


class DeviceAuthReplayed(AnthiasError):
    """The token's ``jti`` was seen before: a replayed request."""

    status = 401
    code = "device_auth_replayed"
    default_message = "This signed request was already used."


class DeviceRevoked(AnthiasError):
    """The device was unlinked in the cloud (or unlinked itself); it must stop syncing."""

    status = 401
    code = "device_revoked"
    default_message = "This device was unlinked by the cloud."
