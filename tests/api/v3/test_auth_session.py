"""``/api/v3/auth/session``: the console's cookie sign-in, next to the unchanged JSON one."""

from __future__ import annotations

import io
from pathlib import Path

from anthias_edge.api.v3.auth_session import CSRF_COOKIE, REFRESH_COOKIE, SESSION_PATH
from tests.api.v3.conftest import PASSWORD, World


def _sign_in(world: World, role: str = "editor", **kwargs):
    return world.client.post("/api/v3/auth/session", json={
        "username": world.usernames[(world.a, role)], "password": PASSWORD,
        "tenant": world.a}, **kwargs)


def _set_cookies(response) -> dict[str, str]:
    return {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}


def _csrf(world: World) -> dict[str, str]:
    return {"X-CSRF-Token": world.client.get_cookie(CSRF_COOKIE).value}


def test_a_session_answers_the_access_token_and_keeps_the_refresh_token_in_a_cookie(
        world: World):
    response = _sign_in(world)

    body = response.get_json()
    assert response.status_code == 200
    assert set(body) == {"access_token", "token_type", "expires_in", "tenant_id", "role"}
    refresh = _set_cookies(response)[REFRESH_COOKIE]
    assert f"Path={SESSION_PATH}" in refresh and "HttpOnly" in refresh
    assert "SameSite=Strict" in refresh and "Secure" not in refresh
    assert "HttpOnly" not in _set_cookies(response)[CSRF_COOKIE]  # the page must read it


def test_over_https_both_cookies_are_secure(world: World):
    response = _sign_in(world, base_url="https://localhost")

    assert all("; Secure" in cookie for cookie in _set_cookies(response).values())


def test_the_json_login_is_unchanged_and_sets_no_cookie(world: World):
    response = world.login(world.usernames[(world.a, "editor")], world.a)

    assert "refresh_token" in response.get_json()
    assert response.headers.getlist("Set-Cookie") == []


def test_refresh_rotates_the_cookie_and_needs_the_csrf_token(world: World):
    _sign_in(world)
    first = world.client.get_cookie(REFRESH_COOKIE, path=SESSION_PATH).value

    refused = world.client.post("/api/v3/auth/session/refresh",
                                headers={"X-CSRF-Token": "guessed"})
    renewed = world.client.post("/api/v3/auth/session/refresh", headers=_csrf(world))

    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "csrf_token_invalid"
    assert renewed.status_code == 200
    assert world.client.get_cookie(REFRESH_COOKIE, path=SESSION_PATH).value != first
    me = world.client.get("/api/v3/auth/me", headers={
        "Authorization": f"Bearer {renewed.get_json()['access_token']}"}).get_json()
    assert me["user"]["username"] == world.usernames[(world.a, "editor")]
    assert me["user"]["role"] == "editor" and "assets.edit" in me["user"]["permissions"]
    assert me["tenant"]["id"] == world.a


def test_signing_out_ends_every_session_of_the_user_and_no_other(world: World):
    other_device = world.login(world.usernames[(world.a, "editor")], world.a).get_json()
    colleague = world.login(world.usernames[(world.a, "viewer")], world.a).get_json()
    _sign_in(world)

    out = world.client.post("/api/v3/auth/session/logout", headers=_csrf(world))

    assert out.status_code == 204
    assert world.client.get_cookie(REFRESH_COOKIE, path=SESSION_PATH) is None
    ended = world.client.get("/api/v3/assets", headers={
        "Authorization": f"Bearer {other_device['access_token']}"})
    assert ended.status_code == 401
    assert world.client.post("/api/v3/auth/refresh", json={
        "refresh_token": other_device["refresh_token"]}).status_code == 401
    still = world.client.get("/api/v3/assets", headers={
        "Authorization": f"Bearer {colleague['access_token']}"})
    assert still.status_code == 200


def test_a_chunked_upload_lands_in_the_tenants_folder(world: World):
    data = b"\x89PNG\r\n\x1a\n" + b"x" * 92
    sent = []
    for start in (0, 50):
        sent.append(world.client.post(
            "/api/v3/uploads", headers={**world.auth("editor"), "X-Upload-Id": "u1",
                                        "Content-Range": f"bytes {start}-{start + 49}/100"},
            data={"file": (io.BytesIO(data[start:start + 50]), "shop.png")},
            content_type="multipart/form-data"))

    assert [r.get_json()["complete"] for r in sent] == [False, True]
    uri = sent[-1].get_json()["uri"]
    created = world.client.post("/api/v3/assets", headers=world.auth("editor"), json={
        "name": "shop", "uri": uri, "mimetype": "image", "skip_asset_check": True})
    assert created.status_code == 201, created.get_json()
    stored = Path(created.get_json()["uri"])
    assert stored.resolve().parent == world.runtime.media_dir(world.a).resolve()
    assert stored.read_bytes() == data


def test_a_viewer_may_not_upload(world: World):
    response = world.client.post(
        "/api/v3/uploads", headers=world.auth("viewer"),
        data={"file": (io.BytesIO(b"x"), "a.png")}, content_type="multipart/form-data")

    assert response.status_code == 403
