"""In cloud mode too: the console's files and a tenant's asset lists go out gzipped on request."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

import anthias_edge.console
from tests.cloud.conftest import BASE_DOMAIN
from tests.helpers import basic

pytestmark = pytest.mark.postgres

PASSWORD = "correct horse battery"
GZIP = {"Accept-Encoding": "gzip"}
CONSOLE_STATIC = Path(anthias_edge.console.__file__).resolve().parent / "static"


def test_console_files_are_compressed_for_a_browser_and_plain_for_others(cloud_app):
    client = cloud_app.test_client()
    for name in ("ui.js", "console.css"):
        packed = client.get(f"/console/static/{name}", headers=GZIP)
        plain = client.get(f"/console/static/{name}")
        packed_data, plain_data = packed.get_data(), plain.get_data()
        packed.close()
        plain.close()

        assert packed.status_code == plain.status_code == 200, name
        assert packed.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(packed_data) == plain_data == (CONSOLE_STATIC / name).read_bytes()
        assert "Content-Encoding" not in plain.headers


def test_a_tenants_legacy_list_is_compressed_on_its_subdomain(cloud_app, make_tenant):
    make_tenant("acme", "alice", PASSWORD)
    client = cloud_app.test_client()
    on_acme = {"base_url": f"http://acme.{BASE_DOMAIN}"}
    alice = basic("alice", PASSWORD)
    for number in range(8):
        client.post("/api/v2/assets", headers=alice, **on_acme, json={
            "name": f"Acme page {number}", "uri": "https://example.org/", "duration": 10,
            "mimetype": "webpage", "start_date": "2024-01-01T00:00:00Z",
            "end_date": "2099-01-01T00:00:00Z", "is_enabled": 1, "skip_asset_check": 1,
            "nocache": 0, "play_order": 0})

    plain = client.get("/api/v2/assets", headers=alice, **on_acme)
    packed = client.get("/api/v2/assets", headers={**alice, **GZIP}, **on_acme)

    assert len(plain.get_json()) == 8
    assert packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.data) == plain.data
    assert packed.headers["ETag"] == plain.headers["ETag"][:-1] + '-gzip"'
