"""v1 endpoints that talk to the player or the playlist: control, current asset, order, info."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask.testing import FlaskClient

from anthias_edge.messaging import ViewerCommand, ViewerEndpoint
from tests.clients import create_asset_id, play_orders


def next_command(viewer: ViewerEndpoint) -> ViewerCommand | None:
    """The next command the player receives, skipping playlist ``refresh`` notices."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        command = viewer.receive(timeout_s=0.1)
        if command is not None and command.command != "refresh":
            return command
    return None


@contextmanager
def player_answering(viewer: ViewerEndpoint, asset_id: str | None) -> Iterator[None]:
    """Run a player that answers the next ``current_asset_id`` question with ``asset_id``."""

    def answer() -> None:
        command = next_command(viewer)
        if command == ViewerCommand("current_asset_id"):
            viewer.reply_current_asset(asset_id)

    thread = threading.Thread(target=answer)
    thread.start()
    try:
        yield
    finally:
        thread.join(timeout=10)


# -- control ---------------------------------------------------------------
@pytest.mark.parametrize(("command", "received"), [
    ("next", ViewerCommand("next")),
    ("previous", ViewerCommand("previous")),
    ("asset&6ee2394e760643748b9353f06f405424",
     ViewerCommand("asset", "6ee2394e760643748b9353f06f405424")),
    ("dance", ViewerCommand("dance")),
])
def test_control_forwards_the_command_verbatim_to_the_player(
        client: FlaskClient, viewer: ViewerEndpoint, command: str,
        received: ViewerCommand) -> None:
    response = client.get(f"/api/v1/assets/control/{command}")

    assert response.status_code == 200
    assert response.data == b'"Asset switched"'
    assert response.headers["Content-Type"] == "application/json"
    assert next_command(viewer) == received


def test_control_by_post_is_method_not_allowed_and_sends_nothing(
        client: FlaskClient, viewer: ViewerEndpoint) -> None:
    response = client.post("/api/v1/assets/control/next")
    assert response.status_code == 500
    assert response.get_json() == {"error": 'Method "POST" not allowed.'}
    assert viewer.receive(timeout_s=0.3) is None


# -- viewer_current_asset --------------------------------------------------
def test_the_current_asset_is_shown_in_v1_format(
        client: FlaskClient, viewer: ViewerEndpoint) -> None:
    asset_id = create_asset_id(client, "v1", is_enabled=1)
    with player_answering(viewer, asset_id):
        response = client.get("/api/v1/viewer_current_asset")

    assert response.status_code == 200
    body = response.get_json()
    assert body == client.get(f"/api/v1/assets/{asset_id}").get_json()
    assert (body["is_active"], body["duration"]) == (1, "20")


def test_nothing_on_screen_is_an_empty_array(client: FlaskClient, viewer: ViewerEndpoint) -> None:
    with player_answering(viewer, None):
        response = client.get("/api/v1/viewer_current_asset")
    assert (response.status_code, response.data) == (200, b"[]")


def test_a_player_that_does_not_answer_gives_an_empty_500_error(
        client: FlaskClient, viewer: ViewerEndpoint) -> None:
    response = client.get("/api/v1/viewer_current_asset")
    assert (response.status_code, response.data) == (500, b'{"error":""}')
    assert next_command(viewer) == ViewerCommand("current_asset_id")


def test_a_current_asset_that_no_longer_exists_is_a_500_not_found(
        client: FlaskClient, viewer: ViewerEndpoint) -> None:
    with player_answering(viewer, "0123456789abcdef0123456789abcdef"):
        response = client.get("/api/v1/viewer_current_asset")
    assert response.status_code == 500
    assert response.get_json() == {"error": "Asset matching query does not exist."}


# -- order -----------------------------------------------------------------
def test_order_gives_positions_and_unknown_ids_still_use_their_index(client: FlaskClient) -> None:
    ids = {name: create_asset_id(client, "v1", name=name) for name in ("A", "B", "C")}
    response = client.post("/api/v1/assets/order", data={"ids": f"zzz,{ids['A']}"})
    assert (response.status_code, response.data) == (204, b"")
    assert "Content-Type" not in response.headers
    assert play_orders(client, "v1") == {"A": 1, "B": 0, "C": 0}


def test_order_accepts_json(client: FlaskClient) -> None:
    ids = {name: create_asset_id(client, "v1", name=name) for name in ("A", "B", "C")}
    wanted = ",".join([ids["C"], ids["B"], ids["A"]])
    response = client.post("/api/v1/assets/order", json={"ids": wanted})
    assert response.status_code == 204
    assert play_orders(client, "v1") == {"A": 2, "B": 1, "C": 0}


@pytest.mark.parametrize("data", [{}, {"ids": ""}])
def test_order_without_ids_changes_nothing(client: FlaskClient, data: dict) -> None:
    ids = {name: create_asset_id(client, "v1", name=name) for name in ("A", "B")}
    client.post("/api/v1/assets/order", data={"ids": f"{ids['B']},{ids['A']}"})
    response = client.post("/api/v1/assets/order", data=data)
    assert (response.status_code, response.data) == (204, b"")
    assert play_orders(client, "v1") == {"A": 1, "B": 0}


def test_get_on_order_is_method_not_allowed(client: FlaskClient) -> None:
    response = client.get("/api/v1/assets/order")
    assert response.status_code == 500
    assert response.get_json() == {"error": 'Method "GET" not allowed.'}


# -- info ------------------------------------------------------------------
def test_info_has_anthias_keys_in_order_with_their_types(client: FlaskClient) -> None:
    response = client.get("/api/v1/info")
    assert response.status_code == 200
    body = response.get_json()
    assert list(body) == ["viewlog", "loadavg", "free_space", "display_power", "up_to_date"]
    assert body["viewlog"] == "Not yet implemented"
    assert isinstance(body["loadavg"], float)
    assert isinstance(body["free_space"], str)
    assert body["free_space"][:-1].isdigit() and body["free_space"][-1] in "BKMGTP"
    assert body["display_power"] is None or isinstance(body["display_power"], str)
    assert isinstance(body["up_to_date"], bool)
