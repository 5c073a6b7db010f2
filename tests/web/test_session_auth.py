"""Sign-in with a session cookie and CSRF, next to HTTP Basic for scripts (Flask client)."""

from __future__ import annotations

import re

import pytest

from anthias_edge.settings import Settings
from tests.helpers import basic, v2_asset
from tests.services.conftest import Clock

CREDENTIALS = {"auth_backend": "auth_basic", "username": "admin", "password": "pw",
               "password_2": "pw"}


def token_of(page: str) -> str:
    """The CSRF token a page carries, from its meta tag or hidden field."""
    match = re.search(r'name="csrf-token" content="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page)
    assert match, "the page carries no CSRF token"
    return match.group(1)


@pytest.fixture
def protected(client):
    """A client of a device with auth on (admin / pw), not signed in."""
    assert client.patch("/api/v2/device_settings", json=CREDENTIALS).status_code == 200
    return client


def sign_in(client, username="admin", password="pw", **request):
    """Fetch the form, then post it with its token."""
    token = token_of(client.get("/login", **request).get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": token, "next": "/settings"}, **request)


def test_a_secret_key_is_generated_and_saved_on_first_start(app, home):
    saved = Settings.load(home, {})["django_secret_key"]
    assert len(saved) >= 40
    assert app.secret_key == saved


def test_the_saved_secret_key_is_reused_on_the_next_start(make_app, home):
    first = make_app().secret_key
    assert make_app().secret_key == first


def test_pages_open_without_sign_in_when_auth_is_off(client):
    for path in ("/", "/settings", "/system-info"):
        response = client.get(path)
        assert response.status_code == 200
        assert 'name="csrf-token"' in response.get_data(as_text=True)


def test_a_browser_without_credentials_is_sent_to_the_sign_in_page(protected):
    response = protected.get("/settings")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/settings"


def test_scripts_still_get_anthias_exact_401_from_the_api(protected):
    response = protected.get("/api/v2/assets")
    assert response.status_code == 401
    assert response.get_data(as_text=True) == "Access denied"
    assert response.headers["WWW-Authenticate"] == 'Basic realm="Anthias "'


def test_pages_accept_basic_credentials_and_refuse_wrong_ones(protected):
    assert protected.get("/", headers=basic("admin", "pw")).status_code == 200
    wrong = protected.get("/", headers=basic("admin", "nope"))
    assert wrong.status_code == 401
    assert wrong.get_data(as_text=True) == "Access denied"


def test_signing_in_sets_an_httponly_samesite_session_and_opens_pages_and_api(protected):
    response = sign_in(protected)
    assert response.status_code == 302
    assert response.headers["Location"] == "/settings"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert protected.get("/").status_code == 200
    assert protected.get("/api/v2/assets").status_code == 200


def test_the_cookie_is_secure_when_the_request_is_https(protected):
    token = token_of(protected.get("/login", base_url="https://localhost").get_data(as_text=True))
    response = protected.post("/login", base_url="https://localhost", data={
        "username": "admin", "password": "pw", "csrf_token": token})
    assert response.status_code == 302
    assert "Secure" in response.headers["Set-Cookie"]


def test_a_wrong_password_shows_a_clear_message_and_no_session(protected):
    response = sign_in(protected, password="wrong")
    assert response.status_code == 401
    assert "do not match" in response.get_data(as_text=True)
    assert protected.get("/").status_code == 302


def test_the_sign_in_form_itself_needs_its_csrf_token(protected):
    protected.get("/login")
    response = protected.post("/login", data={"username": "admin", "password": "pw"})
    assert response.status_code == 403
    assert "expired" in response.get_data(as_text=True)
    assert protected.get("/").status_code == 302


def test_writes_with_the_session_need_the_csrf_token(protected):
    sign_in(protected)
    refused = protected.post("/api/v2/assets", json=v2_asset())
    assert refused.status_code == 403
    assert "security token" in refused.get_data(as_text=True)
    wrong = protected.post("/api/v2/assets", json=v2_asset(), headers={"X-CSRFToken": "nope"})
    assert wrong.status_code == 403
    assert protected.get("/api/v2/assets").get_json() == []
    token = token_of(protected.get("/").get_data(as_text=True))
    created = protected.post("/api/v2/assets", json=v2_asset(), headers={"X-CSRFToken": token})
    assert created.status_code == 201
    assert [a["name"] for a in protected.get("/api/v2/assets").get_json()] == ["Anthias"]


def test_basic_auth_writes_need_no_csrf_token(protected):
    created = protected.post("/api/v2/assets", json=v2_asset(), headers=basic("admin", "pw"))
    assert created.status_code == 201


def test_our_pages_get_a_401_without_a_browser_prompt(protected):
    response = protected.get("/api/v2/assets", headers={"X-CSRFToken": "x"})
    assert response.status_code == 401
    assert "WWW-Authenticate" not in response.headers


def test_signing_out_ends_the_session_and_needs_the_token(protected):
    sign_in(protected)
    token = token_of(protected.get("/").get_data(as_text=True))
    assert protected.post("/logout").status_code == 403
    assert protected.get("/").status_code == 200
    response = protected.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert protected.get("/").status_code == 302
    assert protected.get("/api/v2/assets").status_code == 401


def test_changing_the_password_signs_every_session_out(protected):
    sign_in(protected)
    token = token_of(protected.get("/").get_data(as_text=True))
    changed = protected.patch("/api/v2/device_settings", headers={"X-CSRFToken": token}, json={
        "current_password": "pw", "password": "new", "password_2": "new"})
    assert changed.status_code == 200
    assert protected.get("/").status_code == 302
    assert protected.get("/api/v2/assets", headers=basic("admin", "new")).status_code == 200


def test_the_sign_in_page_never_sends_people_to_another_site(protected):
    token = token_of(protected.get("/login").get_data(as_text=True))
    response = protected.post("/login", data={"username": "admin", "password": "pw",
                                              "csrf_token": token, "next": "//evil.example/"})
    assert response.headers["Location"] == "/"


def test_the_splash_page_shows_a_qr_code_without_sign_in(protected, monkeypatch):
    monkeypatch.setenv("MY_IP", "192.0.2.10")
    # Listening beyond loopback on port 80: the address opens the dashboard as it is.
    protected.application.extensions["anthias"].settings.update({"listen": "0.0.0.0:80"},
                                                                host_level=True)
    response = protected.get("/splash-page")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<svg" in page and "<path" in page
    assert 'aria-label="QR code that opens http://192.0.2.10"' in page


def test_the_v2_list_answers_304_when_nothing_changed(client):
    first = client.get("/api/v2/assets")
    etag = first.headers["ETag"]
    assert client.get("/api/v2/assets", headers={"If-None-Match": etag}).status_code == 304
    client.post("/api/v2/assets", json=v2_asset())
    changed = client.get("/api/v2/assets", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert "ETag" not in client.get("/api/v1/assets").headers


def test_repeated_wrong_sign_ins_are_slowed_with_a_clear_message(protected, app):
    clock = app.extensions["anthias"].clock = Clock()
    attacker = {"REMOTE_ADDR": "192.0.2.66"}
    for _ in range(5):
        assert sign_in(protected, password="wrong", environ_base=attacker).status_code == 401
    throttled = sign_in(protected, environ_base=attacker)  # even the right password waits
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "1"
    assert "Too many failed sign-in attempts" in throttled.get_data(as_text=True)
    assert protected.get("/").status_code == 302  # no session was started
    clock.advance(seconds=1)
    assert sign_in(protected, password="wrong", environ_base=attacker).status_code == 401
    assert sign_in(protected, environ_base=attacker).headers["Retry-After"] == "2"
    clock.advance(seconds=2)
    assert sign_in(protected, environ_base=attacker).status_code == 302


def test_the_owner_signs_in_from_a_clean_address_while_another_is_slowed(protected, app):
    app.extensions["anthias"].clock = Clock()
    for _ in range(5):
        sign_in(protected, password="wrong", environ_base={"REMOTE_ADDR": "192.0.2.66"})
    response = sign_in(protected, environ_base={"REMOTE_ADDR": "192.0.2.10"})
    assert response.status_code == 302
    assert protected.get("/").status_code == 200
