"""`/api/v2/device_settings`, `/info`, `/integrations`, reboot and shutdown
(docs/legacy-api.md §3.15, §3.18)."""

from __future__ import annotations

import configparser
import datetime as dt
import stat

import pytest

from tests.api.v2.conftest import wait_for
from tests.helpers import basic

SETTINGS_URL = "/api/v2/device_settings"


def receive_all(viewer) -> list[str]:
    seen = []
    while (message := viewer.receive(timeout_s=0.3)) is not None:
        seen.append(message.command)
    return seen


def conf(runtime) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(runtime.settings.conf_path)
    return parser


def enable_auth(client) -> None:
    response = client.patch(SETTINGS_URL, json={
        "auth_backend": "auth_basic", "username": "admin", "password": "s3cret",
        "password_2": "s3cret"})
    assert response.status_code == 200, response.get_data(as_text=True)


def test_get_shows_every_setting_with_its_type(client, runtime):
    body = client.get(SETTINGS_URL).get_json()
    assert body == {
        "player_name": "", "audio_output": "hdmi", "default_duration": 10,
        "default_streaming_duration": 300, "date_format": "mm/dd/yyyy", "auth_backend": "",
        "show_splash": True, "default_assets": False, "shuffle_playlist": False,
        "use_24_hour_clock": False, "debug_logging": False, "username": ""}


def test_get_rereads_the_file_first(client, runtime):
    parser = conf(runtime)
    parser.set("viewer", "player_name", "Edited by hand")
    with runtime.settings.conf_path.open("w") as handle:
        parser.write(handle)
    assert client.get(SETTINGS_URL).get_json()["player_name"] == "Edited by hand"


def test_an_unknown_auth_backend_is_not_a_valid_choice(client, runtime):
    response = client.patch(SETTINGS_URL, json={"auth_backend": "invalid_auth"})
    assert response.status_code == 400
    assert response.get_json() == {"auth_backend": ['"invalid_auth" is not a valid choice.']}


def test_bad_types_list_every_field_and_save_nothing(client, runtime):
    before = runtime.settings.conf_path.read_bytes()
    response = client.patch(SETTINGS_URL, json={
        "default_duration": "ten", "show_splash": "maybe", "player_name": "Never saved"})
    assert response.status_code == 400
    assert response.get_json() == {"default_duration": ["A valid integer is required."],
                                   "show_splash": ["Must be a valid boolean."]}
    assert runtime.settings.conf_path.read_bytes() == before


def test_a_successful_patch_saves_the_file_and_reloads_the_viewer(client, runtime, viewer):
    response = client.patch(SETTINGS_URL, json={
        "player_name": "Lobby", "default_duration": 25, "default_streaming_duration": 600,
        "shuffle_playlist": True, "date_format": "yyyy-mm-dd"})
    assert response.status_code == 200
    assert response.get_json() == {"message": "Settings were successfully saved."}
    assert "reload" in receive_all(viewer)
    parser = conf(runtime)
    assert parser.get("viewer", "player_name") == "Lobby"
    assert parser.get("viewer", "default_duration") == "25"
    assert parser.get("viewer", "default_streaming_duration") == "600"
    assert parser.get("viewer", "shuffle_playlist") == "on"
    assert parser.get("main", "date_format") == "yyyy-mm-dd"
    shown = client.get(SETTINGS_URL).get_json()
    assert (shown["player_name"], shown["default_streaming_duration"]) == ("Lobby", 600)


def test_a_patch_keeps_settings_the_form_never_sends(client, runtime):
    parser = conf(runtime)
    parser.set("viewer", "verify_ssl", "off")
    parser.set("viewer", "resolution", "1280x720")
    parser.set("main", "django_secret_key", "keep-me")
    with runtime.settings.conf_path.open("w") as handle:
        parser.write(handle)
    assert client.patch(SETTINGS_URL, json={"player_name": "Lobby"}).status_code == 200
    parser = conf(runtime)
    assert (parser.get("viewer", "verify_ssl"), parser.get("viewer", "resolution"),
            parser.get("main", "django_secret_key")) == ("off", "1280x720", "keep-me")


