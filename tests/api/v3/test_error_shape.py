"""The v3 error body is locked: {"error": {"code", "message", "details"}} for every failure."""

from __future__ import annotations

import hashlib

import pytest

from anthias_edge.errors import ValidationError
from anthias_edge.services.audit import list_entries
from anthias_edge.services.auth.passwords import Passwords, legacy_sha256_hash
from tests.api.v3.conftest import World

SHAPE = {"code", "message", "details"}


def test_domain_routing_and_method_errors_share_one_shape(world: World):
    answers = [
        world.client.get("/api/v3/assets"),                                   # 401
        world.client.get("/api/v3/users", headers=world.auth("viewer")),      # 403
        world.client.get("/api/v3/assets/nope", headers=world.auth()),        # 404
        world.client.get("/api/v3/no-such-url"),                              # routing 404
        world.client.put("/api/v3/audit-log", headers=world.auth()),          # 405
        world.client.post("/api/v3/assets", headers=world.auth(), json=[]),   # 400
        world.client.post("/api/v3/assets", headers=world.auth(), data="{",
                          content_type="application/json"),                 # malformed
    ]
    assert [a.status_code for a in answers] == [401, 403, 404, 404, 405, 400, 400]
    for answer in answers:
        assert answer.mimetype == "application/json"
        assert set(answer.get_json()) == {"error"}
        assert set(answer.get_json()["error"]) == SHAPE


def test_an_unexpected_failure_is_a_generic_500(world: World, monkeypatch):
    def boom(*_args, **_kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("anthias_edge.api.v3.assets.list_page", boom)
    world.app.config["PROPAGATE_EXCEPTIONS"] = False
    response = world.client.get("/api/v3/assets", headers=world.auth())
    assert response.status_code == 500
    assert response.get_json() == {"error": {"code": "internal_error",
                                             "message": "Internal error.", "details": None}}


def test_the_legacy_sha256_scheme_verifies_and_asks_for_a_rehash():
    passwords = Passwords(time_cost=1, memory_cost=8, parallelism=1)
    stored = legacy_sha256_hash(hashlib.sha256(b"raspberry").hexdigest())
    assert passwords.verify(stored, "raspberry")
    assert not passwords.verify(stored, "raspberri")
    assert not passwords.verify("sha256$short", "raspberry")
    assert passwords.needs_rehash(stored)


def test_nul_characters_are_refused_before_they_reach_the_database(world: World):
    path = world.client.get("/api/v3/assets/a%00b", headers=world.auth())
    body = world.client.post("/api/v3/users", headers=world.auth(), json={
        "username": "a\x00b", "password": "long enough", "role": "viewer"})
    header = world.client.get("/api/v3/tenant", headers={**world.auth(),
                                                         "X-Tenant-ID": "al\x00pha"})
    assert path.status_code == 404 and body.status_code == 400
    assert header.get_json()["error"]["code"] == "tenant_mismatch"


def test_an_audit_cursor_too_large_for_the_database_is_a_400(make_app):
    """Found by schemathesis: a huge cursor reached SQLite and became a 500."""
    app = make_app()
    with app.extensions["anthias"].database.connection_context():
        for cursor in ("63840258253885069395", "\uff19", "-1"):
            with pytest.raises(ValidationError) as caught:
                list_entries("any-tenant", 10, cursor)
            assert caught.value.field_errors == {"cursor": ["Invalid cursor."]}
