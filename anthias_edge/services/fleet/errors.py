"""The fleet's failures, one type each; their ``status`` and ``code`` reach the v3 error body.

Linking errors say as little as they can: an unknown, used and expired pairing code are one
answer (``pairing_code_invalid``), so a guess learns nothing; a fleet token's refusal names
its reason in ``details.reason`` only once the caller has shown the token's secret.
"""

from __future__ import annotations

from anthias_edge.errors import AnthiasError


class PairingCodeInvalid(AnthiasError):
    """No pairing code like that can be used now (unknown, already used, or expired)."""

    status = 404
    code = "pairing_code_invalid"
    default_message = "That pairing code is not valid: it may be mistyped, used or expired."


class FleetTokenInvalid(AnthiasError):
    """A fleet token that cannot enrol (``details.reason``: unknown, revoked, expired,
    cap_reached)."""

    status = 403
    code = "fleet_token_invalid"
    default_message = "That fleet token cannot enrol a device."

    def __init__(self, reason: str, message: str | None = None) -> None:
        super().__init__(message or REASONS.get(reason), details={"reason": reason})
        self.reason = reason


REASONS = {
    "unknown": "That fleet token is not known.",
    "revoked": "That fleet token was revoked.",
    "expired": "That fleet token has expired.",
    "cap_reached": "That fleet token has enrolled as many devices as it may.",
}


class DeviceCodeInvalid(AnthiasError):
    """An admin's claim names no pending device code (unknown, claimed or expired)."""

    status = 404
    code = "device_code_invalid"
    default_message = "No screen is showing that code now: check it, or ask for a new one."


class DeviceCodeExpired(AnthiasError):
    """A device polls a code that expired (or that it never had): it must ask for a new one."""

    status = 410
    code = "device_code_expired"
    default_message = "This code has expired; ask for a new one."


class DeviceKeyInUse(AnthiasError):
    """An active device already has this public key: one key pair speaks for one device."""

    status = 409
    code = "device_key_in_use"
    default_message = ("A linked screen already uses this screen's key. Unlink that screen "
                       "first, or let this screen make a new key by linking it again.")


class DeviceNotFound(AnthiasError):
    """No device of the caller's tenant has that id."""

    status = 404
    code = "device_not_found"
    default_message = "No device of yours has that id."


class DeviceNotActive(AnthiasError):
    """The device was revoked: it takes no commands and cannot be renamed back into use."""

    status = 409
    code = "device_not_active"
    default_message = "That device was unlinked; link it again to use it."


class PairingCodeNotFound(AnthiasError):
    """No unused pairing code of the caller's tenant has that id (used codes stay as records)."""

    status = 404
    code = "pairing_code_not_found"
    default_message = "No unused pairing code of yours has that id."


class FleetTokenNotFound(AnthiasError):
    """No fleet token of the caller's tenant has that id."""

    status = 404
    code = "fleet_token_not_found"
    default_message = "No fleet token of yours has that id."


class DeviceAssetNotFound(AnthiasError):
    """``show_asset`` (or a device's QR code) names an asset the device does not have."""

    status = 404
    code = "device_asset_not_found"
    default_message = "That device has no asset with that id."
