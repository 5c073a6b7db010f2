"""ZeroMQ messaging between server and player, over real sockets on 127.0.0.1."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
import zmq

from anthias_edge.errors import PlayerUnavailable, StartupError
from anthias_edge.messaging import (
    Messenger,
    NullMessenger,
    ServerMessenger,
    ViewerCommand,
    ViewerEndpoint,
    parse_viewer_message,
)

# Port "*" lets ZeroMQ pick a free port, so parallel runs never collide.
ANY_PORT = "tcp://127.0.0.1:*"
ASSET_ID = "6ee2394e760643748b9353f06f405424"


def free_address() -> str:
    """An address with a port that was free a moment ago."""
    context = zmq.Context()
    socket = context.socket(zmq.PUB)
    socket.setsockopt(zmq.LINGER, 0)
    port = socket.bind_to_random_port("tcp://127.0.0.1")
    socket.close()
    context.term()
    return f"tcp://127.0.0.1:{port}"


def ports_this_process_listens_on() -> set[int]:
    """The TCP ports a socket of this process listens on (Linux: /proc).

    Asking whether the port can be bound again would race with every other process on the
    machine, any of which may take a freed port first; whether this process still holds a
    listening socket on it depends on this process alone.
    """
    ours = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue  # the descriptor of the listing itself, closed by now
        if target.startswith("socket:["):
            ours.add(target[len("socket:["):-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as lines:
            next(lines)  # the header
            for line in lines:
                fields = line.split()
                local_address, state, inode = fields[1], fields[3], fields[9]
                if state == "0A" and inode in ours:  # 0A: LISTEN
                    ports.add(int(local_address.rsplit(":", 1)[1], 16))
    return ports


def port_of(endpoint: str | None) -> int:
    assert endpoint is not None
    return int(endpoint.rsplit(":", 1)[1])


def sync_subscriber(send: Callable[[str], None], receive: Callable[[], object]) -> None:
    """Publish probes until the subscriber sees one: ZeroMQ drops what a PUB socket
    sends before the SUB side's subscription arrives (the "slow joiner")."""
    for attempt in range(200):
        send(f"probe&{attempt}")
        if receive() is not None:
            return
    pytest.fail("the subscriber never received a probe")


def flush_probes(messenger: ServerMessenger, viewer: ViewerEndpoint) -> None:
    """Skip probes still in flight: once subscribed, messages arrive in order."""
    messenger.send_to_viewer("probe&done")
    for _ in range(1000):
        command = viewer.receive(timeout_s=5)
        assert command is not None, "the end-of-probes marker never arrived"
        if command == ViewerCommand("probe", "done"):
            return
    pytest.fail("the end-of-probes marker never arrived")


@pytest.fixture
def messenger() -> Iterator[ServerMessenger]:
    with ServerMessenger(ANY_PORT, ANY_PORT) as server:
        yield server


@contextmanager
def connected_viewer(messenger: ServerMessenger) -> Iterator[ViewerEndpoint]:
    """A ViewerEndpoint whose subscription has reached ``messenger``, probes flushed."""
    endpoint = ViewerEndpoint(messenger.publisher_endpoint, messenger.collector_endpoint)
    with endpoint:
        sync_subscriber(messenger.send_to_viewer, lambda: endpoint.receive(timeout_s=0.05))
        flush_probes(messenger, endpoint)
        yield endpoint


@pytest.fixture
def viewer(messenger: ServerMessenger) -> Iterator[ViewerEndpoint]:
    with connected_viewer(messenger) as endpoint:
        yield endpoint


@pytest.fixture
def raw_socket() -> Iterator[Callable[[int], zmq.Socket]]:
    """Make plain ZeroMQ sockets (linger 0) that are closed after the test."""
    context = zmq.Context()
    sockets: list[zmq.Socket] = []

    def make(kind: int) -> zmq.Socket:
        socket = context.socket(kind)
        socket.setsockopt(zmq.LINGER, 0)
        sockets.append(socket)
        return socket

    yield make
    for socket in sockets:
        socket.close()
    context.term()


@pytest.fixture
def busy_address(raw_socket: Callable[[int], zmq.Socket]) -> str:
    port = raw_socket(zmq.PULL).bind_to_random_port("tcp://127.0.0.1")
    return f"tcp://127.0.0.1:{port}"


@contextmanager
def answering_player(viewer: ViewerEndpoint, answer: Callable[[], None]) -> Iterator[None]:
    """Run a player thread that calls ``answer`` whenever it is asked for its asset."""
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            if viewer.receive(timeout_s=0.05) == ViewerCommand("current_asset_id"):
                answer()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("viewer next", ViewerCommand("next", None)),
        ("viewer previous", ViewerCommand("previous", None)),
        (f"viewer asset&{ASSET_ID}", ViewerCommand("asset", ASSET_ID)),
        ('viewer show_splash&["10.0.0.2"]', ViewerCommand("show_splash", '["10.0.0.2"]')),
        (
            'viewer setup_wifi&{"ssid_pswd": "a&b c"}',
            ViewerCommand("setup_wifi", '{"ssid_pswd": "a&b c"}'),
        ),
        ("viewer make coffee", ViewerCommand("make coffee", None)),
        ("viewer asset&", ViewerCommand("asset", "")),
        ("viewer", ViewerCommand("", None)),
    ],
)
def test_parse_viewer_message_splits_at_the_first_space_then_the_first_ampersand(
    raw: str, expected: ViewerCommand
) -> None:
    assert parse_viewer_message(raw) == expected


