"""The systemd units pass ``systemd-analyze verify``, and sd_notify talks the notify protocol.

``verify`` checks that ExecStart is executable, so each unit is verified as a copy whose
ExecStart points at a stub script in tmp_path; it does not need the ``anthias`` user to
exist, so User= is kept as written.
"""

from __future__ import annotations

import configparser
import os
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from anthias_edge import sd_notify

UNITS = Path(__file__).resolve().parents[2] / "systemd"
EXEC = "/opt/anthias-edge/venv/bin/anthias-edge"
SYSTEMD_ANALYZE = "/usr/bin/systemd-analyze"


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(UNITS / name)
    return parser


def _verify(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SYSTEMD_ANALYZE, "verify", str(path)], capture_output=True,
                          text=True, timeout=60, check=False)


@pytest.fixture
def stubbed(tmp_path: Path):
    stub = tmp_path / "anthias-edge"
    stub.write_text("#!/bin/sh\nexit 0\n")
    stub.chmod(0o755)

    def copy(name: str, edit=lambda text: text) -> Path:
        target = tmp_path / name
        target.write_text(edit((UNITS / name).read_text().replace(EXEC, str(stub))))
        return target

    return copy


@pytest.mark.parametrize("name", ["anthias-server.service", "anthias-player.service"])
def test_each_unit_passes_systemd_analyze_verify(stubbed, name):
    result = _verify(stubbed(name))
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""


def test_verify_would_catch_a_misspelt_directive(stubbed):
    broken = stubbed("anthias-server.service",
                     lambda text: text.replace("PrivateTmp=yes", "PrivateTmpz=yes"))
    assert "Unknown key 'PrivateTmpz'" in _verify(broken).stderr


@pytest.mark.parametrize(("name", "command"), [("anthias-server.service", "serve"),
                                               ("anthias-player.service", "player")])
def test_both_units_notify_run_as_anthias_and_start_the_venv_command(name, command):
    service = _unit(name)["Service"]
    assert service["Type"] == "notify"
    assert int(service["WatchdogSec"]) > 0
    assert service["User"] == "anthias"
    assert service["ExecStart"].split()[:2] == [EXEC, command]
    assert service["NoNewPrivileges"] == "yes" and service["ProtectSystem"] == "strict"
    assert "/home/anthias" in service["ReadWritePaths"].split()


def test_the_server_is_locked_down_and_the_player_keeps_its_devices():
    server, player = _unit("anthias-server.service")["Service"], _unit(
        "anthias-player.service")["Service"]
    assert server["RestrictAddressFamilies"].split() == ["AF_INET", "AF_INET6", "AF_UNIX"]
    for key in ("PrivateTmp", "PrivateDevices", "ProtectKernelTunables", "ProtectKernelModules",
                "ProtectKernelLogs", "ProtectControlGroups", "MemoryDenyWriteExecute"):
        assert server[key] == "yes", key
    assert set(player["SupplementaryGroups"].split()) == {"video", "render", "audio", "input"}
    assert "PrivateDevices" not in player
    assert "MemoryDenyWriteExecute" not in player  # Chromium's JIT


# -- sd_notify -----------------------------------------------------------------------------


@pytest.fixture
def notify_socket(tmp_path: Path):
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(2)
    yield sock, {"NOTIFY_SOCKET": str(path)}
    sock.close()


def test_ready_watchdog_and_stopping_reach_the_notify_socket(notify_socket):
    sock, environ = notify_socket
    assert sd_notify.ready(environ) is True
    assert sd_notify.watchdog(environ) is True
    assert sd_notify.stopping(environ) is True
    assert [sock.recv(64) for _ in range(3)] == [b"READY=1", b"WATCHDOG=1", b"STOPPING=1"]


def test_without_a_notify_socket_nothing_is_sent():
    assert sd_notify.notify("READY=1", {}) is False
    assert sd_notify.notify("READY=1", {"NOTIFY_SOCKET": "/nonexistent/sock"}) is False


def test_an_abstract_notify_socket_is_addressed_with_a_leading_nul():
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    name = f"anthias-test-{os.getpid()}-{time.monotonic_ns()}"
    sock.bind("\0" + name)
    sock.settimeout(2)
    try:
        assert sd_notify.ready({"NOTIFY_SOCKET": "@" + name}) is True
        assert sock.recv(64) == b"READY=1"
    finally:
        sock.close()


def test_the_heartbeat_runs_at_half_the_watchdog_and_stops_when_unhealthy(notify_socket):
    sock, environ = notify_socket
    assert sd_notify.heartbeat_interval({**environ, "WATCHDOG_USEC": "200000"}) == 0.1
    assert sd_notify.heartbeat_interval({"WATCHDOG_USEC": "200000", "WATCHDOG_PID": "1"}) is None
    assert sd_notify.heartbeat_interval({}) is None
    healthy = threading.Event()
    healthy.set()
    beat = sd_notify.start_heartbeat(healthy.is_set, {**environ, "WATCHDOG_USEC": "100000"})
    assert beat is not None
    try:
        assert [sock.recv(64) for _ in range(3)] == [b"WATCHDOG=1"] * 3
        healthy.clear()
        time.sleep(0.15)
        sock.settimeout(0.3)
        while True:  # drain a beat sent just before the change
            try:
                sock.recv(64)
            except TimeoutError:
                break
        with pytest.raises(TimeoutError):
            sock.recv(64)
    finally:
        beat.stop()


def test_serve_sends_ready_after_listening_and_stopping_on_sigterm(notify_socket, environ,
                                                                  tmp_path):
    import signal
    import sys

    sock, notify_env = notify_socket
    env = {**os.environ, **environ, **notify_env, "WATCHDOG_USEC": "2000000"}
    process = subprocess.Popen([sys.executable, "-m", "anthias_edge.cli", "serve",
                                "--listen", "127.0.0.1:0"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        sock.settimeout(30)
        assert sock.recv(64) == b"READY=1"
        line = process.stdout.readline()
        assert "running at http://127.0.0.1:" in line
        assert sock.recv(64) == b"WATCHDOG=1"
        process.send_signal(signal.SIGTERM)
        messages = []
        while b"STOPPING=1" not in messages:
            messages.append(sock.recv(64))
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
