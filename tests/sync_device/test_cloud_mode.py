"""In the cloud nothing of the device side runs: writes never probe the outbox, and the request
role may not touch the device tables at all (migration 0015)."""

from __future__ import annotations

import psycopg
import pytest

from anthias_edge.services.tenants import create_tenant
from tests.cloud.conftest import BASE_DOMAIN, cloud_app  # noqa: F401  (the cloud app fixture)
from tests.cloud.pg import database_fixtures

pytestmark = pytest.mark.postgres

PASSWORD = "correct horse battery"
cloud_server_url, cloud_url = database_fixtures("test_b1_cloud", made="cloud_server_url",
                                                emptied="cloud_url", migrated=True)


def test_a_cloud_write_records_nothing_and_its_role_cannot_read_device_tables(
        cloud_app, cloud_url):  # noqa: F811
    with cloud_app.extensions["anthias"].database.connection_context():
        tenant, _ = create_tenant("Acme", "acme", "alice", PASSWORD)
    client = cloud_app.test_client()
    host = f"http://acme.{BASE_DOMAIN}"
    token = client.post("/api/v3/auth/token", base_url=host, json={
        "username": "alice", "password": PASSWORD, "tenant": tenant.id}).get_json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    made = client.post("/api/v3/assets", base_url=host, headers=headers, json={
        "name": "Lobby", "uri": "https://example.com/", "mimetype": "webpage",
        "skip_asset_check": True})
    assert made.status_code == 201, made.get_json()
    with psycopg.connect(cloud_url, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM sync_outbox").fetchone() == (0,)
    for table in ("sync_outbox", "sync_link", "sync_applied_commands"):
        with psycopg.connect(cloud_url) as conn:
            conn.execute("SET LOCAL ROLE anthias_app")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"SELECT 1 FROM {table}")