@pytest.mark.parametrize("raw", ["ws_server 6ee2394e", "viewership next", ""])
def test_parse_viewer_message_rejects_other_topics(raw: str) -> None:
    with pytest.raises(ValueError, match="Not a viewer message"):
        parse_viewer_message(raw)


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("next", ViewerCommand("next")),
        ("previous", ViewerCommand("previous")),
        (f"asset&{ASSET_ID}", ViewerCommand("asset", ASSET_ID)),
        ("reload", ViewerCommand("reload")),
        ("stop", ViewerCommand("stop")),
        ("play", ViewerCommand("play")),
        ("current_asset_id", ViewerCommand("current_asset_id")),
        ('show_splash&["10.0.0.2"]', ViewerCommand("show_splash", '["10.0.0.2"]')),
        ("dance", ViewerCommand("dance")),
        ("asset&café-☕", ViewerCommand("asset", "café-☕")),
    ],
)
def test_every_control_command_reaches_the_viewer_unchanged(
    messenger: ServerMessenger,
    viewer: ViewerEndpoint,
    command: str,
    expected: ViewerCommand,
) -> None:
    messenger.send_to_viewer(command)

    assert viewer.receive(timeout_s=5) == expected


def test_receive_returns_none_when_nothing_arrives_in_time(viewer: ViewerEndpoint) -> None:
    assert viewer.receive(timeout_s=0.1) is None


def test_websocket_payloads_reach_the_relay_but_not_the_viewer(
    messenger: ServerMessenger,
    viewer: ViewerEndpoint,
    raw_socket: Callable[[int], zmq.Socket],
) -> None:
    relay = raw_socket(zmq.SUB)
    relay.setsockopt_string(zmq.SUBSCRIBE, "")
    relay.connect(messenger.publisher_endpoint)

    def relayed() -> str | None:
        return relay.recv_string() if relay.poll(5000) else None

    sync_subscriber(
        messenger.send_to_websocket,
        lambda: relay.recv_string() if relay.poll(50) else None,
    )
    messenger.send_to_websocket("probe&done")
    while relayed() not in ("ws_server probe&done", None):
        pass
    messenger.send_to_websocket(ASSET_ID)
    messenger.send_to_viewer("next")

    assert relayed() == f"ws_server {ASSET_ID}"
    assert relayed() == "viewer next"
    # The viewer's filter drops every ws_server message: the next thing it sees is "next".
    assert viewer.receive(timeout_s=5) == ViewerCommand("next")


def test_viewer_skips_messages_whose_topic_only_starts_with_viewer(
    raw_socket: Callable[[int], zmq.Socket],
) -> None:
    publisher = raw_socket(zmq.PUB)
    port = publisher.bind_to_random_port("tcp://127.0.0.1")
    with ViewerEndpoint(f"tcp://127.0.0.1:{port}", free_address()) as viewer:
        sync_subscriber(
            lambda probe: publisher.send_string(f"viewer {probe}"),
            lambda: viewer.receive(timeout_s=0.05),
        )
        publisher.send_string("viewer probe&done")
        while viewer.receive(timeout_s=5) not in (ViewerCommand("probe", "done"), None):
            pass
        publisher.send_string("viewership next")
        publisher.send_string("viewer play")

        assert viewer.receive(timeout_s=5) == ViewerCommand("play")


def test_the_player_answers_with_the_asset_it_shows(
    messenger: ServerMessenger, viewer: ViewerEndpoint
) -> None:
    with answering_player(viewer, lambda: viewer.reply_current_asset(ASSET_ID)):
        assert messenger.ask_current_asset_id() == ASSET_ID


@pytest.mark.parametrize("shown", [None, ""])
def test_a_player_showing_nothing_answers_none(
    messenger: ServerMessenger, viewer: ViewerEndpoint, shown: str | None
) -> None:
    with answering_player(viewer, lambda: viewer.reply_current_asset(shown)):
        assert messenger.ask_current_asset_id() is None


def test_asking_with_no_player_raises_player_unavailable_with_an_empty_message(
    messenger: ServerMessenger,
) -> None:
    with pytest.raises(PlayerUnavailable) as caught:
        messenger.ask_current_asset_id()

    assert caught.value.message == ""


