"""Counting is exact under concurrency: 8 clients x 250 GETs of one code over real HTTP."""

from __future__ import annotations

import http.client
import threading
from collections import Counter
from collections.abc import Callable
from urllib.parse import urlsplit

from flask import Flask

from tests.helpers import serve_wsgi
from tests.web.landing_data import add_asset, add_code, scans

CLIENTS = 8
GETS = 250


def hammer(url: str, path: str, host: str | None = None) -> Counter:
    """CLIENTS keep-alive connections, each GETting ``path`` GETS times; the statuses seen."""
    address = urlsplit(url)
    statuses: Counter = Counter()
    lock = threading.Lock()
    start = threading.Barrier(CLIENTS)

    def client() -> None:
        conn = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
        seen: Counter = Counter()
        start.wait()
        try:
            for _ in range(GETS):
                conn.request("GET", path, headers={"Host": host} if host else {})
                response = conn.getresponse()
                response.read()
                seen[response.status] += 1
        finally:
            conn.close()
            with lock:
                statuses.update(seen)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return statuses


def test_eight_clients_opening_one_code_250_times_each_count_exactly_2000(
        make_app: Callable[..., Flask]) -> None:
    app = make_app(ANTHIAS_QR_RATE_LIMIT="0")  # all from 127.0.0.1: the limit would refuse most
    code = add_code(app, add_asset(app))
    other = add_code(app, add_asset(app))

    with serve_wsgi(app, threads=8) as url:
        statuses = hammer(url, f"/q/{code.qr_code}")

    assert statuses == Counter({200: CLIENTS * GETS})
    assert scans(app, code.qr_code)[0] == 2000
    assert scans(app, other.qr_code)[0] == 0
