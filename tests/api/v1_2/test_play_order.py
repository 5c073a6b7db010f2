"""v1.2 play-order renumbering after creates and updates (docs/legacy-api.md §3.3, §3.7)."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from tests.clients import create_asset_id, play_orders
from tests.helpers import ACTIVE


def put(client: FlaskClient, target: str, name: str, **overrides: Any) -> None:
    """PUT the full update set through v1.2."""
    body = {"name": name, **ACTIVE, "duration": "20", **overrides}
    response = client.put(f"/api/v1.2/assets/{target}", json=body)
    assert response.status_code == 200


def test_the_worked_example_of_the_contract_renumbers_exactly_as_anthias(
        client: FlaskClient) -> None:
    ids = {name: create_asset_id(client, "v1.2", name=name) for name in ("A", "B", "C")}

    put(client, ids["A"], "A", is_enabled=1, play_order=0)
    assert play_orders(client, "v1.2")["A"] == 0

    put(client, ids["B"], "B", is_enabled=1, play_order=0)
    assert play_orders(client, "v1.2") == {"A": 1, "B": 0, "C": 0}

    put(client, ids["C"], "C", is_enabled=1, play_order=0)
    assert play_orders(client, "v1.2") == {"A": 1, "B": 2, "C": 0}

    create_asset_id(client, "v1.2", name="D", is_enabled=1, play_order=1)
    assert play_orders(client, "v1.2") == {"A": 0, "B": 2, "C": 3, "D": 1}

    put(client, ids["A"], "A", is_enabled=0)
    assert play_orders(client, "v1.2") == {"A": 0, "B": 0, "C": 1, "D": 2}


def test_any_create_resets_a_custom_order_of_the_active_assets(client: FlaskClient) -> None:
    first = create_asset_id(client, "v1.2", name="A", is_enabled=1)
    second = create_asset_id(client, "v1.2", name="B", is_enabled=1)
    client.post("/api/v1/assets/order", data={"ids": f"{second},{first}"})
    assert play_orders(client, "v1.2") == {"A": 1, "B": 0}

    create_asset_id(client, "v1.2", name="Disabled")

    assert play_orders(client, "v1.2") == {"A": 0, "B": 1, "Disabled": 0}


def test_a_play_order_past_the_end_appends(client: FlaskClient) -> None:
    create_asset_id(client, "v1.2", name="A", is_enabled=1)
    create_asset_id(client, "v1.2", name="B", is_enabled=1, play_order=99)
    assert play_orders(client, "v1.2") == {"A": 0, "B": 1}


def test_patch_renumbers_with_the_stored_play_order(client: FlaskClient) -> None:
    first = create_asset_id(client, "v1.2", name="A", is_enabled=1)
    create_asset_id(client, "v1.2", name="B", is_enabled=1)
    response = client.patch(f"/api/v1.2/assets/{first}", json={"play_order": 1})
    assert response.status_code == 200
    assert response.get_json()["play_order"] == 1
    assert play_orders(client, "v1.2") == {"A": 1, "B": 0}
