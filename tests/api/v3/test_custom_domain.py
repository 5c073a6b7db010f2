"""A tenant's custom domain may not be a host that names the cloud itself or another tenant."""

from __future__ import annotations

import pytest

from tests.api.v3.conftest import World


@pytest.fixture
def cloud_hosts(world: World) -> World:
    """The world with base domain example.com; beta already owns signs.beta.test."""
    world.app.config["ANTHIAS_BASE_DOMAIN"] = "example.com"
    taken = world.client.patch("/api/v3/tenant", headers=world.auth("owner", world.b),
                               json={"custom_domain": "signs.beta.test"})
    assert taken.status_code == 200
    return world


def _set(world: World, domain: str):
    return world.client.patch("/api/v3/tenant", headers=world.auth("admin"),
                              json={"custom_domain": domain})


@pytest.mark.parametrize("domain", ["example.com", "beta.example.com", "alpha.example.com",
                                    "nobody-yet.example.com", "x.beta.example.com"])
def test_the_base_domain_and_every_name_under_it_are_refused(cloud_hosts: World, domain: str):
    response = _set(cloud_hosts, domain)
    assert response.status_code == 400, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    assert "example.com" in error["details"]["custom_domain"][0]
    shown = cloud_hosts.client.get("/api/v3/tenant", headers=cloud_hosts.auth()).get_json()
    assert shown["custom_domain"] is None


def test_another_tenants_custom_domain_is_a_conflict(cloud_hosts: World):
    response = _set(cloud_hosts, "signs.beta.test")
    assert response.status_code == 409
    assert response.get_json()["error"]["details"] == {"field": "custom_domain"}


def test_a_domain_of_its_own_is_accepted_and_names_the_tenant(cloud_hosts: World):
    assert _set(cloud_hosts, "signs.alpha.test").status_code == 200
    own = cloud_hosts.client.get("/api/v3/tenant", headers=cloud_hosts.auth(),
                                 base_url="http://signs.alpha.test")
    assert own.get_json()["custom_domain"] == "signs.alpha.test"
    assert _set(cloud_hosts, None).status_code == 200  # and it can be removed
