"""An asset's ``qr_overlay`` (issue 13): whether the screen draws its code, where, how large.

Stored as JSON on the asset: ``{"enabled": bool, "corner": one of CORNERS, "size": percent of
the screen height}``; null means never set (off). The code drawn is the asset's active QR
content's (``QRContentService.active_for_asset``): with none, the screen draws nothing, so
the overlay can never point at a code a scan would not open. The v3 API checks what it
stores with ``normalize``; the player reads rows with the lenient ``settings_of``.
"""

from __future__ import annotations

from typing import Any

CORNERS = ("top-left", "top-right", "bottom-left", "bottom-right")
DEFAULT_CORNER = "bottom-right"
# 18 % of a 1080p screen's height is a 194 px plate: 5 px per module for a typical landing
# URL, which a phone reads from about 2 m on a 40-55" screen.
DEFAULT_SIZE = 18
MIN_SIZE, MAX_SIZE = 5, 40
KEYS = ("enabled", "corner", "size")


def normalize(value: Any) -> dict[str, Any] | None:
    """The overlay as stored: every key present, defaults filled in; ValueError when bad.

    ``None`` stays None (no overlay). ``enabled`` is required; ``corner`` and ``size``
    default to the bottom-right corner and 18 % of the screen height.
    """
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValueError("Must be an object {enabled, corner, size} or null.")
    unknown = sorted(set(value) - set(KEYS))
    if unknown:
        raise ValueError(f"Unknown key(s): {', '.join(unknown)}; use enabled, corner, size.")
    enabled = value.get("enabled")
    if not isinstance(enabled, bool):
        raise ValueError("enabled must be true or false.")
    corner = value.get("corner", DEFAULT_CORNER)
    if corner not in CORNERS:
        raise ValueError(f"corner must be one of {', '.join(CORNERS)}.")
    size = value.get("size", DEFAULT_SIZE)
    if isinstance(size, bool) or not isinstance(size, int) or not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"size must be a whole percent of the screen height, "
                         f"{MIN_SIZE} to {MAX_SIZE}.")
    return {"enabled": enabled, "corner": corner, "size": size}


def settings_of(value: Any) -> tuple[str, int] | None:
    """``(corner, size)`` of a stored overlay that is on, else None.

    Unreadable parts fall back to the defaults rather than hiding the code: the API checks
    what it stores, and the player must not fail on an old or odd row.
    """
    if not isinstance(value, dict) or value.get("enabled") is not True:
        return None
    corner = value.get("corner")
    size = value.get("size")
    if corner not in CORNERS:
        corner = DEFAULT_CORNER
    if isinstance(size, bool) or not isinstance(size, int):
        size = DEFAULT_SIZE
    return corner, min(max(size, MIN_SIZE), MAX_SIZE)


SCHEMA: dict[str, Any] = {
    "type": ["object", "null"],
    "description": "The asset's QR code on screen: the code of its active QR content, drawn "
                   "over the asset in a corner on a white plate; null or enabled false draws "
                   "nothing, and so does an asset without an active QR content.",
    "required": ["enabled"],
    "additionalProperties": False,
    "properties": {
        "enabled": {"type": "boolean"},
        "corner": {"type": "string", "enum": list(CORNERS), "default": DEFAULT_CORNER},
        "size": {"type": "integer", "minimum": MIN_SIZE, "maximum": MAX_SIZE,
                 "default": DEFAULT_SIZE, "description": "Percent of the screen height."},
    },
}