@pytest.mark.parametrize(
    "reply",
    [b"not json", b'["a list"]', b'{"other": 1}', b'{"current_asset_id": 7}', b"\xff"],
)
def test_an_unreadable_reply_raises_player_unavailable(
    messenger: ServerMessenger,
    viewer: ViewerEndpoint,
    raw_socket: Callable[[int], zmq.Socket],
    reply: bytes,
) -> None:
    pusher = raw_socket(zmq.PUSH)
    pusher.connect(messenger.collector_endpoint)

    with (
        answering_player(viewer, lambda: pusher.send(reply)),
        pytest.raises(PlayerUnavailable) as caught,
    ):
        messenger.ask_current_asset_id()

    assert caught.value.message == ""


def test_a_stale_reply_queued_earlier_is_not_taken_as_the_answer(
    messenger: ServerMessenger, viewer: ViewerEndpoint
) -> None:
    viewer.reply_current_asset("stale-asset")
    # Wait (without reading) until the stale reply sits in the server's queue, so
    # this test is about draining and not about network timing.
    assert messenger._collector is not None
    assert messenger._collector.poll(5000)

    with answering_player(viewer, lambda: viewer.reply_current_asset("fresh-asset")):
        assert messenger.ask_current_asset_id() == "fresh-asset"


def test_eight_threads_sending_at_once_deliver_every_message_intact(
    messenger: ServerMessenger, viewer: ViewerEndpoint
) -> None:
    threads_count, per_thread = 8, 50
    barrier = threading.Barrier(threads_count)

    def send(thread_no: int) -> None:
        barrier.wait()
        for i in range(per_thread):
            messenger.send_to_viewer(f"asset&{thread_no}-{i}-{'é☕' * 40}")

    threads = [threading.Thread(target=send, args=(n,)) for n in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    received = [viewer.receive(timeout_s=5) for _ in range(threads_count * per_thread)]

    assert all(command is not None for command in received)
    assert {command.command for command in received} == {"asset"}
    by_thread: dict[str, list[int]] = {}
    for command in received:
        thread_no, i, padding = command.parameter.split("-")
        assert padding == "é☕" * 40
        by_thread.setdefault(thread_no, []).append(int(i))
    # Every message arrived once, and each thread's messages kept their order.
    assert by_thread == {str(n): list(range(per_thread)) for n in range(threads_count)}


def test_binding_a_publisher_address_in_use_raises_startup_error_naming_it(
    busy_address: str,
) -> None:
    messenger = ServerMessenger(busy_address, ANY_PORT)

    with pytest.raises(StartupError, match=busy_address) as caught:
        messenger.start()

    assert isinstance(caught.value.__cause__, zmq.ZMQError)
    assert messenger.publisher_endpoint is None


def test_a_busy_collector_address_fails_startup_and_frees_the_publisher_port(
    busy_address: str,
) -> None:
    listening_before = ports_this_process_listens_on()

    with pytest.raises(StartupError, match=busy_address):
        ServerMessenger(ANY_PORT, busy_address).start()

    # The publisher had bound a port before the collector failed; none is left listening.
    assert ports_this_process_listens_on() == listening_before


def test_starting_twice_binds_once_and_keeps_delivering() -> None:
    with ServerMessenger(ANY_PORT, ANY_PORT) as messenger:
        bound = messenger.publisher_endpoint, messenger.collector_endpoint
        messenger.start()

        assert (messenger.publisher_endpoint, messenger.collector_endpoint) == bound
        with connected_viewer(messenger) as viewer:
            messenger.send_to_viewer("next")
            assert viewer.receive(timeout_s=5) == ViewerCommand("next")


def test_leaving_the_with_block_closes_the_sockets_and_frees_the_ports() -> None:
    with ServerMessenger(ANY_PORT, ANY_PORT) as messenger:
        ports = {port_of(messenger.publisher_endpoint), port_of(messenger.collector_endpoint)}
        assert ports <= ports_this_process_listens_on()
    messenger.close()  # a second close is harmless

    assert messenger.publisher_endpoint is None
    assert messenger.collector_endpoint is None
    assert not ports & ports_this_process_listens_on()


def test_sending_or_asking_before_start_is_a_programming_error() -> None:
    messenger = ServerMessenger(ANY_PORT, ANY_PORT)

    with pytest.raises(RuntimeError, match="start"):
        messenger.send_to_viewer("next")
    with pytest.raises(RuntimeError, match="start"):
        messenger.ask_current_asset_id()


def test_a_shared_context_is_left_open_for_its_owner() -> None:
    context = zmq.Context()
    try:
        with ServerMessenger(ANY_PORT, ANY_PORT, context):
            pass

        assert not context.closed
    finally:
        context.term()


def test_the_null_messenger_drops_commands_and_has_no_player_to_ask() -> None:
    with NullMessenger() as messenger:
        assert messenger.send_to_viewer("next") is None
        assert messenger.send_to_websocket("6ee2394e") is None
        with pytest.raises(PlayerUnavailable):
            messenger.ask_current_asset_id()


@pytest.mark.parametrize(
    "messenger_type", [ServerMessenger, NullMessenger], ids=lambda t: t.__name__
)
def test_both_messengers_satisfy_the_messenger_protocol(messenger_type: type) -> None:
    assert isinstance(messenger_type(), Messenger)
