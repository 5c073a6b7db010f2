"""Reboot and shutdown command lines, run against a harmless recorder script."""

from __future__ import annotations

import json
import logging
import os
import shlex
import sys
import time
from pathlib import Path

import pytest

from anthias_edge.errors import HostCommandFailed
from anthias_edge.services.device.host_commands import run_host_command

# Writes its arguments, session id and whether stdin is /dev/null as JSON; with
# a release file it first waits (bounded) for that file to appear.
RECORDER = """\
import json, os, sys, time

out, release, *args = sys.argv[1:]
released = True
if release != "-":
    deadline = time.monotonic() + 10
    while not os.path.exists(release) and time.monotonic() < deadline:
        time.sleep(0.01)
    released = os.path.exists(release)
record = {
    "argv": args,
    "released": released,
    "session": os.getsid(0),
    "stdin_is_devnull": os.path.samestat(os.fstat(0), os.stat(os.devnull)),
}
with open(out + ".tmp", "w") as f:
    json.dump(record, f)
os.replace(out + ".tmp", out)
"""


@pytest.fixture
def recorder(tmp_path: Path) -> Path:
    script = tmp_path / "recorder.py"
    script.write_text(RECORDER)
    return script


def recorder_command(recorder: Path, out: Path, *args: str, release: Path | None = None) -> str:
    return shlex.join([sys.executable, str(recorder), str(out), str(release or "-"), *args])


def read_when_written(path: Path, timeout_s: float = 10) -> dict:
    """Poll for the recorder's output (it runs detached, so nobody waits for it)."""
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        if time.monotonic() > deadline:
            pytest.fail(f"the host command never wrote {path}")
        time.sleep(0.01)
    return json.loads(path.read_text())


def test_the_command_runs_with_its_arguments_split_as_a_shell_would(
    recorder: Path, tmp_path: Path
) -> None:
    out = tmp_path / "record.json"

    run_host_command(recorder_command(recorder, out, "reboot", "two words", "$HOME"))

    # Quoting groups words, and no shell runs: "$HOME" stays literal.
    assert read_when_written(out)["argv"] == ["reboot", "two words", "$HOME"]


def test_the_command_runs_detached_in_its_own_session_with_no_input(
    recorder: Path, tmp_path: Path
) -> None:
    out = tmp_path / "record.json"

    run_host_command(recorder_command(recorder, out, "poweroff"))

    record = read_when_written(out)
    assert record["session"] != os.getsid(0)
    assert record["stdin_is_devnull"] is True


def test_run_host_command_returns_before_the_command_finishes(
    recorder: Path, tmp_path: Path
) -> None:
    out, release = tmp_path / "record.json", tmp_path / "release"

    run_host_command(recorder_command(recorder, out, "reboot", release=release))

    # Had the call waited, the recorder would have given up waiting for the release file.
    assert not out.exists()
    release.touch()
    assert read_when_written(out)["released"] is True


def test_the_command_line_is_logged_at_info(
    recorder: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "record.json"
    command = recorder_command(recorder, out, "reboot")

    with caplog.at_level(logging.INFO, logger="anthias_edge.services.device.host_commands"):
        run_host_command(command)

    assert read_when_written(out)["argv"] == ["reboot"]
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.INFO, f"Running host command: {command}")
    ]


@pytest.mark.parametrize("command", ["", "   "])
def test_an_empty_command_raises_host_command_failed(command: str) -> None:
    with pytest.raises(HostCommandFailed, match="No host command is configured"):
        run_host_command(command)


def test_a_missing_program_raises_host_command_failed_naming_the_command(
    tmp_path: Path,
) -> None:
    command = f"{tmp_path / 'no-such-program'} --reboot"

    with pytest.raises(HostCommandFailed) as caught:
        run_host_command(command)

    assert command in caught.value.message
    assert isinstance(caught.value.__cause__, FileNotFoundError)


def test_a_program_that_is_not_executable_raises_host_command_failed(tmp_path: Path) -> None:
    script = tmp_path / "not-executable"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o644)

    with pytest.raises(HostCommandFailed, match="could not be started") as caught:
        run_host_command(str(script))

    assert str(script) in caught.value.message


def test_an_unbalanced_quote_raises_host_command_failed_naming_the_command() -> None:
    with pytest.raises(HostCommandFailed, match="cannot be read") as caught:
        run_host_command("echo 'unclosed quote")

    assert "echo 'unclosed quote" in caught.value.message