def test_enabling_auth_needs_a_username(client, runtime):
    response = client.patch(SETTINGS_URL, json={
        "auth_backend": "auth_basic", "password": "x", "password_2": "x"})
    assert response.status_code == 400
    assert response.get_json() == {
        "error": "An error occurred while saving settings: Must provide username"}


def test_enabling_auth_needs_a_password(client, runtime):
    response = client.patch(SETTINGS_URL, json={"auth_backend": "auth_basic", "username": "a"})
    assert response.status_code == 400
    assert response.get_json() == {
        "error": "An error occurred while saving settings: Must provide password"}


def test_enabling_auth_needs_a_matching_confirmation(client, runtime):
    response = client.patch(SETTINGS_URL, json={
        "auth_backend": "auth_basic", "username": "a", "password": "x", "password_2": "y"})
    assert response.status_code == 400
    assert response.get_json() == {
        "error": "An error occurred while saving settings: New passwords do not match!"}
    assert client.get(SETTINGS_URL).get_json()["auth_backend"] == ""


def test_once_auth_is_on_the_api_needs_credentials(client, runtime):
    enable_auth(client)
    assert client.get(SETTINGS_URL).status_code == 401
    shown = client.get(SETTINGS_URL, headers=basic("admin", "s3cret")).get_json()
    assert (shown["auth_backend"], shown["username"]) == ("auth_basic", "admin")
    assert conf(runtime).get("auth_basic", "password") != "s3cret"


def test_changing_the_password_needs_the_current_one(client, runtime):
    enable_auth(client)
    auth = basic("admin", "s3cret")
    response = client.patch(SETTINGS_URL, headers=auth, json={
        "auth_backend": "auth_basic", "password": "new", "password_2": "new"})
    assert response.status_code == 400
    assert response.get_json() == {"error": "An error occurred while saving settings: "
                                            "Must supply current password to change password"}


def test_a_wrong_current_password_is_refused(client, runtime):
    enable_auth(client)
    response = client.patch(SETTINGS_URL, headers=basic("admin", "s3cret"), json={
        "auth_backend": "auth_basic", "current_password": "wrong", "password": "new",
        "password_2": "new"})
    assert response.status_code == 400
    assert response.get_json() == {
        "error": "An error occurred while saving settings: Incorrect current password."}
    assert client.get(SETTINGS_URL, headers=basic("admin", "s3cret")).status_code == 200


def test_the_right_current_password_changes_it(client, runtime):
    enable_auth(client)
    response = client.patch(SETTINGS_URL, headers=basic("admin", "s3cret"), json={
        "auth_backend": "auth_basic", "current_password": "s3cret", "password": "new",
        "password_2": "new"})
    assert response.status_code == 200
    assert client.get(SETTINGS_URL, headers=basic("admin", "new")).status_code == 200
    assert client.get(SETTINGS_URL, headers=basic("admin", "s3cret")).status_code == 401


def test_disabling_auth_needs_the_current_password(client, runtime):
    enable_auth(client)
    auth = basic("admin", "s3cret")
    response = client.patch(SETTINGS_URL, headers=auth, json={"auth_backend": ""})
    assert response.status_code == 400
    assert response.get_json() == {"error": "An error occurred while saving settings: "
                                            "Must supply current password to change "
                                            "authentication method"}
    response = client.patch(SETTINGS_URL, headers=auth,
                            json={"auth_backend": "", "current_password": "s3cret"})
    assert response.status_code == 200
    assert client.get(SETTINGS_URL).status_code == 200


