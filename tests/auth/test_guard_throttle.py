"""The device's HTTP Basic auth slows password guessing per address, never locking the owner out."""

from __future__ import annotations

import pytest

from anthias_edge.api.legacy.list_fast_path import ListFastPath
from tests.helpers import basic, v2_asset
from tests.services.conftest import Clock

ATTACKER = {"REMOTE_ADDR": "192.0.2.66"}
OWNER = {"REMOTE_ADDR": "192.0.2.10"}
SHA256_OF_SECRET = "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b"


@pytest.fixture
def device(make_app):
    """A device with Basic auth on (admin / secret) and a clock the test moves."""
    app = make_app(ANTHIAS_AUTH_BACKEND="auth_basic", ANTHIAS_USER="admin",
                   ANTHIAS_PASSWORD=SHA256_OF_SECRET, ANTHIAS_PLAYER_NAME="Lobby")
    app.extensions["anthias"].clock = Clock()
    return app


def get(app, credentials, where, path="/api/v2/assets"):
    return app.test_client().get(path, headers=basic(*credentials), environ_base=where)


def guess(app, where, times=1):
    for _ in range(times):
        response = get(app, ("admin", "wrong"), where)
        assert response.status_code == 401
        assert response.get_data(as_text=True) == "Access denied"


def assert_throttled(response) -> int:
    assert response.status_code == 429
    assert response.get_data(as_text=True) == "Too many failed attempts. Try again later."
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "WWW-Authenticate" not in response.headers
    return int(response.headers["Retry-After"])


def test_after_five_wrong_passwords_the_next_try_is_429_even_with_the_right_one(device):
    guess(device, ATTACKER, times=5)
    assert assert_throttled(get(device, ("admin", "secret"), ATTACKER)) == 1


def test_the_waits_grow_with_each_further_failure(device):
    clock = device.extensions["anthias"].clock
    guess(device, ATTACKER, times=5)
    waits = [assert_throttled(get(device, ("admin", "wrong"), ATTACKER))]
    for _ in range(3):
        clock.advance(seconds=waits[-1])
        guess(device, ATTACKER)
        waits.append(assert_throttled(get(device, ("admin", "wrong"), ATTACKER)))
    assert waits == [1, 2, 4, 8]
    clock.advance(seconds=8)
    assert get(device, ("admin", "secret"), ATTACKER).status_code == 200


def test_the_owner_still_gets_in_from_a_clean_address_during_an_attack(device):
    guess(device, ATTACKER, times=5)
    assert get(device, ("admin", "secret"), OWNER).status_code == 200
    assert get(device, ("admin", "secret"), OWNER, path="/").status_code == 200


def test_guessing_the_user_name_too_does_not_dodge_the_count(device):
    for n in range(5):
        response = get(device, (f"user{n}", "wrong"), ATTACKER)
        assert response.status_code == 401
    assert_throttled(get(device, ("admin", "secret"), ATTACKER))


def test_requests_without_credentials_are_not_counted(device):
    client = device.test_client()
    for _ in range(10):
        assert client.get("/api/v2/assets", environ_base=ATTACKER).status_code == 401
    assert get(device, ("admin", "secret"), ATTACKER).status_code == 200


def test_the_web_ui_gets_the_429_too(device):
    guess(device, ATTACKER, times=5)
    response = device.test_client().get(
        "/api/v2/assets", headers={**basic("admin", "secret"), "X-CSRFToken": "x"},
        environ_base=ATTACKER)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1


@pytest.mark.sqlite_only  # the render cache (and so the fast path) needs SQLite
def test_the_cached_asset_list_is_not_a_way_around_the_throttle(device):
    good = ("admin", "secret")
    assert isinstance(device.wsgi_app.app, ListFastPath)  # inside the gzip middleware
    device.test_client().post("/api/v2/assets", json=v2_asset(), headers=basic(*good))
    assert get(device, good, ATTACKER).status_code == 200  # builds the cache
    assert get(device, good, ATTACKER).status_code == 200  # served from it
    guess(device, ATTACKER, times=5)
    assert_throttled(get(device, good, ATTACKER))
    assert get(device, good, OWNER).status_code == 200
