"""Legacy v1-v2 on a tenant's subdomain in cloud mode: Basic auth per tenant, per permission."""

from __future__ import annotations

import pytest

from tests.cloud.conftest import BASE_DOMAIN
from tests.helpers import basic

pytestmark = pytest.mark.postgres

PASSWORD = "correct horse battery"
# The Authorization headers of the tenants' users, with the right password.
ALICE = basic("alice", PASSWORD)
GINA = basic("gina", PASSWORD)
VICTOR = basic("victor", PASSWORD)
PAGE = {"name": "Page", "uri": "https://example.org/", "mimetype": "webpage", "duration": 10,
        "start_date": "2024-01-01T00:00:00Z", "end_date": "2099-01-01T00:00:00Z",
        "is_enabled": 1, "skip_asset_check": 1, "nocache": 0, "play_order": 0}


def on(sub: str) -> dict[str, str]:
    """Request keyword arguments for the tenant's subdomain."""
    return {"base_url": f"http://{sub}.{BASE_DOMAIN}"}


@pytest.fixture
def two_tenants(make_tenant):
    """acme (alice owner, victor viewer) and globex (gina owner), one asset each."""
    acme = make_tenant("acme", "alice", PASSWORD, {"victor": "viewer"})
    globex = make_tenant("globex", "gina", PASSWORD)
    return acme, globex


def test_each_tenant_lists_only_its_own_assets_on_its_subdomain(cloud_app, two_tenants):
    client = cloud_app.test_client()
    made_acme = client.post("/api/v2/assets", json={**PAGE, "name": "Acme page"},
                            headers=ALICE, **on("acme"))
    made_globex = client.post("/api/v2/assets", json={**PAGE, "name": "Globex page"},
                              headers=GINA, **on("globex"))

    acme = client.get("/api/v2/assets", headers=ALICE, **on("acme"))
    globex = client.get("/api/v2/assets", headers=GINA, **on("globex"))

    assert (made_acme.status_code, made_globex.status_code) == (201, 201)
    assert [a["name"] for a in acme.get_json()] == ["Acme page"]
    assert [a["name"] for a in globex.get_json()] == ["Globex page"]
    # Another tenant's asset is answered exactly like one that does not exist (Anthias's
    # legacy answer to an unknown id is its 500, docs/legacy-api.md Q0).
    other_id = made_globex.get_json()["asset_id"]
    crossed = client.get(f"/api/v2/assets/{other_id}", headers=ALICE, **on("acme"))
    unknown = client.get("/api/v2/assets/" + "0" * 32, headers=ALICE, **on("acme"))
    assert crossed.status_code == unknown.status_code != 200
    assert "Globex" not in crossed.get_data(as_text=True)


def test_another_tenants_credentials_on_this_subdomain_get_the_device_401(cloud_app, two_tenants):
    response = cloud_app.test_client().get("/api/v2/assets", headers=GINA, **on("acme"))

    assert response.status_code == 401
    assert response.get_data(as_text=True) == "Access denied"
    assert response.headers["WWW-Authenticate"] == 'Basic realm="Anthias Acme"'


@pytest.mark.parametrize("headers", [{}, basic("alice", "wrong password")])
def test_no_or_wrong_credentials_get_the_401(cloud_app, two_tenants, headers):
    response = cloud_app.test_client().get("/api/v1.2/assets", headers=headers, **on("acme"))

    assert response.status_code == 401
    assert response.get_data(as_text=True) == "Access denied"


def test_an_unknown_subdomain_gets_the_same_401_as_a_wrong_password(cloud_app, two_tenants):
    response = cloud_app.test_client().get("/api/v2/assets", headers=ALICE,
                                           **on("initech"))

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Basic realm="Anthias"'


def test_a_viewer_may_read_but_not_write(cloud_app, two_tenants):
    client = cloud_app.test_client()

    listed = client.get("/api/v2/assets", headers=VICTOR, **on("acme"))
    created = client.post("/api/v2/assets", json=PAGE, headers=VICTOR, **on("acme"))

    assert listed.status_code == 200
    assert created.status_code == 403
    assert client.get("/api/v2/assets", headers=ALICE, **on("acme")).get_json() == []


@pytest.mark.parametrize(("method", "path"), [("post", "/api/v2/reboot"),
                                              ("post", "/api/v2/backup"),
                                              ("get", "/api/v2/info"),
                                              ("get", "/api/v1/assets/control/next")])
def test_device_endpoints_are_not_found_in_the_cloud(cloud_app, two_tenants, method, path):
    response = getattr(cloud_app.test_client(), method)(path, headers=ALICE,
                                                        **on("acme"))

    assert response.status_code == 404


def test_a_deactivated_member_is_refused_at_once(cloud_app, two_tenants):
    from anthias_edge.models import TenantUser, User

    client = cloud_app.test_client()
    assert client.get("/api/v2/assets", headers=VICTOR, **on("acme")).status_code == 200
    with cloud_app.extensions["anthias"].database.connection_context():
        victor = User.get(User.username == "victor")
        TenantUser.update(is_active=False).where(TenantUser.user == victor.id).execute()

    response = client.get("/api/v2/assets", headers=VICTOR, **on("acme"))

    assert response.status_code == 401


ATTACKER = {"REMOTE_ADDR": "203.0.113.5"}
OWNER = {"REMOTE_ADDR": "198.51.100.7"}


def test_guessing_is_slowed_per_address_and_the_owner_still_gets_in(cloud_app, two_tenants):
    client = cloud_app.test_client()
    for _ in range(5):
        assert client.get("/api/v2/assets", headers=basic("alice", "wrong"), environ_base=ATTACKER,
                          **on("acme")).status_code == 401
    throttled = client.get("/api/v2/assets", headers=ALICE, environ_base=ATTACKER,
                           **on("acme"))
    assert throttled.status_code == 429
    assert throttled.get_data(as_text=True) == "Too many failed attempts. Try again later."
    assert throttled.headers["Retry-After"] == "1"
    assert client.get("/api/v2/assets", headers=ALICE, environ_base=OWNER,
                      **on("acme")).status_code == 200


def test_a_remembered_password_does_not_skip_the_throttle(cloud_app, two_tenants):
    """The per-worker memo of good passwords must not answer a throttled address."""
    client = cloud_app.test_client()
    assert client.get("/api/v2/assets", headers=ALICE, environ_base=OWNER,
                      **on("acme")).status_code == 200
    for _ in range(5):
        client.get("/api/v2/assets", headers=basic("alice", "wrong"), environ_base=ATTACKER,
                   **on("acme"))
    response = client.get("/api/v2/assets", headers=ALICE, environ_base=ATTACKER,
                          **on("acme"))
    assert response.status_code == 429
