"""The built-in midtrans plugin as an operator meets it: listed, configured, refused."""

from __future__ import annotations

import json
import logging

from click.testing import CliRunner

from anthias_edge.cli import main
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


def test_a_sandbox_key_in_production_disables_the_plugin_naming_why(make_app, caplog):
    # An operator's mistake must not stop the server (and its screens): the plugin is off,
    # the log and `plugins list` say why, and the key itself is never written out.
    with caplog.at_level(logging.ERROR, logger="anthias_edge.plugins"):
        app = make_app(ANTHIAS_PLUGIN_MIDTRANS_SERVER_KEY="SB-Mid-server-abc",
                       ANTHIAS_PLUGIN_MIDTRANS_ENVIRONMENT="production")

    plugins = app.extensions["anthias"].plugins
    assert "midtrans" not in plugins.payment_providers
    record = plugins.record("midtrans")
    assert record is not None and not record.enabled
    assert "sandbox server key" in record.problem
    logged = [r.getMessage() for r in caplog.records]
    assert any("plugin midtrans disabled" in m and "sandbox server key" in m for m in logged)
    assert all("SB-Mid-server-abc" not in m for m in logged)
    assert app.test_client().get("/api/v2/assets").status_code in (200, 401)


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
