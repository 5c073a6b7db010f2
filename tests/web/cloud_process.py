"""A real cloud server in a process of its own, for the device's Cloud page tests.

Models reach their database through one proxy per process (anthias_edge.db.db), so a
device app (SQLite) and a cloud app (PostgreSQL) cannot serve from the same process. The
cloud runs here as ``ANTHIAS_MODE=cloud`` behind waitress on a free loopback port, on a
PostgreSQL database of its own, with tenant ``acme`` (owner ``acme-owner``). Rows the tests
need in it (pairing codes, a claim) are made by the fleet services in a short-lived process
bound to the same database (``CloudProcess.run``), as an admin's console call would.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.cloud.pg import database_url, drop_database, fresh_database

SECRET_KEY = "Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE="
PASSWORD = "correct horse battery"
ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60

SERVE = """
import sys, waitress
from anthias_edge.app import create_app
from anthias_edge.services.tenants import create_tenant
app = create_app(environ=ENVIRON)
runtime = app.extensions["anthias"]
with runtime.database.connection_context():
    tenant, _owner = create_tenant("Acme Signs", "acme", "acme-owner", PASSWORD)
server = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
print("READY", server.effective_port, tenant.id, flush=True)
server.run()
"""

RUN = """
import json
from anthias_edge.app import create_app
from anthias_edge.services.row_security import tenant_scope
app = create_app(environ=ENVIRON)
database = app.extensions["anthias"].database
TENANT = TENANT_ID
with database.connection_context(), tenant_scope(database, TENANT):
{body}
print("RESULT", json.dumps(result, default=str), flush=True)
"""


@dataclass
class CloudProcess:
    """The running cloud: its base URL, tenant id and database."""

    url: str
    tenant_id: str
    environ: dict[str, str]

    def run(self, body: str) -> Any:
        """Run ``body`` (Python setting ``result``) in the cloud's tenant; answer ``result``."""
        return run_in_cloud(self.environ, self.tenant_id, body)

    def pairing_code(self, name: str | None = None) -> str:
        """A fresh one-time pairing code of tenant acme."""
        return self.run(f"""
            from anthias_edge.services.fleet.enrolment import EnrolmentService
            result = EnrolmentService(TENANT, actor="test").create_pairing_code({name!r}).code
        """)

    def claim(self, code: str, name: str | None = None) -> dict[str, Any]:
        """An admin of acme claims the code a device shows."""
        return self.run(f"""
            from anthias_edge.services.fleet.linking import claim_device_code
            device = claim_device_code(TENANT, {code!r}, {name!r}, actor="test")
            result = {{"device_id": device.device_id, "name": device.name}}
        """)

    def device(self, device_id: str) -> dict[str, Any]:
        """A device row of acme as the cloud holds it."""
        return self.run(f"""
            from anthias_edge.models import Device
            row = Device.get_by_id({device_id!r})
            result = {{"name": row.name, "status": row.status, "linked_via": row.linked_via}}
        """)


def run_in_cloud(environ: dict[str, str], tenant_id: str, body: str) -> Any:
    """Run ``body`` (Python setting ``result``) in a process of its own, as the cloud app of
    ``environ`` within ``tenant_id``; answer ``result``."""
    script = (f"ENVIRON = {environ!r}\nTENANT_ID = {tenant_id!r}\n"
              + RUN.format(body=textwrap.indent(textwrap.dedent(body), "    ")))
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env=_env(environ))
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    raise AssertionError(f"the cloud snippet failed:\n{done.stdout}\n{done.stderr}")


def _env(extra: dict[str, str]) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANTHIAS_")}
    return {**env, **extra}


@contextlib.contextmanager
def cloud_process(home: Path, name: str) -> Iterator[CloudProcess]:
    """The cloud app on a fresh database ``name``, served until the block ends."""
    url = fresh_database(name)
    environ = {"HOME": str(home), "ANTHIAS_MODE": "cloud", "DATABASE_URL": url,
               "ANTHIAS_SECRET_KEY": SECRET_KEY}
    script = f"ENVIRON = {environ!r}\nPASSWORD = {PASSWORD!r}\n" + SERVE
    process = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               env=_env(environ))
    try:
        line = _ready_line(process)
        _ready, port, tenant_id = line.split()
        yield CloudProcess(f"http://127.0.0.1:{port}", tenant_id, environ)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()
        drop_database(name)


def _ready_line(process: subprocess.Popen[str]) -> str:
    import selectors

    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    if not selector.select(timeout=START_TIMEOUT_S):
        raise AssertionError(f"the cloud server did not start within {START_TIMEOUT_S} s")
    line = process.stdout.readline()
    if not line.startswith("READY "):
        raise AssertionError(f"the cloud server did not start: {line!r} (exit "
                             f"{process.poll()})")
    return line


def cloud_database_name(suffix: str) -> str:
    """This run's own database, named after ANTHIAS_TEST_DATABASE_URL's (parallel runs on
    other databases never drop each other's)."""
    from urllib.parse import urlparse

    base = urlparse(os.environ.get("ANTHIAS_TEST_DATABASE_URL") or database_url("anthias"))
    return f"{(base.path.strip('/') or 'anthias').replace('-', '_')}_{suffix}"
