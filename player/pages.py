"""The pages the player shows besides assets: standby, the splash page and Wi-Fi set-up.

Standby is a local image, so it shows offline too; the other two are pages of the local
server, which the screen's browser reaches on loopback whatever the network does.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlencode

from player.rotation import PlayItem

STANDBY_IMAGE = Path(__file__).resolve().parents[1] / "web_ui" / "static" / "img" / "standby.png"
# What a ``setup_wifi&<json>`` message carries (docs/legacy-api.md §7.2), in the order shown.
HOTSPOT_FIELDS = ("network", "ssid_pswd", "address")


def standby_item(path: Path = STANDBY_IMAGE) -> PlayItem:
    """The standby image as a play item (a local file: it shows offline too)."""
    return PlayItem("standby", name="Standby", uri=str(path), mimetype="image",
                    skip_asset_check=True)


def server_page_url(listen: str, path: str) -> str:
    """The URL of ``path`` on the local server at a ``HOST:PORT`` listen address.

    A wildcard address means loopback: the screen's browser runs on the same device.
    """
    host, _, port = listen.rpartition(":")
    host = host.strip("[]")
    host = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{port}{path}"


def splash_item(listen: str) -> PlayItem:
    """The server's splash page (the device's addresses and a QR code to the dashboard)."""
    return PlayItem("splash", name="Splash", uri=server_page_url(listen, "/splash-page"),
                    mimetype="webpage", skip_asset_check=True)


def hotspot_item(listen: str, details: Mapping[str, str]) -> PlayItem:
    """The server's Wi-Fi set-up page for ``setup_wifi`` (network, password, address)."""
    query = urlencode({key: details[key] for key in HOTSPOT_FIELDS if key in details})
    return PlayItem("hotspot", name="Wi-Fi set-up",
                    uri=server_page_url(listen, f"/hotspot?{query}"), mimetype="webpage",
                    skip_asset_check=True)
