"""``/settings/sharing``: a device's public_url, read and written by its settings page."""

from __future__ import annotations

import re

from anthias_edge.messaging import ViewerCommand
from anthias_edge.settings import Settings
from tests.helpers import basic

URL = "/settings/sharing"
MARK = "X-CSRFToken"  # what the dashboard's pages send with every request (static/js/api.js)
CREDENTIALS = {"auth_backend": "auth_basic", "username": "admin", "password": "pw",
               "password_2": "pw"}
CLOUD_KEY = "Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE="


def _mark(client) -> dict[str, str]:
    page = client.get("/").get_data(as_text=True)
    return {MARK: re.search(r'name="csrf-token" content="([^"]*)"', page).group(1)}


def _on_disk(app) -> str:
    return Settings.load(app.extensions["anthias"].settings.home, environ={})["public_url"]


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
    for shape in ({"public_url": 5}, {"public_url": "https://a.example.com", "x": 1}, ["x"]):
        response = client.patch(URL, headers=_mark(client), json=shape)
        assert response.status_code == 400
        assert response.get_json()["error"]["code"] == "validation_error"
    assert _on_disk(app) == "https://ok.example.com"


def test_a_request_our_pages_did_not_mark_is_refused(app, client):
    response = client.patch(URL, json={"public_url": "https://evil.example.com"})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "csrf_token_invalid"
    assert client.get(URL).status_code == 403
    assert _on_disk(app) == ""


def test_with_a_password_it_takes_the_dashboards_sign_in(app, client):
    assert client.patch("/api/v2/device_settings", json=CREDENTIALS).status_code == 200
    signed_out = client.get(URL, headers={MARK: "x"})
    assert signed_out.status_code == 401
    wrong = client.patch(URL, headers={MARK: "x", **basic("admin", "nope")},
                         json={"public_url": "https://evil.example.com"})
    assert wrong.status_code == 401
    good = client.patch(URL, headers={MARK: "x", **basic("admin", "pw")},
                        json={"public_url": "https://signs.example.com"})
    assert good.status_code == 200, good.get_data(as_text=True)
    assert _on_disk(app) == "https://signs.example.com"


def test_the_cloud_has_no_such_page(make_app):
    app = make_app(ANTHIAS_MODE="cloud", ANTHIAS_SECRET_KEY=CLOUD_KEY)
    response = app.test_client().get(URL, headers={MARK: "x"})
    assert response.status_code == 404
