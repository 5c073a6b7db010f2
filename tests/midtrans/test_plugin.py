"""The built-in midtrans plugin as an operator meets it: listed, configured, refused."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from anthias_edge.cli import main
from anthias_edge.errors import StartupError
from tests.midtrans_emulator import Emulator


def _cli(environ: dict[str, str], *args: str, input: str | None = None, **env: str):
    return CliRunner().invoke(main, list(args), env={**environ, **env}, input=input)


def test_plugins_list_shows_midtrans_enabled(app, environ):
    listed = _cli(environ, "plugins", "list", "--json")

    records = {r["name"]: r for r in json.loads(listed.stdout)}
    assert records["midtrans"]["enabled"] is True
    assert records["midtrans"]["source"] == "builtin"
    assert "register_payment_providers" in records["midtrans"]["hooks"]


def test_without_a_server_key_the_deployment_has_no_midtrans_provider(app):
    assert "midtrans" not in app.extensions["anthias"].plugins.payment_providers


def test_a_server_key_from_the_environment_enables_the_provider(make_app, emulator: Emulator):
    app = make_app(ANTHIAS_PLUGIN_MIDTRANS_SERVER_KEY=emulator.server_key)

    provider = app.extensions["anthias"].plugins.payment_providers["midtrans"]
    assert provider.currencies == ("IDR",)


def test_a_sandbox_key_in_production_stops_the_start_naming_the_plugin(make_app):
    with pytest.raises(StartupError) as caught:
        make_app(ANTHIAS_PLUGIN_MIDTRANS_SERVER_KEY="SB-Mid-server-abc",
                 ANTHIAS_PLUGIN_MIDTRANS_ENVIRONMENT="production")

    assert "midtrans" in caught.value.message
    assert "sandbox server key" in caught.value.message
    assert "SB-Mid-server-abc" not in caught.value.message


def test_the_stored_server_key_is_encrypted_and_never_shown(app, environ):
    stored = _cli(environ, "plugins", "set", "midtrans", "server_key", "Mid-server-live123")
    shown = _cli(environ, "plugins", "show", "midtrans")

    assert stored.exit_code == 0, stored.output
    assert "Mid-server-live123" not in shown.stdout
    assert json.loads(shown.stdout)["server_key"]["value"] == "********"
    runtime = app.extensions["anthias"]
    with runtime.database.connection_context():
        rows = runtime.database.execute_sql(
            "SELECT value FROM plugin_settings WHERE plugin = 'midtrans'").fetchall()
    assert rows and all("Mid-server-live123" not in row[0] for row in rows)


def test_an_unknown_environment_is_refused_when_set(app, environ):
    result = _cli(environ, "plugins", "set", "midtrans", "environment", "staging")

    assert result.exit_code != 0
    assert "sandbox, production" in result.output
