"""Play items as the renderer tests hand them over."""

from __future__ import annotations

from typing import Any

from player.rotation import PlayItem


def renderer_item(asset_id: str, uri: str = "https://example.com", mimetype: str = "webpage",
                  **fields: Any) -> PlayItem:
    """A :class:`PlayItem` with the id, URI and mimetype first and a 10-second duration."""
    return PlayItem(asset_id, uri=uri, mimetype=mimetype, **{"duration": 10, **fields})
