"""``anthias-edge link``, ``unlink`` and ``sync``: one clear line for every bad input, and the
daemon's systemd notifications and clean stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

import pytest
from click.testing import CliRunner

from anthias_edge.cli import main
from tests.sync_agent.fake_hub import closed_port_url


@pytest.fixture
def run(home):
    runner = CliRunner()

    def invoke(*args: str, **env: str):
        return runner.invoke(main, list(args), env={"HOME": str(home), **env})

    return invoke


def one_error_line(result, exit_code: int) -> str:
    assert result.exit_code == exit_code, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    return lines[0]


@pytest.mark.parametrize(("args", "exit_code", "words"), [
    (("link", "--cloud", "https://c.example"), 2, "Give exactly one of --code"),
    (("link", "--cloud", "https://c.example", "--code", "K7QHMX4P", "--device-code"), 2,
     "(not --code and --device-code)"),
    (("link", "--code", "K7QHMX4P"), 2, "Which cloud? Give --cloud URL"),
    (("link", "--cloud", "ftp://c.example", "--code", "K7QHMX4P"), 1,
     "Check the cloud address 'ftp://c.example'"),
    (("link", "--cloud", "https://c.example", "--code", "K7QH-MX41"), 1,
     "A pairing code has 8 letters and digits (no 0, O, 1 or I)"),
    (("link", "--cloud", "https://c.example", "--fleet-token", "secret"), 1,
     "Fleet tokens start with aft_"),
    (("link", "--cloud", "https://c.example", "--code", "K7QHMX4P", "--name", "x" * 101), 1,
     "Use 1 to 100 characters"),
    (("sync", "--once", "status"), 2, "--once goes with sync alone"),
])
def test_every_bad_input_is_one_clear_error_line(run, args, exit_code, words):
    assert words in one_error_line(run(*args), exit_code)


def test_an_unreachable_cloud_fails_at_once_without_wait(run):
    line = one_error_line(run("link", "--cloud", closed_port_url(), "--code", "K7QHMX4P"), 1)

    assert "The cloud could not be reached (connection refused). Try again, or add --wait." in line


def test_a_bad_sync_interval_setting_is_refused_before_anything_starts(run):
    line = one_error_line(run("sync", ANTHIAS_SYNC_INTERVAL="2"), 1)

    assert "The sync_interval setting must be 5 to 3600 seconds, not 2." in line


def test_a_missing_or_empty_token_file_is_nothing_to_do(run, home):
    empty = home / "empty.token"
    empty.write_text("\n# nothing yet\n")

    for path in (home / "absent.token", empty):
        result = run("link", "--fleet-token-file", str(path), "--wait")
        assert result.exit_code == 0
        assert f"Nothing to do: {path} holds no fleet token." in result.output


def test_a_malformed_token_file_is_an_error_naming_the_file(run, home):
    path = home / "bad.token"
    path.write_text("token=aft_0123456789abcdefghij\ncolor=red\n")

    line = one_error_line(run("link", "--fleet-token-file", str(path)), 1)

    assert f"{path} line 2: unknown key 'color'" in line


def test_status_and_unlink_of_a_device_that_is_not_linked(run):
    status = run("sync", "status")
    unlink = run("unlink")

    assert status.exit_code == 0
    assert status.output.splitlines()[0] == "Not linked to a cloud."
    assert "The sync agent is not running" in status.output
    assert unlink.exit_code == 0 and "Nothing to do: this device is not linked." in unlink.output


def test_the_daemon_tells_systemd_it_is_ready_beats_the_watchdog_and_stops_on_sigterm(home,
                                                                                     tmp_path):
    address = str(tmp_path / "notify.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
        listener.bind(address)
        listener.settimeout(60)
        env = {key: value for key, value in os.environ.items()
               if not key.startswith("ANTHIAS_") and key != "DATABASE_URL"}
        env.update(HOME=str(home), NOTIFY_SOCKET=address, WATCHDOG_USEC="200000",
                   ANTHIAS_FLEET_TOKEN_PATH=str(home / "no.token"))
        daemon = subprocess.Popen([sys.executable, "-m", "anthias_edge.cli", "sync"], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            received = set()
            while not {"READY=1", "WATCHDOG=1"} <= received:
                received.add(listener.recv(256).decode())
            daemon.send_signal(signal.SIGTERM)
            out, err = daemon.communicate(timeout=30)
        finally:
            if daemon.poll() is None:
                daemon.kill()
                daemon.wait()
        while True:  # what it said while stopping
            try:
                listener.settimeout(0.2)
                received.add(listener.recv(256).decode())
            except TimeoutError:
                break

    assert daemon.returncode == 0, err
    assert "Anthias Edge sync agent started." in out
    assert "STOPPING=1" in received
    agent_file = home / ".screenly" / "sync" / "agent.json"
    assert '"pid"' not in agent_file.read_text()  # it said it is no longer running


def test_link_wait_retries_while_the_cloud_fails_then_links_and_deletes_the_file(run, home):
    import json

    from tests.sync_agent.fake_hub import Reply, fake_hub

    token_file = home / "anthias-fleet.token"
    token_file.write_text("token=aft_0123456789abcdefghijKLMN\nname=Shop 3\n")
    linked = {"device_id": "d-1", "tenant_id": "t-1", "tenant_name": "Acme", "name": "Shop 3",
              "interval_s": 30}
    with fake_hub() as hub:
        hub.script(Reply(status=503, body=b"{}"),
                   Reply(status=201, body=json.dumps(linked).encode(),
                         headers={"Content-Type": "application/json"}))

        result = run("link", "--cloud", hub.url, "--fleet-token-file", str(token_file), "--wait")
        enrolments = [json.loads(r.body) for r in hub.received]

    assert result.exit_code == 0, result.output
    assert "HTTP 503) — retrying in" in result.stderr
    assert "Linked to" in result.output and "(Acme) as Shop 3." in result.output
    assert not token_file.exists()
    assert [body["fleet_token"] for body in enrolments] == ["aft_0123456789abcdefghijKLMN"] * 2
    assert enrolments[0]["public_key"] != enrolments[1]["public_key"]  # a fresh key each try
    assert set(enrolments[0]) == {"fleet_token", "public_key", "name", "software_version"}
