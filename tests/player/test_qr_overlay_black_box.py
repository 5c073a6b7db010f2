"""Black box: a real server and player process; the dashboard's calls put a code on screen.

The player runs the headless renderer, which records each asset it showed with the URL of
the code drawn over it (``shown.jsonl``). Only HTTP drives the pair, as the dashboard does.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

from tests.player.test_black_box import Stack, stack  # noqa: F401  (the fixture)

PUBLIC = "https://signs.example.com"
# What the dashboard's pages send; a device without a password needs nothing else.
DASHBOARD = {"X-CSRFToken": "dashboard"}


def _dashboard(running: Stack, method: str, path: str, body: object) -> dict:
    request = urllib.request.Request(running.base + path, data=json.dumps(body).encode(),
                                     method=method, headers={"Content-Type": "application/json",
                                                             **DASHBOARD})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _shown(home: Path) -> list[dict]:
    record = home / ".screenly" / "shown.jsonl"
    if not record.exists():
        return []
    return [json.loads(line) for line in record.read_text().splitlines()]


def test_a_code_made_in_the_dashboard_goes_on_screen_and_off_again(stack, tmp_path):  # noqa: F811
    home = tmp_path / "home"
    asset_id = stack.create("Menu", 60)
    stack.wait_for(lambda: stack.current() == asset_id)
    _dashboard(stack, "PATCH", "/settings/sharing", {"public_url": PUBLIC})
    code = _dashboard(stack, "POST", "/api/v3/qr-content", {"asset_id": asset_id})["qr_code"]
    _dashboard(stack, "PATCH", f"/api/v3/assets/{asset_id}", {"qr_overlay": {"enabled": True}})
    url = f"{PUBLIC}/q/{code}"

    def shown_with(expected: str | None) -> bool:
        # A record is written when the asset leaves the screen: next replaces it by itself.
        stack.control("next")
        return any(row["asset_id"] == asset_id and row.get("qr_code") == expected
                   for row in _shown(home)[-2:])

    stack.wait_for(lambda: shown_with(url), timeout_s=30)
    _dashboard(stack, "PATCH", f"/api/v3/qr-content/{code}", {"is_active": False})
    stack.wait_for(lambda: shown_with(None) and _shown(home)[-1].get("qr_code") is None,
                   timeout_s=30)
