"""``/api/v3/sharing/settings``: a device's public_url, read and written for its settings page."""

from __future__ import annotations

import re

from anthias_edge.messaging import ViewerCommand
from anthias_edge.settings import Settings
from tests.api.v3.conftest import World

URL = "/api/v3/sharing/settings"
MARK = "X-CSRFToken"


def _mark(client) -> dict[str, str]:
    page = client.get("/").get_data(as_text=True)
    return {MARK: re.search(r'name="csrf-token" content="([^"]*)"', page).group(1)}


def _on_disk(app) -> str:
    runtime = app.extensions["anthias"]
    return Settings.load(runtime.settings.home, environ={})["public_url"]


def test_the_dashboard_sets_public_url_and_codes_lead_there(app, client, viewer):
    before = client.get(URL, headers=_mark(client))
    assert before.status_code == 200, before.get_json()
    # The test server listens on loopback only: no phone could reach it, so no code leads
    # anywhere (the player draws none) until a public address is set.
    assert app.extensions["anthias"].settings["listen"].startswith("127.0.0.1:")
    assert before.get_json() == {"public_url": "", "landing_base": ""}
    response = client.patch(URL, headers=_mark(client),
                            json={"public_url": "https://signs.example.com/"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"public_url": "https://signs.example.com/",
                                   "landing_base": "https://signs.example.com/q/"}
    assert _on_disk(app) == "https://signs.example.com/"
    assert viewer.receive(timeout_s=5) == ViewerCommand("reload")
    cleared = client.patch(URL, headers=_mark(client), json={"public_url": ""})
    assert cleared.get_json()["public_url"] == "" and _on_disk(app) == ""


def test_a_bad_address_is_a_400_saying_why_and_nothing_is_saved(app, client):
    assert client.patch(URL, headers=_mark(client),
                        json={"public_url": "https://ok.example.com"}).status_code == 200
    for bad in ("ftp://files.example.com", "signs.example.com", "https://x.example.com/?a=1",
                "https://x.example.com:99999"):
        response = client.patch(URL, headers=_mark(client), json={"public_url": bad})
        assert response.status_code == 400, bad
        error = response.get_json()["error"]
        assert error["code"] == "invalid_setting" and "public_url" in error["message"]
        assert _on_disk(app) == "https://ok.example.com"
    wrong_type = client.patch(URL, headers=_mark(client), json={"public_url": 5})
    assert wrong_type.status_code == 400


def test_another_tenant_on_the_device_cannot_read_or_change_it(world: World):
    for method in ("GET", "PATCH"):
        response = world.client.open(URL, method=method, headers=world.auth("owner"),
                                     json={"public_url": "https://evil.example.com"}
                                     if method == "PATCH" else None)
        assert response.status_code == 404, method
    assert world.runtime.settings["public_url"] == ""


def test_without_sharing_permissions_it_is_refused(world: World):
    response = world.client.patch(URL, headers=world.auth("viewer"),
                                  json={"public_url": "https://x.example.com"})
    assert response.status_code == 403
