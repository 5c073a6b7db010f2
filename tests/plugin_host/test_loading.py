"""Finding and loading plugins: entry points, built-ins, and plugins that are left out, and why."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import pytest

from anthias_edge.errors import StartupError
from anthias_edge.plugins.builtin import DEFAULT_PLUGINS
from anthias_edge.plugins.manager import builtin_candidates, load_plugins
from tests.plugin_host.distributions import install_plugin, recorder_source

TYPO = '''
from anthias_edge.plugins import hookimpl

@hookimpl
def asset_creatd(asset):
    pass
'''

RAISES_AT_REGISTRATION = '''
from anthias_edge.plugins import hookimpl

@hookimpl
def register_blueprints(settings):
    raise RuntimeError("no routes today")
'''


def _records(result):
    return {record["name"]: record for record in json.loads(result.stdout)}


def test_the_plugin_manager_fixture_is_fresh_and_knows_every_hook(plugin_manager):
    assert plugin_manager.get_plugins() == set()
    assert {"declare_settings", "register_payment_providers", "register_blueprints",
            "register_commands", "asset_created", "asset_updated", "asset_deleted",
            "subscription_changed"} <= {name for name in vars(plugin_manager.hook)
                                        if not name.startswith("_")}


def test_built_ins_are_registered_like_any_plugin_and_listed_as_builtin(app, cli):
    records = _records(cli("plugins", "list", "--json"))

    assert [name.rsplit(".", 1)[-1] for name in DEFAULT_PLUGINS] == ["event_log", "midtrans"]
    assert records["event_log"]["source"] == "builtin"
    assert records["event_log"]["enabled"] is True
    assert "asset_created" in records["event_log"]["hooks"]
    assert app.extensions["anthias"].plugins.manager.has_plugin("event_log")


def test_plugins_list_in_a_subprocess_shows_an_installed_plugin(site, environ, app):
    install_plugin(site, "hello", recorder_source(), dist="anthias-hello", version="0.4.0")

    result = subprocess.run([sys.executable, "-m", "anthias_edge.cli", "plugins", "list"],
                            env={**environ, "PYTHONPATH": str(site)}, capture_output=True,
                            text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("hello\t"))
    _name, version, source, state, hooks = line.split("\t")
    assert (version, state) == ("0.4.0", "enabled")
    assert source.startswith("entry point anthias_test_hello") and "(anthias-hello)" in source
    assert hooks.split(",") == sorted(
        ["asset_created", "asset_deleted", "asset_updated", "declare_settings",
         "register_blueprints", "register_commands", "register_payment_providers",
         "subscription_changed"])


def test_a_plugin_that_cannot_be_imported_is_named_in_the_log_and_the_server_starts(
        site, make_app, cli, caplog):
    install_plugin(site, "ghost", "", target="anthias_no_such_module")

    with caplog.at_level(logging.ERROR):
        client = make_app().test_client()
    listed = cli("plugins", "list")

    assert client.get("/api/v2/assets").status_code == 200
    assert "plugin ghost disabled: import failed: ModuleNotFoundError" in caplog.text
    assert "ghost\t1.2.3\tentry point anthias_no_such_module" in listed.stdout
    assert ("  not loaded: import failed: ModuleNotFoundError: No module named "
            "'anthias_no_such_module'") in listed.stdout


def test_a_hook_whose_name_is_no_hook_disables_its_plugin(site, make_app, cli, caplog):
    install_plugin(site, "typo", TYPO)

    with caplog.at_level(logging.ERROR):
        host = make_app().extensions["anthias"].plugins
    record = _records(cli("plugins", "list", "--json"))["typo"]

    assert not host.manager.has_plugin("typo")
    assert record["enabled"] is False
    assert "asset_creatd" in record["problem"] and record["problem"].startswith("refused")
    assert "plugin typo disabled" in caplog.text


def test_an_exception_in_a_registration_hook_disables_only_that_plugin(site, make_app, cli):
    install_plugin(site, "hello", recorder_source())
    install_plugin(site, "grumpy", RAISES_AT_REGISTRATION)

    client = make_app().test_client()
    records = _records(cli("plugins", "list", "--json"))

    assert records["grumpy"]["enabled"] is False
    assert records["grumpy"]["problem"] == "refused: RuntimeError: no routes today"
    assert records["hello"]["enabled"] is True
    assert client.get("/plugins/hello/greeting").status_code == 200


def test_invalid_settings_disable_the_plugin_until_they_are_set(site, make_app, cli):
    install_plugin(site, "hello", recorder_source(required=True))

    first = make_app()
    before = _records(cli("plugins", "list", "--json"))["hello"]
    assert cli("plugins", "set", "hello", "api_key", "k-1").exit_code == 0
    after = make_app()

    assert before["enabled"] is False
    assert before["problem"].startswith("refused: Invalid settings of plugin hello: "
                                        "api_key is required")
    assert first.test_client().get("/plugins/hello/greeting").status_code == 404
    assert after.test_client().get("/plugins/hello/greeting").status_code == 200


def test_the_environment_overrides_a_stored_setting(site, make_app):
    install_plugin(site, "hello", recorder_source())

    client = make_app(ANTHIAS_PLUGIN_HELLO_GREETING="salam").test_client()

    assert client.get("/plugins/hello/greeting").get_json() == {"greeting": "salam"}


def test_a_second_provider_of_a_taken_name_disables_the_plugin_offering_it(site, make_app, cli):
    install_plugin(site, "alpha", recorder_source(provider="samepay", command="alpha-say"))
    install_plugin(site, "beta", recorder_source(provider="samepay", command="beta-say"))

    runtime = make_app().extensions["anthias"]
    records = _records(cli("plugins", "list", "--json"))

    assert records["alpha"]["enabled"] is True  # sorted by name: alpha loads first
    assert records["beta"]["enabled"] is False
    assert "payment provider 'samepay' is already registered" in records["beta"]["problem"]
    assert list(runtime.plugins.payment_providers) == ["samepay"]
    assert not runtime.plugins.manager.has_plugin("beta")


def test_a_third_party_plugin_may_not_take_a_built_in_name(site, make_app, cli):
    install_plugin(site, "event_log", recorder_source())

    runtime = make_app().extensions["anthias"]
    listed = cli("plugins", "list", "--json")
    third_party = [r for r in json.loads(listed.stdout) if r["source"] != "builtin"]

    assert third_party[0]["enabled"] is False
    assert third_party[0]["problem"] == "the name is already taken by builtin"
    assert runtime.plugins.record("event_log").source == "builtin"
    assert runtime.plugins.payment_providers == {}


def test_a_broken_built_in_stops_the_start():
    with pytest.raises(StartupError, match="Built-in plugin missing failed: import failed"):
        load_plugins(None, builtins=builtin_candidates(["anthias_edge.plugins.builtin.missing"]),
                     third_party=[])


def test_disabled_plugins_are_not_even_imported(site, make_app, cli):
    plugin = install_plugin(site, "hello", recorder_source())

    make_app(ANTHIAS_DISABLED_PLUGINS="hello, event_log")
    records = _records(cli("plugins", "list", "--json",
                           ANTHIAS_DISABLED_PLUGINS="hello, event_log"))

    assert plugin.module not in sys.modules
    assert records["hello"]["problem"] == "disabled by the disabled_plugins setting"
    assert records["event_log"]["enabled"] is False


@pytest.mark.parametrize("how", ["setting", "flag"])
def test_safe_mode_loads_the_built_ins_only(site, make_app, cli, how):
    plugin = install_plugin(site, "hello", recorder_source())

    if how == "setting":
        runtime = make_app(ANTHIAS_PLUGINS_SAFE_MODE="on").extensions["anthias"]
        assert runtime.plugins.manager.has_plugin("event_log")
        assert plugin.module not in sys.modules
    listed = (cli("plugins", "list", "--safe") if how == "flag"
              else cli("plugins", "list", ANTHIAS_PLUGINS_SAFE_MODE="on"))

    assert listed.exit_code == 0
    assert "  not loaded: safe mode: third-party plugins are not loaded" in listed.stdout
    assert "event_log\t" in listed.stdout
    assert plugin.module not in sys.modules


def test_a_plugin_command_may_not_take_a_core_commands_name(site):
    import click

    install_plugin(site, "hello", recorder_source(command="serve"))
    install_plugin(site, "other", recorder_source(provider="otherpay", command="other-say"))
    host = load_plugins(None)
    cli = click.Group("anthias-edge")

    host.add_commands(cli, {"serve", "plugins"})

    assert sorted(cli.commands) == ["other-say"]
    assert host.record("hello").problem == ("register_commands failed: ValueError: "
                                            "command serve is already taken")


HALF_A_PROVIDER = '''
from anthias_edge.plugins import hookimpl

class Half:
    name = "halfpay"
    currencies = ("IDR",)

    def create_checkout(self, request):
        return None

@hookimpl
def register_payment_providers(settings):
    return [Half()]
'''


def test_a_provider_without_every_operation_disables_its_plugin(site, make_app, cli):
    install_plugin(site, "half", HALF_A_PROVIDER)

    runtime = make_app().extensions["anthias"]
    record = _records(cli("plugins", "list", "--json"))["half"]

    assert runtime.plugins.payment_providers == {}
    assert record["enabled"] is False
    assert "is not a PaymentProvider" in record["problem"]


def test_a_plugin_name_that_cannot_be_a_url_part_is_refused(site, make_app, cli, caplog):
    plugin = install_plugin(site, "Hello.World", recorder_source())

    with caplog.at_level(logging.ERROR):
        make_app()
    record = _records(cli("plugins", "list", "--json"))["Hello.World"]

    assert record["enabled"] is False
    assert record["problem"].startswith("its name is not lower-case letters, digits")
    assert "plugin Hello.World disabled" in caplog.text
    assert plugin.module not in sys.modules
