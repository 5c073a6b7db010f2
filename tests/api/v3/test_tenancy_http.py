"""Tenant resolution: the token decides; host and X-Tenant-ID may only agree with it."""

from __future__ import annotations

import pytest

from anthias_edge.models import Tenant
from tests.api.v3.conftest import World


def test_an_x_tenant_id_naming_another_tenant_is_a_mismatch(world: World):
    response = world.client.get("/api/v3/assets", headers={
        **world.auth("owner"), "X-Tenant-ID": world.b})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "tenant_mismatch"


def test_an_x_tenant_id_naming_no_tenant_is_a_mismatch(world: World):
    response = world.client.get("/api/v3/assets", headers={
        **world.auth("owner"), "X-Tenant-ID": "nowhere"})
    assert response.get_json()["error"]["code"] == "tenant_mismatch"


@pytest.mark.parametrize("value", ["alpha", "ALPHA"])
def test_an_x_tenant_id_that_agrees_by_id_or_subdomain_is_fine(world: World, value: str):
    by_sub = world.client.get("/api/v3/tenant", headers={**world.auth(), "X-Tenant-ID": value})
    by_id = world.client.get("/api/v3/tenant", headers={**world.auth(), "X-Tenant-ID": world.a})
    assert by_sub.status_code == by_id.status_code == 200
    assert by_sub.get_json()["id"] == world.a


def test_a_subdomain_host_must_match_the_token(world: World):
    world.app.config["ANTHIAS_BASE_DOMAIN"] = "example.com"
    own = world.client.get("/api/v3/tenant", headers=world.auth(),
                           base_url="http://alpha.example.com")
    other = world.client.get("/api/v3/tenant", headers=world.auth(),
                             base_url="http://beta.example.com:8080")
    unknown = world.client.get("/api/v3/tenant", headers=world.auth(),
                               base_url="http://gamma.example.com")
    bare = world.client.get("/api/v3/tenant", headers=world.auth(),
                            base_url="http://example.com")
    assert own.status_code == 200 and bare.status_code == 200
    assert other.status_code == unknown.status_code == 403
    assert other.get_json()["error"]["code"] == "tenant_mismatch"


def test_a_login_on_a_subdomain_needs_no_tenant_field(world: World):
    world.app.config["ANTHIAS_BASE_DOMAIN"] = "example.com"
    response = world.client.post("/api/v3/auth/token", base_url="http://beta.example.com",
                                 json={"username": "beta-owner",
                                       "password": "correct horse battery"})
    assert response.status_code == 200
    assert response.get_json()["tenant_id"] == world.b


def test_a_login_whose_tenant_disagrees_with_the_host_is_a_mismatch(world: World):
    world.app.config["ANTHIAS_BASE_DOMAIN"] = "example.com"
    response = world.client.post("/api/v3/auth/token", base_url="http://beta.example.com",
                                 json={"username": "alpha-owner", "tenant": "alpha",
                                       "password": "correct horse battery"})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "tenant_mismatch"


def test_a_custom_domain_names_its_tenant(world: World):
    patched = world.client.patch("/api/v3/tenant", headers=world.auth(),
                                 json={"custom_domain": "signs.alpha.test"})
    assert patched.status_code == 200
    own = world.client.get("/api/v3/tenant", headers=world.auth(),
                           base_url="http://signs.alpha.test")
    foreign = world.client.get("/api/v3/tenant", headers=world.auth("owner", world.b),
                               base_url="http://signs.alpha.test")
    assert own.status_code == 200
    assert foreign.get_json()["error"]["code"] == "tenant_mismatch"


def test_an_inactive_tenant_gets_403(world: World):
    headers = world.auth()
    with world.db():
        Tenant.update(is_active=False).where(Tenant.id == world.a).execute()
    response = world.client.get("/api/v3/assets", headers=headers)
    login = world.login("alpha-owner", "alpha")
    assert response.status_code == login.status_code == 403
    assert response.get_json()["error"]["code"] == "tenant_inactive"


def test_the_tenant_shows_limits_and_usage(world: World):
    world.asset(world.a)
    body = world.client.get("/api/v3/tenant", headers=world.auth("viewer")).get_json()
    assert body["limits"] == {"max_assets": 100, "max_devices": 5, "storage_quota_gb": 10}
    assert body["usage"]["assets"] == 1 and body["usage"]["users"] == 4


def test_an_admin_cannot_change_limits_through_the_tenant(world: World):
    response = world.client.patch("/api/v3/tenant", headers=world.auth("admin"),
                                  json={"max_assets": 100000})
    assert response.status_code == 400
    assert "max_assets" in response.get_json()["error"]["details"]


def test_hosts_naming_no_tenant_are_ignored_and_each_naming_source_must_agree(world: World):
    world.app.config["ANTHIAS_BASE_DOMAIN"] = "example.com"

    def source(base_url: str, **headers: str) -> str | int:
        response = world.client.get("/api/v3/tenant", headers={**world.auth(), **headers},
                                    base_url=base_url)
        if response.status_code == 200:
            return 200
        return response.get_json()["error"]["details"]["source"]

    assert source("http://signs.nobody.test") == source("http://10.0.0.1:8080") == 200
    assert source("http://a.alpha.example.com") == "host"
    assert source("http://ALPHA.example.com", **{"X-Tenant-ID": "beta"}) == "header"
    assert source("http://beta.example.com", **{"X-Tenant-ID": "beta"}) == "host"
