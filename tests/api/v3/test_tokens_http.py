"""Access, refresh and API tokens over HTTP: every way a token can be wrong is a 401."""

from __future__ import annotations

import base64
import datetime as dt
import json

import jwt
import pytest

from anthias_edge.models import RefreshToken, SigningKey
from tests.api.v3.conftest import PASSWORD, World


def _get(world: World, token: str, path: str = "/api/v3/assets"):
    return world.client.get(path, headers={"Authorization": f"Bearer {token}"})


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def _key(world: World, kid: str) -> bytes:
    with world.db():
        row = SigningKey.get_by_id(kid)
        return base64.urlsafe_b64decode(world.runtime.auth.access_tokens.box.decrypt(
            row.secret_encrypted))


def _forge(world: World, token: str, **changes) -> str:
    kid = jwt.get_unverified_header(token)["kid"]
    payload = {**_claims(token), **changes}
    return jwt.encode(payload, _key(world, kid), algorithm="HS256", headers={"kid": kid})


def _assert_401(response) -> None:
    assert response.status_code == 401, response.get_data(as_text=True)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json()["error"]["code"] == "token_invalid"


def test_a_login_answers_a_bearer_pair_that_opens_the_api(world: World):
    response = world.login("alpha-owner", "alpha")
    body = response.get_json()
    assert response.status_code == 200
    assert body["token_type"] == "Bearer" and body["role"] == "owner"
    assert body["tenant_id"] == world.a and 0 < body["expires_in"] <= 900
    assert response.headers["Cache-Control"] == "no-store"
    assert _get(world, body["access_token"]).status_code == 200


def test_wrong_password_and_unknown_user_get_the_same_401(world: World):
    wrong = world.login("alpha-owner", "alpha", password="not the password")
    unknown = world.login("nobody", "alpha")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json() == unknown.get_json()


def test_repeated_failures_are_throttled_with_retry_after(world: World):
    for _ in range(5):
        assert world.login("alpha-owner", "alpha", password="bad password").status_code == 401
    response = world.login("alpha-owner", "alpha")
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert response.get_json()["error"]["code"] == "too_many_attempts"


