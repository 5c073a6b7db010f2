"""v3 on a device: the local tenant, and the screenly.conf Basic-auth user as its owner."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from anthias_edge.models import Asset, User
from anthias_edge.models.tenant import LOCAL_SUBDOMAIN
from tests.api.v3.conftest import World

SETTINGS_URL = "/api/v2/device_settings"


def _write_conf(home: Path, user: str, password: str) -> None:
    config = home / ".screenly"
    config.mkdir(exist_ok=True)
    digest = hashlib.sha256(password.encode()).hexdigest()
    (config / "screenly.conf").write_text(
        f"[main]\nauth_backend = auth_basic\n\n[auth_basic]\nuser = {user}\n"
        f"password = {digest}\n", encoding="utf-8")


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def _login(world: World, username: str, password: str):
    return world.client.post("/api/v3/auth/token",
                             json={"username": username, "password": password})


def test_the_conf_user_logs_in_to_v3_as_the_local_owner(make_world, home: Path):
    _write_conf(home, "pi", "raspberry pie")
    world = make_world()
    response = _login(world, "pi", "raspberry pie")
    body = response.get_json()
    assert response.status_code == 200, body
    assert body["role"] == "owner" and body["tenant_id"] == world.runtime.local_tenant_id
    with world.db():
        stored = User.get(User.username == "pi").password_hash
    assert stored.startswith("$argon2id$")  # the SHA-256 form was replaced on login
    assert _login(world, "pi", "raspberry pie").status_code == 200


def test_a_wrong_conf_password_is_the_usual_401(make_world, home: Path):
    _write_conf(home, "pi", "raspberry pie")
    world = make_world()
    assert _login(world, "pi", "raspberry").status_code == 401


def test_a_password_changed_through_device_settings_reaches_v3(make_world, home: Path):
    _write_conf(home, "pi", "raspberry pie")
    world = make_world()
    assert _login(world, "pi", "raspberry pie").status_code == 200
    changed = world.client.patch(SETTINGS_URL, headers=_basic("pi", "raspberry pie"), json={
        "auth_backend": "auth_basic", "current_password": "raspberry pie",
        "password": "a new secret", "password_2": "a new secret"})
    assert changed.status_code == 200
    assert _login(world, "pi", "raspberry pie").status_code == 401
    assert _login(world, "pi", "a new secret").status_code == 200


def test_the_device_library_is_the_local_tenant_in_v3(make_world, home: Path):
    _write_conf(home, "pi", "raspberry pie")
    world = make_world()
    created = world.client.post("/api/v2/assets", headers=_basic("pi", "raspberry pie"), json={
        "name": "from v2", "uri": "https://example.com/", "mimetype": "webpage",
        "start_date": "2024-01-01T00:00:00Z", "end_date": "2030-01-01T00:00:00Z",
        "duration": 10, "is_enabled": True, "skip_asset_check": True}).get_json()
    token = _login(world, "pi", "raspberry pie").get_json()["access_token"]
    listed = world.client.get("/api/v3/assets", headers={"Authorization": f"Bearer {token}"})
    assert [item["asset_id"] for item in listed.get_json()["items"]] == [created["asset_id"]]
    with world.db():
        assert Asset.get_by_id(created["asset_id"]).tenant == world.runtime.local_tenant_id


def test_a_device_without_a_login_makes_no_owner(world: World):
    with world.db():
        names = [u.username for u in User.select()]
    assert sorted(names) == sorted(world.usernames.values())
    assert _login(world, "pi", "anything").status_code == 401


def test_a_login_without_a_tenant_on_a_device_means_the_local_one(world: World):
    response = world.client.post("/api/v3/auth/token", json={
        "username": "alpha-owner", "password": "correct horse battery"})
    # alpha-owner is not a member of the local tenant: the usual 401, no hint.
    assert response.status_code == 401
    assert LOCAL_SUBDOMAIN == "local"
