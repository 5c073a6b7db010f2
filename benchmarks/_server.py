"""Run the production server as a subprocess for benchmarks, on loopback only.

``start_server`` spawns the server with a fresh temporary HOME and measures the
seconds from spawn to the first 200; ``ServerProcess`` reads the process's RSS,
CPU time and seeds assets through the v2 API. Nothing here imports the app: the
server is measured as it runs in production, in its own process.
"""

from __future__ import annotations

import http.client
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

# The tests' own request body and port picker, so that a benchmark seeds what the tests check.
from tests.helpers import free_ports, v2_asset  # noqa: E402

HOST = "127.0.0.1"
READY_PATH = "/api/v2/assets"
# The start of Anthias d1072171's answer to an enabled create it has inserted (legacy-api.md Q1).
ANTHIAS_Q1 = b"not supported between instances of 'str' and 'datetime.datetime'"
INLINE_LAUNCHER = (
    "import sys, waitress; from anthias_edge.app import create_app; "
    "waitress.serve(create_app(), host=sys.argv[1], port=int(sys.argv[2]), threads=8)"
)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    return free_ports(1)[0]


def server_command(port: int, python: str = sys.executable,
                   launcher: str = "auto") -> tuple[list[str], str]:
    """The command that starts the server, and a label.

    ``launcher``: ``cli`` (``anthias-edge serve``), ``inline`` (waitress around
    ``create_app()``, no background jobs) or ``auto`` (the CLI when it exists).
    """
    if launcher not in ("auto", "cli", "inline"):
        raise ValueError(f"unknown launcher {launcher!r}")
    has_cli = importlib.util.find_spec("anthias_edge.cli") is not None
    if launcher == "cli" or (launcher == "auto" and has_cli):
        return [python, "-m", "anthias_edge.cli", "serve", "--listen", f"{HOST}:{port}"], "cli"
    return [python, "-c", INLINE_LAUNCHER, HOST, str(port)], "inline waitress (threads=8)"


def server_environ(home: Path) -> dict[str, str]:
    """The parent's environment with a fresh HOME and ZeroMQ on free loopback ports.

    MALLOC_ARENA_MAX=2 as ``systemd/anthias-server.service`` sets it, so memory figures are
    those of the installed service.
    """
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ANTHIAS_")}
    environ.pop("DATABASE_URL", None)
    environ.update(HOME=str(home), ANTHIAS_ZMQ_PUBLISHER=f"tcp://{HOST}:*",
                   ANTHIAS_ZMQ_COLLECTOR=f"tcp://{HOST}:*", PYTHONDONTWRITEBYTECODE="1",
                   MALLOC_ARENA_MAX="2")
    return environ


