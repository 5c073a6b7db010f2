"""Signing out in the cloud, where requests act as the app role under row-level security."""

from __future__ import annotations

import pytest

from tests.cloud.conftest import BASE_DOMAIN

pytestmark = pytest.mark.postgres

PASSWORD = "correct horse battery"


def test_a_signed_out_access_token_is_refused_in_the_cloud(cloud_app, make_tenant):
    make_tenant("acme", "alice", PASSWORD)
    client = cloud_app.test_client()
    host = {"base_url": f"https://acme.{BASE_DOMAIN}"}
    pair = client.post("/api/v3/auth/token", json={"username": "alice", "password": PASSWORD},
                       **host).get_json()
    bearer = {"Authorization": f"Bearer {pair['access_token']}"}
    assert client.get("/api/v3/assets", headers=bearer, **host).status_code == 200
    out = client.post("/api/v3/auth/logout", json={"refresh_token": pair["refresh_token"]},
                      **host)
    assert out.status_code == 204
    refused = client.get("/api/v3/assets", headers=bearer, **host)
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "token_invalid"