def _from(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


def test_behind_a_trusted_proxy_one_client_failing_for_many_users_blocks_no_one(make_world):
    world = make_world(ANTHIAS_TRUSTED_PROXIES="127.0.0.1")  # the test client's address
    for n in range(20):
        assert world.login(f"guess{n}", "alpha", password="bad", **_from("203.0.113.5")
                           ).status_code == 401
    assert world.login("alpha-owner", "alpha", **_from("198.51.100.7")).status_code == 200


def test_behind_a_trusted_proxy_the_owner_signs_in_while_an_attacker_is_slowed(make_world):
    world = make_world(ANTHIAS_TRUSTED_PROXIES="127.0.0.1")
    for _ in range(5):
        world.login("alpha-owner", "alpha", password="bad", **_from("203.0.113.5"))
    assert world.login("alpha-owner", "alpha", **_from("203.0.113.5")).status_code == 429
    assert world.login("alpha-owner", "alpha", **_from("198.51.100.7")).status_code == 200


@pytest.mark.parametrize("trusted", [{}, {"ANTHIAS_TRUSTED_PROXIES": "10.0.0.1"}])
def test_forwarded_for_from_an_untrusted_peer_is_ignored(make_world, trusted):
    world = make_world(**trusted)
    for n in range(5):  # a new spoofed address every time
        world.login("alpha-owner", "alpha", password="bad", **_from(f"203.0.113.{n}"))
    response = world.login("alpha-owner", "alpha", **_from("198.51.100.7"))
    assert response.status_code == 429, response.get_json()


def test_an_expired_access_token_is_refused(world: World):
    token = world.token("owner")
    _assert_401(_get(world, _forge(world, token, exp=_claims(token)["iat"] - 60)))


def test_a_token_not_yet_valid_is_refused(world: World):
    token = world.token("owner")
    _assert_401(_get(world, _forge(world, token, nbf=_claims(token)["iat"] + 3600)))


def test_wrong_audience_or_issuer_is_refused(world: World):
    token = world.token("owner")
    _assert_401(_get(world, _forge(world, token, aud="someone-else")))
    _assert_401(_get(world, _forge(world, token, iss="evil")))


def test_a_tampered_signature_is_refused(world: World):
    token = world.token("owner")
    head, payload, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    _assert_401(_get(world, f"{head}.{payload}.{flipped}"))


def test_a_tampered_payload_is_refused(world: World):
    token = world.token("viewer")
    head, _payload, signature = token.split(".")
    claims = {**_claims(token), "role": "owner"}
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    _assert_401(_get(world, f"{head}.{forged}.{signature}"))


def test_alg_none_is_refused(world: World):
    token = world.token("owner")
    unsigned = jwt.encode(_claims(token), None, algorithm="none",
                          headers={"kid": jwt.get_unverified_header(token)["kid"]})
    _assert_401(_get(world, unsigned))


def test_an_unknown_kid_is_refused(world: World):
    token = world.token("owner")
    kid = jwt.get_unverified_header(token)["kid"]
    forged = jwt.encode(_claims(token), _key(world, kid), algorithm="HS256",
                        headers={"kid": "no-such-key"})
    _assert_401(_get(world, forged))


def test_the_role_comes_from_the_database_not_the_token(world: World):
    token = world.token("owner")
    # A correctly signed token claiming owner for a viewer still only gets viewer rights.
    viewer = world.users[(world.a, "viewer")]
    forged = _forge(world, token, sub=viewer, role="owner")
    assert world.client.get("/api/v3/users", headers={
        "Authorization": f"Bearer {forged}"}).status_code == 403


def test_refresh_rotates_and_reuse_revokes_the_whole_family(world: World):
    first = world.login("alpha-owner", "alpha").get_json()["refresh_token"]
    rotated = world.client.post("/api/v3/auth/refresh", json={"refresh_token": first})
    second = rotated.get_json()["refresh_token"]
    assert rotated.status_code == 200 and second != first
    reuse = world.client.post("/api/v3/auth/refresh", json={"refresh_token": first})
    _assert_401(reuse)
    after = world.client.post("/api/v3/auth/refresh", json={"refresh_token": second})
    _assert_401(after)
    with world.db():
        live = RefreshToken.select().where(RefreshToken.revoked_at.is_null()).count()
    assert live == 0


def test_logout_ends_the_session(world: World):
    refresh = world.login("alpha-owner", "alpha").get_json()["refresh_token"]
    out = world.client.post("/api/v3/auth/logout", json={"refresh_token": refresh})
    assert out.status_code == 204
    _assert_401(world.client.post("/api/v3/auth/refresh", json={"refresh_token": refresh}))


def test_an_api_token_is_limited_to_its_own_permissions(world: World):
    _id, secret = world.api_token(world.a, ["assets.view"])
    assert _get(world, secret).status_code == 200
    created = world.client.post("/api/v3/assets", headers={"Authorization": f"Bearer {secret}"},
                                json={"name": "x", "uri": "https://example.com/",
                                      "mimetype": "webpage", "skip_asset_check": True})
    assert created.status_code == 403


def test_a_token_never_gets_more_permissions_than_its_creator(world: World):
    admin = world.auth("admin")
    beyond = world.client.post("/api/v3/tokens", headers=admin, json={
        "name": "too much", "permissions": ["billing.manage"]})
    assert beyond.status_code == 403
    assert beyond.get_json()["error"]["details"] == {"permissions": ["billing.manage"]}
    made = world.client.post("/api/v3/tokens", headers=admin, json={
        "name": "ok", "permissions": ["assets.view", "tokens.manage"]})
    assert made.status_code == 201
    secret = made.get_json()["token"]
    # A token holding tokens.manage cannot mint one with more than it holds either.
    escalate = world.client.post("/api/v3/tokens", headers={
        "Authorization": f"Bearer {secret}"}, json={"name": "x", "permissions":
                                                     ["assets.delete"]})
    assert escalate.status_code == 403


def test_a_token_loses_what_its_creator_loses(world: World):
    editor = world.users[(world.a, "editor")]
    with world.db():
        token, secret = world.runtime.auth.create_api_token(world.a, editor, "ci",
                                                            ["assets.create", "assets.view"])
        world.service(world.a).update_user(editor, role="viewer")
    created = world.client.post("/api/v3/assets", headers={"Authorization": f"Bearer {secret}"},
                                json={"name": "x", "uri": "https://example.com/",
                                      "mimetype": "webpage", "skip_asset_check": True})
    assert created.status_code == 403
    assert token.id


def test_a_revoked_or_expired_api_token_is_refused(world: World):
    token_id, secret = world.api_token(world.a)
    deleted = world.client.delete(f"/api/v3/tokens/{token_id}", headers=world.auth("owner"))
    assert deleted.status_code == 204
    _assert_401(_get(world, secret))
    with world.db():
        token, expiring = world.runtime.auth.create_api_token(
            world.a, world.users[(world.a, "owner")], "short", ["assets.view"],
            dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(seconds=30))
    world.runtime.clock = lambda: dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(
        minutes=5)
    _assert_401(_get(world, expiring))
    assert token.name == "short"


def test_the_token_list_never_shows_secrets(world: World):
    _id, secret = world.api_token(world.a)
    listed = world.client.get("/api/v3/tokens", headers=world.auth("owner"))
    assert listed.status_code == 200
    assert secret not in listed.get_data(as_text=True)
    assert PASSWORD not in listed.get_data(as_text=True)
