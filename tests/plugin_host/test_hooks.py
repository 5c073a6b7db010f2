"""One test per hook (``test_hook_<name>``), each through a plugin installed by a real entry point.

Every test builds its own server, so each has a fresh plugin manager.
"""

from __future__ import annotations

import inspect
import logging

import pytest

from anthias_edge.plugins import hookspecs
from anthias_edge.plugins.payment import CheckoutRequest, SubscriptionChange
from tests.helpers import v1_2_asset
from tests.plugin_host.distributions import install_plugin, recorder_source


@pytest.fixture
def recorder(site):
    """The recording plugin, installed as distribution anthias-test-hello 1.2.3."""
    return install_plugin(site, "hello", recorder_source())


def _calls(plugin, hook):
    return [call[1:] for call in plugin.loaded().calls if call[0] == hook]


def test_every_hook_has_a_test_named_after_it():
    hooks = {name for name, _ in inspect.getmembers(hookspecs, inspect.isfunction)
             if hasattr(_, "anthias_edge_spec")}
    tests = {name.removeprefix("test_hook_") for name in globals()
             if name.startswith("test_hook_")}

    assert hooks == tests


def test_hook_declare_settings(recorder, make_app, cli):
    client = make_app().test_client()
    assert client.get("/plugins/hello/greeting").get_json() == {"greeting": "hello"}

    assert cli("plugins", "set", "hello", "greeting", "hi").exit_code == 0
    assert cli("plugins", "set", "hello", "repeat", "2").exit_code == 0
    refused = cli("plugins", "set", "hello", "repeat", "twice")
    unknown = cli("plugins", "set", "hello", "colour", "red")
    shown = cli("plugins", "show", "hello")
    restarted = make_app().test_client()

    assert restarted.get("/plugins/hello/greeting").get_json() == {"greeting": "hi hi"}
    assert refused.exit_code == 1
    assert "repeat must be a whole number" in refused.stderr
    assert unknown.exit_code == 1 and "has no setting 'colour'" in unknown.stderr
    assert '"value": "hi"' in shown.stdout


def test_hook_register_payment_providers(recorder, make_app, cli):
    make_app()
    assert cli("plugins", "set", "hello", "api_key", input="s3cret-key\n").exit_code == 0
    app = make_app()
    runtime = app.extensions["anthias"]

    checkout = runtime.plugins.payment_provider("testpay").create_checkout(
        CheckoutRequest(order_id="order-1", amount=150000, currency="IDR",
                        description="Basic plan"))
    with runtime.database.connection_context():
        stored = runtime.database.execute_sql(
            "SELECT value, secret FROM plugin_settings WHERE plugin = 'hello' "
            "AND key = 'api_key'").fetchone()
    shown = cli("plugins", "show", "hello")

    # The plugin got the secret decrypted; the database and `plugins show` never hold it.
    assert checkout.redirect_url == "https://pay.invalid/order-1?amount=150000&key=s3cret-key"
    assert "s3cret-key" not in stored[0] and bool(stored[1]) is True
    assert "s3cret-key" not in shown.stdout and '"value": "********"' in shown.stdout


def test_hook_register_blueprints(recorder, make_app):
    client = make_app().test_client()

    assert client.get("/plugins/hello/greeting").status_code == 200
    assert client.get("/greeting").status_code == 404  # only under its own prefix
    assert client.get("/api/v2/assets").status_code == 200  # the core is untouched


def test_hook_register_commands(recorder, environ):
    import subprocess
    import sys

    env = {**environ, "PYTHONPATH": str(recorder.site)}
    run = [sys.executable, "-m", "anthias_edge.cli"]
    said = subprocess.run([*run, "hello-say"], env=env, capture_output=True, text=True,
                          timeout=60)
    helped = subprocess.run([*run, "--help"], env=env, capture_output=True, text=True,
                            timeout=60)

    assert said.returncode == 0, said.stderr
    assert said.stdout == "hello from the plugin\n"
    assert "hello-say" in helped.stdout


def test_hook_asset_created(recorder, make_app):
    app = make_app()

    created = app.test_client().post("/api/v1.2/assets", json=v1_2_asset(name="Menu")).get_json()

    tenant = app.extensions["anthias"].local_tenant_id
    assert _calls(recorder, "asset_created") == [(tenant, created["asset_id"], "Menu", None)]


def test_hook_asset_updated(recorder, make_app):
    client = make_app().test_client()
    asset_id = client.post("/api/v1.2/assets", json=v1_2_asset(name="Menu")).get_json()[
        "asset_id"]

    response = client.put(f"/api/v1.2/assets/{asset_id}",
                          json=v1_2_asset(name="Lunch menu", duration="30"))

    assert response.status_code == 200
    [(_tenant, updated_id, name, changed, actor)] = _calls(recorder, "asset_updated")
    assert (updated_id, name, actor) == (asset_id, "Lunch menu", None)
    assert {"name", "duration"} <= set(changed)


def test_hook_asset_deleted(recorder, make_app):
    client = make_app().test_client()
    asset_id = client.post("/api/v1.2/assets", json=v1_2_asset(name="Menu")).get_json()[
        "asset_id"]

    assert client.delete(f"/api/v1.2/assets/{asset_id}").status_code == 204
    assert [call[1:3] for call in _calls(recorder, "asset_deleted")] == [(asset_id, "Menu")]


def test_hook_subscription_changed(recorder, make_app):
    runtime = make_app().extensions["anthias"]

    runtime.plugins.events.subscription_changed(SubscriptionChange(
        tenant_id="t-1", plan="basic", status="active", reason="paid",
        previous_plan="free", previous_status="trialing"))

    assert _calls(recorder, "subscription_changed") == [("t-1", "basic", "active", "paid")]


def test_a_plugin_failing_in_an_event_hook_is_logged_and_the_request_succeeds(
        recorder, site, make_app, caplog):
    install_plugin(site, "second", recorder_source(provider="otherpay", command="second-say"))
    app = make_app()
    recorder.loaded().FAIL_IN.add("asset_created")

    with caplog.at_level(logging.ERROR):
        response = app.test_client().post("/api/v1.2/assets", json=v1_2_asset(name="Menu"))

    second = app.extensions["anthias"].plugins.manager.get_plugin("second")
    assert response.status_code == 201
    assert [c[0] for c in second.calls if c[0] == "asset_created"] == ["asset_created"]
    assert "plugin hello failed in asset_created" in caplog.text
    assert any(r.name == "anthias_edge.plugins.hello" for r in caplog.records)


def test_v3_writes_reach_plugins_with_their_tenant_and_signed_in_actor(recorder, make_world):
    world = make_world()
    headers = world.auth("editor")

    created = world.client.post("/api/v3/assets", headers=headers, json={
        "name": "Lobby", "uri": "https://example.com/", "mimetype": "webpage",
        "skip_asset_check": True}).get_json()
    world.client.delete(f"/api/v3/assets/{created['asset_id']}", headers=headers)

    [(tenant, asset_id, name, actor)] = _calls(recorder, "asset_created")
    assert (tenant, asset_id, name) == (world.a, created["asset_id"], "Lobby")
    assert actor is not None and world.users[(world.a, "editor")] in actor
    assert [call[:2] for call in _calls(recorder, "asset_deleted")] == [
        (world.a, created["asset_id"])]
