"""Where plugin settings live: table ``plugin_settings``, one per deployment (migration 0011)."""

from __future__ import annotations

import pytest
from peewee import ProgrammingError

from tests.plugin_host.distributions import install_plugin, recorder_source


def test_unset_brings_the_default_back_and_stale_keys_are_ignored(site, make_app, cli):
    install_plugin(site, "hello", recorder_source())
    runtime = make_app().extensions["anthias"]
    assert cli("plugins", "set", "hello", "greeting", "hi").exit_code == 0
    with runtime.database.connection_context():
        # As a newer version of the plugin that dropped a setting would find it.
        runtime.database.execute_sql(
            "INSERT INTO plugin_settings (plugin, key, value, secret, updated_at) "
            "VALUES ('hello', 'colour', 'red', false, CURRENT_TIMESTAMP)")

    with_value = make_app().test_client().get("/plugins/hello/greeting").get_json()
    unset = cli("plugins", "unset", "hello", "greeting")
    again = cli("plugins", "unset", "hello", "greeting")
    default = make_app().test_client().get("/plugins/hello/greeting").get_json()

    assert with_value == {"greeting": "hi"}
    assert unset.stdout == "hello.greeting removed.\n"
    assert again.stdout == "hello.greeting was not set.\n"
    assert default == {"greeting": "hello"}


def test_settings_of_a_plugin_that_is_not_installed_are_refused(app, cli):
    result = cli("plugins", "set", "nobody", "key", "value")

    assert result.exit_code == 1
    assert result.stderr == ("Error: No plugin called 'nobody' is installed "
                             "(anthias-edge plugins list shows them).\n")


@pytest.mark.postgres
def test_requests_may_read_but_never_write_the_deployments_plugin_settings(site, make_app, cli):
    install_plugin(site, "hello", recorder_source())
    runtime = make_app().extensions["anthias"]
    assert cli("plugins", "set", "hello", "greeting", "hi").exit_code == 0
    database = runtime.database

    with database.connection_context():
        with database.atomic():
            database.execute_sql("SET LOCAL ROLE anthias_app")
            read = database.execute_sql(
                "SELECT value FROM plugin_settings WHERE plugin = 'hello'").fetchall()
        with pytest.raises(ProgrammingError, match="permission denied"), database.atomic():
            database.execute_sql("SET LOCAL ROLE anthias_app")
            database.execute_sql("UPDATE plugin_settings SET value = 'pwned'")

    assert read == [("hi",)]
