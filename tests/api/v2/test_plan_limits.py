"""The plan's asset limit holds on every legacy create path (AssetService checks it once).

On a device the legacy API acts on the device's own tenant, whose plan allows 9,999 assets;
a lower limit here stands in for any plan. The cloud's subdomains:
tests/cloud/test_legacy_limits.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from anthias_edge.models import Tenant
from tests.helpers import ACTIVE, v1_model, v2_asset

LIMIT = 2
# The refusal names the limit and the plan (on a device, the device tenant's own plan).
REFUSED = {"error": "This tenant has reached the asset limit of its plan: 2 assets on plan "
                    "'device'."}


def _v1_2() -> dict[str, Any]:
    return {"json": {"name": "Anthias", "uri": "https://anthias.screenly.io", **ACTIVE,
                     "duration": "20", "mimetype": "webpage", "is_enabled": 1, "nocache": 0,
                     "play_order": 0, "skip_asset_check": 1}}


CREATES: dict[str, Callable[[], dict[str, Any]]] = {
    "/api/v1/assets": lambda: {"data": v1_model()},
    "/api/v1.1/assets": lambda: {"data": v1_model()},
    "/api/v1.2/assets": _v1_2,
    "/api/v2/assets": lambda: {"json": v2_asset()},
}


@pytest.fixture
def limited(app: Flask) -> Flask:
    """The device's tenant with room for LIMIT assets."""
    runtime = app.extensions["anthias"]
    with runtime.database.connection_context():
        Tenant.update(max_assets=LIMIT).where(Tenant.id == runtime.local_tenant_id).execute()
    return app


@pytest.mark.parametrize("path", CREATES)
def test_a_legacy_create_beyond_the_plan_limit_is_refused_in_anthias_error_shape(
        limited: Flask, client: FlaskClient, path: str) -> None:
    made = [client.post(path, **CREATES[path]()).status_code for _ in range(LIMIT)]

    over = client.post(path, **CREATES[path]())

    assert made == [201] * LIMIT
    assert over.status_code == 500  # Anthias answers every refusal so (docs/legacy-api.md Q0)
    assert over.get_json() == REFUSED
    assert len(client.get("/api/v2/assets").get_json()) == LIMIT


def test_a_deleted_asset_makes_room_for_a_new_one(limited: Flask, client: FlaskClient) -> None:
    first = client.post("/api/v2/assets", json=v2_asset()).get_json()
    client.post("/api/v2/assets", json=v2_asset())
    assert client.post("/api/v2/assets", json=v2_asset()).status_code == 500

    client.delete(f"/api/v2/assets/{first['asset_id']}")
    again = client.post("/api/v2/assets", json=v2_asset(name="again"))

    assert again.status_code == 201
    assert sorted(a["name"] for a in client.get("/api/v2/assets").get_json()) == [
        "Anthias-1", "again"]
