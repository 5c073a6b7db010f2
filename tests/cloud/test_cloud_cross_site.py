"""Cross-site requests in the cloud: another tenant's subdomain is not this tenant's origin."""

from __future__ import annotations

import base64

import pytest

from tests.cloud.conftest import BASE_DOMAIN

pytestmark = pytest.mark.postgres

PASSWORD = "correct horse battery"
FORM = {"name": "planted", "uri": "https://example.org/", "mimetype": "webpage",
        "duration": "10", "start_date": "2024-01-01T00:00:00Z",
        "end_date": "2099-01-01T00:00:00Z", "is_enabled": "1", "skip_asset_check": "1",
        "nocache": "0", "play_order": "0"}
ACME = f"acme.{BASE_DOMAIN}"


def _alice() -> dict[str, str]:
    token = base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.mark.parametrize("browser", [
    {"Origin": f"https://globex.{BASE_DOMAIN}"},  # another tenant's page
    {"Origin": f"https://{BASE_DOMAIN}"},  # the bare base domain
    {"Sec-Fetch-Site": "same-site"},  # any page under the base domain
    {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
])
def test_a_form_post_from_any_other_origin_is_refused_on_a_tenants_subdomain(
        cloud_app, make_tenant, browser):
    make_tenant("acme", "alice", PASSWORD)
    make_tenant("globex", "gina", PASSWORD)
    client = cloud_app.test_client()
    refused = client.post("/api/v2/assets", data=FORM, base_url=f"https://{ACME}",
                          headers={**_alice(), **browser})
    assert refused.status_code == 403
    assert "another site" in refused.get_json()["error"]
    listed = client.get("/api/v2/assets", base_url=f"https://{ACME}", headers=_alice())
    assert listed.get_json() == []


def test_the_tenants_own_pages_and_scripts_still_write(cloud_app, make_tenant):
    make_tenant("acme", "alice", PASSWORD)
    client = cloud_app.test_client()
    own = client.post("/api/v2/assets", data={**FORM, "name": "own page"},
                      base_url=f"https://{ACME}",
                      headers={**_alice(), "Origin": f"https://{ACME}"})
    script = client.post("/api/v2/assets", data={**FORM, "name": "script"},
                         base_url=f"https://{ACME}", headers=_alice())
    assert (own.status_code, script.status_code) == (201, 201)
