"""``anthias-edge qr list|create|deactivate`` on a device's own database, as a script runs it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from anthias_edge.app import create_app
from anthias_edge.cli import main

pytestmark = pytest.mark.sqlite_only  # the device's SQLite file under HOME
ENV = {"ANTHIAS_ZMQ_PUBLISHER": "tcp://127.0.0.1:*", "ANTHIAS_ZMQ_COLLECTOR": "tcp://127.0.0.1:*"}
PAGE = {"name": "Menu", "uri": "https://example.com/menu", "mimetype": "webpage",
        "start_date": "2024-01-01T00:00:00Z", "end_date": "2099-01-01T00:00:00Z",
        "duration": 10, "is_enabled": True, "skip_asset_check": True}


def run(home: Path, *args: str, **env: str) -> Result:
    """``anthias-edge ARGS`` with HOME set, stdout and stderr apart."""
    return CliRunner().invoke(main, list(args), env={"HOME": str(home), **ENV, **env})


@pytest.fixture
def asset(home: Path) -> str:
    """An asset made through the v2 API of a server on ``home``; its id."""
    app = create_app(environ={"HOME": str(home), **ENV})
    try:
        response = app.test_client().post("/api/v2/assets", json=PAGE)
        assert response.status_code == 201, response.get_json()
        return response.get_json()["asset_id"]
    finally:
        runtime = app.extensions["anthias"]
        runtime.messenger.close()
        runtime.close_database()


def test_create_prints_the_code_and_list_shows_it_with_its_landing_url(home, asset):
    made = run(home, "qr", "create", asset, "--barcode", "--title", "Lunch",
               ANTHIAS_PUBLIC_URL="https://signs.example.com")
    listed = run(home, "qr", "list", "--json", ANTHIAS_PUBLIC_URL="https://signs.example.com")

    assert made.exit_code == 0, made.output
    code, barcode, state, scans, url, title = made.stdout.rstrip("\n").split("\t")
    assert re.fullmatch(r"QR[0-9A-F]{16}", code) and re.fullmatch(r"BC[0-9A-F]{12}", barcode)
    assert (state, scans, url, title) == ("active", "0", f"https://signs.example.com/q/{code}",
                                          "Lunch")
    assert listed.exit_code == 0, listed.output
    assert [(r["qr_code"], r["asset_id"], r["landing_url"]) for r in json.loads(listed.stdout)] \
        == [(code, asset, f"https://signs.example.com/q/{code}")]


def test_deactivate_turns_the_code_off_and_the_list_filters_on_it(home, asset):
    code = run(home, "qr", "create", asset).stdout.split("\t")[0]

    off = run(home, "qr", "deactivate", code)
    active = run(home, "qr", "list", "--active")
    inactive = run(home, "qr", "list", "--inactive")

    assert off.exit_code == 0, off.output
    assert off.stdout.split("\t")[2] == "inactive"
    assert active.stdout == ""
    assert inactive.stdout.split("\t")[0] == code


def test_the_audit_log_names_the_cli_as_actor(home, asset):
    code = run(home, "qr", "create", asset).stdout.split("\t")[0]
    run(home, "qr", "deactivate", code)

    app = create_app(environ={"HOME": str(home), **ENV})
    try:
        from anthias_edge.models import AuditLog
        with app.extensions["anthias"].database.connection_context():
            entries = [(e.actor, e.action, e.object_id) for e in
                       AuditLog.select().where(AuditLog.object_type == "qr_content")
                       .order_by(AuditLog.id)]
    finally:
        app.extensions["anthias"].messenger.close()
        app.extensions["anthias"].close_database()
    assert entries == [("cli", "qr.create", code), ("cli", "qr.update", code)]


@pytest.mark.parametrize(("args", "message", "exit_code"), [
    (("qr", "create", "0" * 32), "No asset of yours has that id.", 1),
    (("qr", "create", "ASSET", "--expires", "2020-01-01T00:00:00Z"), "Must be in the future", 1),
    (("qr", "create", "ASSET", "--expires", "soon"), "--expires", 2),
    (("qr", "deactivate", "QR0000000000000000"), "No QR content of yours has that code.", 1),
    (("qr", "deactivate", "nonsense"), "No QR content of yours has that code.", 1),
    (("qr", "list", "--tenant", "nobody"), "", 1),
])
def test_mistakes_end_in_one_error_line_and_write_nothing(home, asset, args, message,
                                                          exit_code):
    result = run(home, *[asset if a == "ASSET" else a for a in args])

    assert result.exit_code == exit_code, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0], lines
    assert run(home, "qr", "list").stdout == ""
