"""The v2 write scenarios (wrk Lua) and the cold-render probe, for any Anthias-compatible server.

Every scenario sends the same requests to Anthias Edge and to Anthias: the v2 routes and
bodies of docs/legacy-api.md, so one run can set the two side by side.
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import dataclass
from typing import Any, Protocol

from _wrk import ids_table, lua_quote, thread_numbering

FORM = "application/x-www-form-urlencoded"
# Let the thread that answered finish its own bookkeeping before CPU is read again.
SETTLE_S = 0.005


class Target(Protocol):
    """What the probes need from a server (see ``_server.HttpTarget``)."""

    label: str

    def connection(self) -> Any: ...

    def cpu_ns(self) -> int: ...


def patch_rotating(ids: list[str], threads: int) -> str:
    """PATCH a new name onto each asset in turn; threads start at different assets.

    The name changes on every request, so no server can skip the write as a no-op.
    """
    return thread_numbering() + f"""
local ids = {ids_table(ids)}
local n = 0
request = function()
  local i = ((index + n * {threads}) % #ids) + 1
  n = n + 1
  local body = '{{"name":"patched ' .. index .. '-' .. n .. '"}}'
  return wrk.format("PATCH", "/api/v2/assets/" .. ids[i],
                    {{["Content-Type"] = "application/json"}}, body)
end
"""


def reorder_by_swaps(active_in_order: list[str]) -> str:
    """POST the whole playlist order with two neighbours swapped, as a dashboard drag sends it.

    Each thread keeps its own copy of the order and swaps a different pair each time.
    """
    return thread_numbering() + f"""
local ids = {ids_table(active_in_order)}
local n = 0
request = function()
  local k = ((index * 7 + n) % (#ids - 1)) + 1
  n = n + 1
  ids[k], ids[k + 1] = ids[k + 1], ids[k]
  return wrk.format("POST", "/api/v2/assets/order", {{["Content-Type"] = {lua_quote(FORM)}}},
                    "ids=" .. table.concat(ids, ","))
end
"""


def create_fixed(body: dict[str, Any]) -> str:
    """POST the same v2 create body every time (the server settles the names)."""
    return f"""
request = function()
  return wrk.format("POST", "/api/v2/assets", {{["Content-Type"] = "application/json"}},
                    {lua_quote(json.dumps(body))})
end
"""


def delete_each(ids: list[str], threads: int) -> str:
    """DELETE every id once: thread ``t`` takes ids t, t + threads, ...

    Past its share a thread wraps around (answers 404), so callers stop each thread
    before that: ``delete_limit``.
    """
    return thread_numbering() + f"""
local ids = {ids_table(ids)}
local n = 0
request = function()
  local i = index + n * {threads}
  n = n + 1
  return wrk.format("DELETE", "/api/v2/assets/" .. ids[(i % #ids) + 1])
end
"""


def delete_limit(count: int, threads: int, connections: int) -> int:
    """Responses per thread that never reach a wrapped (already deleted) id.

    A thread may have one request in flight per connection when it stops.
    """
    return count // threads - connections // threads


@dataclass
class ColdRender:
    """CPU and time of list requests right after a write, and of the same list cached."""

    path: str
    samples: int
    get_cpu_ms: float
    get_wall_ms: float
    write_cpu_ms: float
    cycle_cpu_ms: float
    warm_cpu_ms: float
    warm_wall_ms: float
    statuses: list[int]


def _call(conn: Any, method: str, path: str, body: Any = None) -> tuple[int, float]:
    """One request on a kept connection; the status and the seconds until the body was read."""
    payload = None if body is None else json.dumps(body)
    headers = {"Content-Type": "application/json"} if payload is not None else {}
    started = time.perf_counter()
    conn.request(method, path, body=payload, headers=headers)
    response = conn.getresponse()
    response.read()
    return response.status, time.perf_counter() - started


def cold_render(target: Target, path: str, ids: list[str], samples: int) -> ColdRender:
    """PATCH a name, then GET ``path`` and read the server's CPU around the GET; repeat.

    One keep-alive connection, one request at a time, so the only work in the server
    during the GET is the GET. CPU comes from /proc/<pid>/task/*/schedstat (nanoseconds of
    the live threads). A second GET right after shows the cached cost. ``cycle`` is the
    PATCH and the first GET together: work moved from the read into the write shows there.
    """
    conn = target.connection()
    get_cpu, get_wall, write_cpu, cycle_cpu, warm_cpu, warm_wall = [], [], [], [], [], []
    statuses: set[int] = set()
    try:
        for number in range(samples):
            asset_id = ids[number % len(ids)]
            before_write = target.cpu_ns()
            status, _ = _call(conn, "PATCH", f"/api/v2/assets/{asset_id}",
                              {"name": f"cold render {number}"})
            statuses.add(status)
            time.sleep(SETTLE_S)
            before_get = target.cpu_ns()
            status, wall = _call(conn, "GET", path)
            statuses.add(status)
            time.sleep(SETTLE_S)
            after_get = target.cpu_ns()
            status, warm = _call(conn, "GET", path)
            statuses.add(status)
            time.sleep(SETTLE_S)
            after_warm = target.cpu_ns()
            get_cpu.append((after_get - before_get) / 1e6)
            get_wall.append(wall * 1000)
            write_cpu.append((before_get - before_write) / 1e6)
            cycle_cpu.append((after_get - before_write) / 1e6)
            warm_cpu.append((after_warm - after_get) / 1e6)
            warm_wall.append(warm * 1000)
    finally:
        conn.close()
    median = statistics.median
    return ColdRender(path=path, samples=samples, get_cpu_ms=median(get_cpu),
                      get_wall_ms=median(get_wall), write_cpu_ms=median(write_cpu),
                      cycle_cpu_ms=median(cycle_cpu), warm_cpu_ms=median(warm_cpu),
                      warm_wall_ms=median(warm_wall), statuses=sorted(statuses))