def test_turning_default_assets_on_adds_the_three_and_off_removes_them(client, runtime, set_clock):
    now = dt.datetime(2024, 6, 3, 12, 0)
    set_clock(now)
    assert client.patch(SETTINGS_URL, json={"default_assets": True}).status_code == 200
    assets = client.get("/api/v2/assets").get_json()
    assert sorted(a["name"] for a in assets) == [
        "Hacker News", "Screenly Clock Widget", "Screenly Weather Widget"]
    for asset in assets:
        assert asset["asset_id"].startswith("default_") and len(asset["asset_id"]) == 40
        assert (asset["is_enabled"], asset["mimetype"], asset["duration"]) == (True, "webpage", 10)
        start = dt.datetime.fromisoformat(asset["start_date"])
        end = dt.datetime.fromisoformat(asset["end_date"])
        assert end - start == dt.timedelta(days=6 * 365)
    assert client.get(SETTINGS_URL).get_json()["default_assets"] is True
    assert client.patch(SETTINGS_URL, json={"default_assets": True}).status_code == 200
    assert len(client.get("/api/v2/assets").get_json()) == 3
    assert client.patch(SETTINGS_URL, json={"default_assets": False}).status_code == 200
    assert client.get("/api/v2/assets").get_json() == []


def test_default_assets_use_the_clock_of_the_server(client, runtime, set_clock):
    set_clock(dt.datetime(2030, 1, 1, 0, 0))
    assert client.patch(SETTINGS_URL, json={"default_assets": True}).status_code == 200
    starts = {a["start_date"] for a in client.get("/api/v2/assets").get_json()}
    assert starts == {"2030-01-01T00:00:00Z"}


def test_info_v2_has_every_field_with_its_type(client, runtime):
    body = client.get("/api/v2/info").get_json()
    assert set(body) >= {"viewlog", "loadavg", "free_space", "display_power", "up_to_date",
                         "anthias_version", "device_model", "uptime", "memory", "ip_addresses",
                         "mac_address", "host_user"}
    assert body["viewlog"] == "Not yet implemented"
    assert isinstance(body["loadavg"], float)
    assert isinstance(body["up_to_date"], bool)
    assert set(body["uptime"]) == {"days", "hours"} and isinstance(body["uptime"]["days"], int)
    assert set(body["memory"]) == {"total", "used", "free", "shared", "buff", "available"}
    assert all(isinstance(v, int) for v in body["memory"].values())
    assert isinstance(body["ip_addresses"], list)


def test_integrations_are_all_null_off_balena(client, runtime, monkeypatch):
    monkeypatch.delenv("BALENA", raising=False)
    monkeypatch.delenv("BALENA_DEVICE_UUID", raising=False)
    body = client.get("/api/v2/integrations").get_json()
    assert body == {"is_balena": False, "balena_device_id": None, "balena_app_id": None,
                    "balena_app_name": None, "balena_supervisor_version": None,
                    "balena_host_os_version": None, "balena_device_name_at_init": None}


@pytest.fixture
def recorder(tmp_path):
    """A stand-in for ``systemctl``: writes its arguments to a file."""
    script = tmp_path / "record.sh"
    marker = tmp_path / "ran"
    script.write_text(f'#!/bin/sh\necho "$@" > "{marker}.part" && mv "{marker}.part" "{marker}"\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script, marker


@pytest.mark.parametrize(("url", "variable"), [("/api/v2/reboot", "ANTHIAS_REBOOT_COMMAND"),
                                               ("/api/v2/shutdown", "ANTHIAS_SHUTDOWN_COMMAND")])
def test_reboot_and_shutdown_run_the_configured_command(make_app, recorder, url, variable):
    script, marker = recorder
    client = make_app(**{variable: f"{script} {url.rsplit('/', 1)[1]}"}).test_client()
    response = client.post(url)
    assert (response.status_code, response.data) == (200, b"")
    assert "Content-Type" not in response.headers
    wait_for(marker.exists)
    assert marker.read_text().strip() == url.rsplit("/", 1)[1]


def test_reboot_by_get_is_method_not_allowed(client, runtime):
    response = client.get("/api/v2/reboot")
    assert response.status_code == 500
    assert response.get_json() == {"error": 'Method "GET" not allowed.'}


def test_a_reboot_command_that_cannot_start_is_reported(make_app, tmp_path):
    client = make_app(ANTHIAS_REBOOT_COMMAND=str(tmp_path / "missing")).test_client()
    response = client.post("/api/v2/reboot")
    assert response.status_code == 500
    assert "could not be started" in response.get_json()["error"]
