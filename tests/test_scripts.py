"""``scripts/run`` and ``scripts/test`` as a developer runs them, in real subprocesses."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import free_ports

REPO = Path(__file__).resolve().parents[1]
# The tests given to scripts/test here never open a database; naming one keeps the script from
# picking the coordinator's PostgreSQL database on its own.
NO_DATABASE = "postgresql://postgres@127.0.0.1:9/unused"


class Script:
    """A script in its own process group (as a terminal runs it), its output collected."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.lines: list[str] = []
        self.seen = threading.Condition()
        self.process = subprocess.Popen(args, cwd=REPO, env=env, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True,
                                        start_new_session=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            with self.seen:
                self.lines.append(line.rstrip("\n"))
                self.seen.notify_all()

    def wait_for(self, text: str, timeout: float = 120) -> None:
        """Block until a line containing ``text`` was printed; fail with the output otherwise."""
        with self.seen:
            found = self.seen.wait_for(
                lambda: any(text in line for line in self.lines) or self.process.poll() is not None,
                timeout)
        assert found and any(text in line for line in self.lines), "\n".join(self.lines)

    def ctrl_c(self, timeout: float = 60) -> int:
        """SIGINT to the whole process group, as Ctrl-C in a terminal; answer the exit status.

        A group still running after ``timeout`` fails the test with what each of its
        processes was doing: the process list, then (PYTHONFAULTHANDLER=1 in the script's
        environment) every Python thread's stack, dumped by SIGABRT.
        """
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            processes = subprocess.run(["ps", "-o", "pid,stat,wchan:20,args", "-g",
                                        str(self.process.pid)],
                                       capture_output=True, text=True).stdout
            os.killpg(self.process.pid, signal.SIGABRT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(10)
            self.kill()
            output = "\n".join(self.lines)
            raise AssertionError(f"still running {timeout:g} s after Ctrl-C:\n{processes}\n"
                                 f"{output}") from None
        finally:
            self.kill()

    def kill(self) -> None:
        """SIGKILL whatever is left of the group (children can outlive the script)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        self.reader.join(10)
        self.process.stdout.close()

    def index(self, text: str) -> int:
        return next(i for i, line in enumerate(self.lines) if text in line)


@pytest.fixture
def scripts() -> Iterator[list[Script]]:
    started: list[Script] = []
    yield started
    for script in started:
        script.kill()


def script_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("ANTHIAS_") and k not in ("DATABASE_URL", "CI")}
    env.update(extra)
    return env


def test_run_starts_the_player_only_once_the_server_listens(tmp_path, scripts):
    http, publisher, collector = free_ports(3)
    run = Script([str(REPO / "scripts" / "run")], script_env(
        HOME=str(tmp_path), ANTHIAS_LISTEN=f"127.0.0.1:{http}", ANTHIAS_RENDERER="headless",
        ANTHIAS_ZMQ_PUBLISHER=f"tcp://127.0.0.1:{publisher}",
        ANTHIAS_ZMQ_COLLECTOR=f"tcp://127.0.0.1:{collector}", PYTHONFAULTHANDLER="1"))
    scripts.append(run)
    run.wait_for("Player started")
    run.wait_for("Anthias Edge is running at")
    output = "\n".join(run.lines)
    code = run.ctrl_c()
    assert "Connection refused" not in output and " failed" not in output, output
    assert run.index("Anthias Edge is running at") < run.index("Player started"), output
    assert code == 130, "\n".join(run.lines)


SLOW_TEST = """
import pathlib, time
def test_slow():
    pathlib.Path({marker!r}).touch()
    time.sleep(120)
"""


def test_ctrl_c_stops_scripts_test_before_the_postgresql_pass(tmp_path, scripts):
    marker = tmp_path / "started"
    test_file = tmp_path / "test_slow.py"
    test_file.write_text(SLOW_TEST.format(marker=str(marker)))
    run = Script([str(REPO / "scripts" / "test"), str(test_file)], script_env(
        ANTHIAS_TEST_DATABASE_URL=NO_DATABASE))
    scripts.append(run)
    run.wait_for("== pytest on SQLite")
    with run.seen:
        run.seen.wait_for(lambda: marker.exists() or run.process.poll() is not None, 120)
    assert marker.exists(), "\n".join(run.lines)
    code = run.ctrl_c()
    output = "\n".join(run.lines)
    assert code == 130, output
    assert "== pytest on PostgreSQL" not in output


def test_scripts_test_still_fails_on_a_failing_test(tmp_path, scripts):
    test_file = tmp_path / "test_fails.py"
    test_file.write_text("def test_fails():\n    assert False\n")
    result = subprocess.run([str(REPO / "scripts" / "test"), str(test_file)], cwd=REPO,
                            env=script_env(ANTHIAS_TEST_DATABASE_URL=NO_DATABASE),
                            capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 failed" in result.stdout


def test_scripts_test_fails_when_nothing_is_selected(tmp_path):
    test_file = tmp_path / "test_passes.py"
    test_file.write_text("def test_passes():\n    pass\n")
    result = subprocess.run([str(REPO / "scripts" / "test"), str(test_file), "-k", "nothing"],
                            cwd=REPO, env=script_env(ANTHIAS_TEST_DATABASE_URL=NO_DATABASE),
                            capture_output=True, text=True, timeout=300,
                            stdin=subprocess.DEVNULL)
    # Exit 5 (nothing selected) is tolerated per pass, but not when no pass ran a test.
    assert result.returncode == 1, result.stdout + result.stderr
    assert "== pytest on PostgreSQL" in result.stdout
    assert "no test was selected in any run" in result.stderr or "ruff failed" in result.stdout


def test_scripts_are_bash_that_parses():
    for name in ("run", "test"):
        subprocess.run(["bash", "-n", str(REPO / "scripts" / name)], check=True)
