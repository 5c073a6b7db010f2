"""Commands from the agent's process reach the player through the server's relay (real
ZeroMQ sockets on loopback), and only the commands the cloud may send."""

from __future__ import annotations

import threading

import pytest

from anthias_edge.errors import PlayerUnavailable
from anthias_edge.player_relay import PlayerRelay, start_relay
from cloud_sync.agent.relay import RelayMessenger
from tests.helpers import viewer_commands


@pytest.fixture
def relay(app):
    server = PlayerRelay(app.extensions["anthias"].messenger, "tcp://127.0.0.1:*")
    server.start()
    yield server
    server.close()


def test_a_command_sent_through_the_relay_reaches_the_player(relay, viewer):
    with RelayMessenger(relay.endpoint) as messenger:
        messenger.send_to_viewer("next")
        messenger.send_to_viewer("asset&4b5e0a1c")

    assert viewer_commands(viewer, timeout_s=1.0) == ["next", "asset"]


def test_the_relay_passes_on_only_the_commands_the_cloud_may_send(relay, viewer):
    with RelayMessenger(relay.endpoint) as messenger, pytest.raises(PlayerUnavailable,
                                                                    match="did not pass"):
        messenger.send_to_viewer("setup_wifi&{}")

    assert viewer_commands(viewer, timeout_s=0.3) == []


def test_the_player_is_asked_what_is_on_screen_through_the_relay(relay, viewer):
    def player() -> None:
        message = viewer.receive(timeout_s=10)
        if message is not None and message.command == "current_asset_id":
            viewer.reply_current_asset("4b5e0a1c")

    answering = threading.Thread(target=player)
    answering.start()
    with RelayMessenger(relay.endpoint) as messenger:
        on_screen = messenger.ask_current_asset_id(timeout_s=5)
    answering.join()

    assert on_screen == "4b5e0a1c"


def test_a_question_the_player_leaves_unanswered_fails_rather_than_hangs(relay, viewer):
    with RelayMessenger(relay.endpoint) as messenger, pytest.raises(
            PlayerUnavailable, match="the player did not answer"):
        messenger.ask_current_asset_id(timeout_s=0.2)


def test_without_a_server_a_command_fails_clearly_and_the_messenger_recovers(relay):
    with RelayMessenger("tcp://127.0.0.1:9", timeout_s=0.3) as messenger:
        with pytest.raises(PlayerUnavailable, match="The server did not answer"):
            messenger.send_to_viewer("next")
        messenger.address = relay.endpoint  # the server came up: the next try gets through
        messenger.send_to_viewer("next")


def test_a_relay_that_cannot_bind_leaves_the_server_serving(app, relay, caplog):
    second = start_relay(app.extensions["anthias"].messenger, relay.endpoint)

    assert second.endpoint is None
    assert "commands from the cloud will not reach the player" in caplog.text
    second.close()
