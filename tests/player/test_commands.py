"""Player commands: every 7.2 string reaches the loop, over real ZeroMQ sockets too."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from anthias_edge.messaging import ServerMessenger, ViewerCommand, ViewerEndpoint
from player.commands import CommandHandler, CommandListener


class FakeLoop:
    """Records the loop calls a command makes."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.current_asset_id: str | None = "abc"

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self.calls.append((name, *args, *kwargs.values()))


@pytest.mark.parametrize(("message", "call"), [
    (ViewerCommand("next"), ("skip",)),
    (ViewerCommand("previous"), ("previous",)),
    (ViewerCommand("asset", "6ee2394e760643748b9353f06f405424"),
     ("jump", "6ee2394e760643748b9353f06f405424")),
    (ViewerCommand("stop"), ("pause",)),
    (ViewerCommand("play"), ("resume",)),
    (ViewerCommand("refresh"), ("refresh",)),
    (ViewerCommand("reload"), ("refresh", True)),
    (ViewerCommand("show_splash", "[]"), ("splash_now",)),
])
def test_each_command_calls_the_matching_loop_method(message, call):
    loop = FakeLoop()
    handler = CommandHandler(loop, reply=lambda _id: None, on_reload=lambda: True)
    assert handler.handle(message) is True
    assert loop.calls == [call]


def test_setup_wifi_shows_the_hotspot_page_until_play():
    loop = FakeLoop()
    handler = CommandHandler(loop, reply=lambda _id: None, listen="0.0.0.0:8080")
    details = {"network": "Anthias Setup", "ssid_pswd": "p&ss word", "address": "192.168.42.1"}

    assert handler.handle(ViewerCommand("setup_wifi", json.dumps(details))) is True

    [(name, page)] = loop.calls
    assert name == "show_page" and page.asset_id == "hotspot"
    assert page.uri == ("http://127.0.0.1:8080/hotspot?network=Anthias+Setup"
                        "&ssid_pswd=p%26ss+word&address=192.168.42.1")


@pytest.mark.parametrize("parameter", [None, "", "not json", "[]",
                                       '{"network": 5, "ssid_pswd": "s3cret"}'])
def test_setup_wifi_with_a_malformed_parameter_is_refused_and_logged(parameter, caplog):
    loop = FakeLoop()
    handler = CommandHandler(loop, reply=lambda _id: None)

    assert handler.handle(ViewerCommand("setup_wifi", parameter)) is False

    assert loop.calls == []
    assert "setup_wifi needs a JSON object of strings network/ssid_pswd/address" in caplog.text
    assert "s3cret" not in caplog.text


def test_current_asset_id_is_answered_and_unknown_commands_are_ignored():
    loop, replies = FakeLoop(), []
    handler = CommandHandler(loop, reply=replies.append)
    assert handler.handle(ViewerCommand("current_asset_id")) is True
    assert handler.handle(ViewerCommand("dance")) is False
    assert replies == ["abc"] and loop.calls == []


def test_a_failing_reload_keeps_the_shuffle_setting_unchanged():
    def broken() -> bool:
        raise OSError("settings file unreadable")

    loop = FakeLoop()
    CommandHandler(loop, reply=lambda _id: None, on_reload=broken).handle(ViewerCommand("reload"))
    assert loop.calls == [("refresh", None)]


@pytest.fixture
def wired() -> Iterator[tuple[ServerMessenger, FakeLoop, CommandListener]]:
    messenger = ServerMessenger("tcp://127.0.0.1:*", "tcp://127.0.0.1:*")
    messenger.start()
    endpoint = ViewerEndpoint(messenger.publisher_endpoint, messenger.collector_endpoint)
    endpoint.start()
    loop = FakeLoop()
    listener = CommandListener(endpoint, CommandHandler(loop, endpoint.reply_current_asset))
    listener.start()
    yield messenger, loop, listener
    listener.stop()
    endpoint.close()
    messenger.close()


def _until_received(messenger: ServerMessenger, loop: FakeLoop, command: str) -> None:
    """Publish ``command`` until the loop sees it (ZeroMQ's slow joiner drops the first ones)."""
    for _ in range(200):
        sent = time.monotonic()
        messenger.send_to_viewer(command)
        deadline = sent + 0.05
        while time.monotonic() < deadline:
            if loop.calls:
                return
            time.sleep(0.002)
    pytest.fail(f"{command} never reached the loop")


def test_commands_arrive_over_real_zeromq_and_the_player_answers_current_asset(wired):
    messenger, loop, listener = wired
    _until_received(messenger, loop, "next")
    assert loop.calls[0] == ("skip",)
    loop.calls.clear()
    messenger.send_to_viewer("asset&xyz")
    deadline = time.monotonic() + 2
    while not loop.calls and time.monotonic() < deadline:
        time.sleep(0.005)
    assert loop.calls == [("jump", "xyz")]
    assert messenger.ask_current_asset_id(timeout_s=2) == "abc"
    loop.current_asset_id = None
    assert messenger.ask_current_asset_id(timeout_s=2) is None
    assert listener.is_alive()


def test_the_listener_stops(wired):
    _messenger, _loop, listener = wired
    listener.stop()
    assert not listener.is_alive()
