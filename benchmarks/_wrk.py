"""Drive a server with ``wrk`` and read its figures back.

A run is bounded by time (``-d``) and, optionally, by a count of responses per wrk thread.
wrk itself always sleeps the whole ``-d`` before it reports, even when every thread has
stopped early, so its requests/s would be diluted: each thread that reaches its count
appends a line to a marker file, and once every thread has, the caller interrupts wrk
(SIGINT), which then reports over the time really spent.

Scenario scripts are Lua snippets that define ``request()`` (and optionally ``setup`` /
``init``); the prelude here adds the response counter and the stop.
"""

from __future__ import annotations

import re
import resource
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
POLL_S = 0.005
PRELUDE = """
local stop_marker = {marker}
local limit = {limit}
local answered = 0
function response(status, headers, body)
  answered = answered + 1
  if answered == limit then
    local f = io.open(stop_marker, "a")
    f:write("done\\n")
    f:close()
    wrk.thread:stop()
  end
end
"""


class Measured(Protocol):
    """What a run needs from a server: its address and the CPU it has used."""

    @property
    def base_url(self) -> str: ...

    def cpu_seconds(self) -> float: ...


@dataclass
class LoadResult:
    """One wrk run: throughput, latency percentiles and CPU used on each side."""

    scenario: str
    connections: int
    requests: int
    seconds: float
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int
    server_cpu_pct: float
    server_cpu_ms_per_request: float
    wrk_cpu_pct: float


def lua_quote(text: str) -> str:
    """A Lua long-bracket string literal that holds ``text`` unchanged."""
    level = 0
    while f"]{'=' * level}]" in text:
        level += 1
    return f"[{'=' * level}[{text}]{'=' * level}]"


def fixed_request(method: str, body: str | None, content_type: str = "application/json",
                  headers: dict[str, str] | None = None) -> str:
    """Lua for the same request every time (the path is wrk's URL)."""
    extra = "".join(f"wrk.headers[{lua_quote(name)}] = {lua_quote(value)}\n"
                    for name, value in (headers or {}).items())
    return (f"wrk.method = {lua_quote(method)}\n"
            f"wrk.body = {'nil' if body is None else lua_quote(body)}\n"
            f"wrk.headers[\"Content-Type\"] = {lua_quote(content_type)}\n" + extra)


def to_ms(value: str) -> float:
    """``'1.23ms'``, ``'850.00us'``, ``'1.02s'`` to milliseconds."""
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value.strip())
    if match is None:
        raise ValueError(f"unexpected wrk duration {value!r}")
    return float(match[1]) * UNIT_MS[match[2]]


def parse_wrk(output: str) -> dict[str, Any]:
    """Requests, duration, requests/s, p50/p99 and error count from ``wrk --latency`` output."""
    total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", output)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    if not (total and rate):
        raise RuntimeError(f"could not read wrk output:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    errors = int(non_2xx[1]) if non_2xx else 0
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    nan = float("nan")  # no latency lines when nothing was answered
    return {"requests": int(total[1]), "seconds": to_ms(total[2] + total[3]) / 1000,
            "requests_per_s": float(rate[1]), "p50_ms": to_ms(p50[1]) if p50 else nan,
            "p99_ms": to_ms(p99[1]) if p99 else nan, "errors": errors}


def children_cpu_seconds() -> float:
    """CPU seconds used by waited-for children (the wrk runs)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _wait(process: subprocess.Popen, marker: Path, threads: int, deadline: float) -> None:
    """Wait for wrk; interrupt it once every thread has written its stop line."""
    interrupted = False
    while process.poll() is None:
        if time.perf_counter() > deadline:
            process.kill()
            raise RuntimeError("wrk did not finish in time")
        if not interrupted and marker.exists() and \
                marker.read_text().count("done") >= threads:
            process.send_signal(signal.SIGINT)
            interrupted = True
        time.sleep(POLL_S)


def run_wrk(server: Measured, scenario: str, path: str, duration: int, script: str,
            connections: int, threads: int, limit_per_thread: int,
            timeout_s: int = 10) -> LoadResult:
    """One wrk run of ``script`` against ``path``, at most ``duration`` seconds.

    Each wrk thread stops after ``limit_per_thread`` responses.
    """
    with tempfile.TemporaryDirectory(prefix="wrk-") as scratch:
        marker = Path(scratch) / "stopped"
        script_path = Path(scratch) / "scenario.lua"
        script_path.write_text(
            PRELUDE.format(marker=lua_quote(str(marker)), limit=max(1, limit_per_thread))
            + script)
        command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s",
                   "--timeout", f"{timeout_s}s", "--latency", "-s", str(script_path),
                   server.base_url + path]
        server_cpu, wrk_cpu = server.cpu_seconds(), children_cpu_seconds()
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True)
        try:
            _wait(process, marker, threads, started + duration + 60)
        finally:
            stdout, stderr = process.communicate()
        wall = time.perf_counter() - started
        server_cpu = server.cpu_seconds() - server_cpu
        wrk_cpu = children_cpu_seconds() - wrk_cpu
    if process.returncode != 0 and "requests in" not in stdout:
        raise RuntimeError(f"wrk failed ({process.returncode}): {stderr or stdout}")
    figures = parse_wrk(stdout)
    return LoadResult(scenario=scenario, connections=connections,
                      server_cpu_pct=100 * server_cpu / wall,
                      server_cpu_ms_per_request=1000 * server_cpu / max(1, figures["requests"]),
                      wrk_cpu_pct=100 * wrk_cpu / wall, **figures)


def ids_table(ids: list[str]) -> str:
    """A Lua table literal of asset ids (hex strings, no quoting needed beyond ``"``)."""
    for asset_id in ids:
        if not re.fullmatch(r"[0-9A-Za-z_-]+", asset_id):
            raise ValueError(f"unexpected asset id {asset_id!r}")
    return "{" + ",".join(f'"{asset_id}"' for asset_id in ids) + "}"


def thread_numbering() -> str:
    """Lua that gives each wrk thread ``index`` (0-based) and ``threads`` in its own state."""
    return """
local created = 0
function setup(thread)
  thread:set("index", created)
  created = created + 1
end
"""

