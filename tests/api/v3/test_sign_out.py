"""``POST /api/v3/auth/logout`` ends the session's access tokens on every worker at once."""

from __future__ import annotations

from tests.api.v3.conftest import World


def _status(client, access_token: str) -> int:
    return client.get("/api/v3/assets",
                      headers={"Authorization": f"Bearer {access_token}"}).status_code


def test_an_access_token_is_refused_right_after_sign_out(world: World):
    first = world.login("alpha-owner", "alpha").get_json()
    second = world.client.post("/api/v3/auth/refresh",
                               json={"refresh_token": first["refresh_token"]}).get_json()
    other = world.login("alpha-owner", "alpha").get_json()
    assert _status(world.client, first["access_token"]) == 200
    out = world.client.post("/api/v3/auth/logout",
                            json={"refresh_token": second["refresh_token"]})
    assert out.status_code == 204
    for token in (first["access_token"], second["access_token"]):
        response = world.client.get("/api/v3/assets",
                                    headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401
        assert response.get_json()["error"]["code"] == "token_invalid"
    assert _status(world.client, other["access_token"]) == 200


def test_a_sign_out_on_one_worker_is_refused_by_another_at_once(world: World, make_app):
    """Two apps on one database stand for two workers: nothing is cached per worker."""
    other_worker = make_app().test_client()
    pair = world.login("alpha-owner", "alpha").get_json()
    assert _status(other_worker, pair["access_token"]) == 200  # it has read the key
    world.client.post("/api/v3/auth/logout", json={"refresh_token": pair["refresh_token"]})
    assert _status(other_worker, pair["access_token"]) == 401