def _proc_status(pid: int, key: str) -> int:
    """A ``kB`` figure from /proc/<pid>/status (VmRSS, VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def process_tree(pid: int) -> list[int]:
    """``pid`` and every process below it (gunicorn's master and its workers)."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                queue.extend(int(child) for child in task.read_text().split())
            except OSError:
                continue
    return found


def _cpu_ticks(pid: int) -> int:
    """utime + stime of one process, exited threads included (fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def _run_ns(pid: int) -> int:
    """Nanoseconds on a CPU of the live threads of one process (schedstat's first field)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").glob("*/schedstat"):
        try:
            total += int(task.read_text().split()[0])
        except (OSError, IndexError, ValueError):
            continue
    return total


@dataclass
class HttpTarget:
    """A server reached over HTTP on 127.0.0.1, with the process that runs it when known.

    ``pid`` names the top process; CPU and memory are summed over it and its children (a
    gunicorn master and its worker). Without a pid those figures are not available.
    """

    port: int
    label: str = "anthias-edge"
    pid: int | None = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://{HOST}:{self.port}"

    def _pids(self) -> list[int]:
        if self.pid is None:
            raise RuntimeError(f"{self.label}: no process id given, CPU and RSS unknown")
        return process_tree(self.pid)

    def rss_mb(self) -> float:
        """Resident set size now, in MiB (VmRSS summed over the process tree)."""
        return sum(_proc_status(pid, "VmRSS") for pid in self._pids()) / 1024

    def cpu_seconds(self) -> float:
        """User plus system CPU seconds the server has used so far (all its threads)."""
        return sum(_cpu_ticks(pid) for pid in self._pids()) / os.sysconf("SC_CLK_TCK")

    def cpu_ns(self) -> int:
        """CPU nanoseconds of the live threads, precise enough for a single request."""
        return sum(_run_ns(pid) for pid in self._pids())

    @property
    def has_process(self) -> bool:
        """Whether CPU and memory can be read."""
        return self.pid is not None

    def connection(self) -> http.client.HTTPConnection:
        """A keep-alive HTTP connection to the server."""
        return http.client.HTTPConnection(HOST, self.port, timeout=120)

    def request(self, method: str, path: str, body: Any = None,
                conn: http.client.HTTPConnection | None = None) -> tuple[int, Any]:
        """Send one JSON request; return the status and the decoded JSON body (or None)."""
        own = conn is None
        conn = conn or self.connection()
        try:
            payload = None if body is None else json.dumps(body)
            headers = {"Content-Type": "application/json"} if payload is not None else {}
            conn.request(method, path, body=payload, headers=headers)
            response = conn.getresponse()
            raw = response.read()
            return response.status, (json.loads(raw) if raw else None)
        finally:
            if own:
                conn.close()

    def assets(self) -> list[dict[str, Any]]:
        """Every asset, as ``GET /api/v2/assets`` lists them."""
        status, body = self.request("GET", "/api/v2/assets")
        if status != 200:
            raise RuntimeError(f"{self.label}: GET /api/v2/assets answered {status}")
        return body

    def asset_count(self) -> int:
        """How many assets ``GET /api/v2/assets`` lists."""
        return len(self.assets())

    def seed_assets(self, total: int, name_prefix: str = "Bench asset") -> list[str]:
        """Create active web-page assets until ``total`` exist; return the new ids.

        Seeds through ``POST /api/v1.1/assets``: v2 renumbers every active asset on each
        create (one UPDATE per asset), which makes seeding 1,000 through v2 quadratic.
        Anthias d1072171 inserts an enabled asset and then answers 500 (legacy-api.md Q1),
        so that answer counts as created too; the new ids come from the list.
        """
        before = {asset["asset_id"] for asset in self.assets()}
        conn = self.connection()
        try:
            for number in range(len(before), total):
                model = v2_asset(name=f"{name_prefix} {number:05d}", duration="20",
                                 is_enabled=1, skip_asset_check=1)
                form = urllib.parse.urlencode({"model": json.dumps(model)})
                conn.request("POST", "/api/v1.1/assets", body=form,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
                response = conn.getresponse()
                raw = response.read()
                created = response.status == 201 or (
                    response.status == 500 and ANTHIAS_Q1 in raw)
                if not created:
                    raise RuntimeError(f"{self.label}: seeding asset {number}: "
                                       f"HTTP {response.status} {raw!r}")
        finally:
            conn.close()
        return [asset["asset_id"] for asset in self.assets()
                if asset["asset_id"] not in before]


@dataclass
class ServerProcess(HttpTarget):
    """One server this script started: its process, temporary HOME and start-up time."""

    process: subprocess.Popen | None = None
    home: Path = field(default_factory=Path)
    launcher: str = ""
    startup_s: float = 0.0
    log_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log_path = self.home / "server.log"
        self.pid = self.process.pid

    def peak_rss_mb(self) -> float:
        """Highest resident set size so far, in MiB (VmHWM)."""
        return _proc_status(self.pid, "VmHWM") / 1024

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout``; remove the temporary HOME."""
        try:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
                try:
                    self.process.wait(timeout)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout)
            return self.process.returncode
        finally:
            shutil.rmtree(self.home, ignore_errors=True)

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def wait_for_first_200(port: int, process: subprocess.Popen, started: float,
                       timeout: float = 30.0, interval: float = 0.005) -> float:
    """Poll ``GET /api/v2/assets`` until it answers 200; return seconds since ``started``."""
    deadline = started + timeout
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before answering")
        conn = http.client.HTTPConnection(HOST, port, timeout=2)
        try:
            conn.request("GET", READY_PATH)
            if conn.getresponse().status == 200:
                return time.perf_counter() - started
        except (ConnectionError, OSError, http.client.HTTPException):
            pass
        finally:
            conn.close()
        time.sleep(interval)
    raise RuntimeError(f"no 200 from {READY_PATH} within {timeout:.0f} s")


def start_server(python: str = sys.executable, timeout: float = 30.0,
                 launcher: str = "auto", tree: Path = REPO) -> ServerProcess:
    """Spawn the production server with a fresh HOME; return once it has answered 200.

    ``tree``: the source directory it runs from (``python -m`` and ``-c`` put the working
    directory first on ``sys.path``), e.g. a ``git archive`` of one commit instead of this
    working tree with whatever is uncommitted in it.
    """
    home = Path(tempfile.mkdtemp(prefix="anthias-bench-"))
    port = free_port()
    command, label = server_command(port, python, launcher)
    log = (home / "server.log").open("wb")
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=tree, env=server_environ(home), stdout=log,
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    log.close()
    server = ServerProcess(port=port, label="anthias-edge", process=process, home=home,
                           launcher=label)
    try:
        server.startup_s = wait_for_first_200(port, process, started, timeout)
    except BaseException:
        tail = server.log_path.read_text(errors="replace")[-2000:]
        server.stop()
        sys.stderr.write(f"server log:\n{tail}\n")
        raise
    return server
