"""GET /api/v3/roles answers the role table, least to most, to anyone."""

from __future__ import annotations

from anthias_edge.permissions import ALL_PERMISSIONS, ROLE_PERMISSIONS
from tests.api.v3.conftest import World


def test_every_member_reads_the_role_table_least_to_most(world: World):
    body = world.client.get("/api/v3/roles", headers=world.auth("viewer")).get_json()
    assert [role["name"] for role in body["roles"]] == ["viewer", "editor", "admin", "owner"]
    for role in body["roles"]:
        assert set(role["permissions"]) == ROLE_PERMISSIONS[role["name"]]
    assert body["permissions"] == sorted(ALL_PERMISSIONS)


def test_the_role_table_is_public_and_the_same_for_every_tenant(world: World):
    anonymous = world.client.get("/api/v3/roles")
    other = world.client.get("/api/v3/roles", headers=world.auth("owner", world.b))
    assert anonymous.status_code == other.status_code == 200
    assert anonymous.get_json() == other.get_json()


def test_an_api_token_without_permissions_beyond_viewing_reads_it_too(world: World):
    _, secret = world.api_token(world.a, ["assets.view"])
    response = world.client.get("/api/v3/roles", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200
    assert response.get_json()["roles"][0]["name"] == "viewer"
