"""Tests for ``anthias_edge.settings``: reading and writing Anthias's ``screenly.conf``."""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import pytest

from anthias_edge.errors import HostLevelSetting, InvalidSetting
from anthias_edge.settings import (
    DEPLOYMENT_VARIABLES,
    HOST_LEVEL,
    SETTINGS,
    Settings,
    hash_password,
)

DOCS = Path(__file__).resolve().parent.parent / "docs" / "settings.md"

# Verbatim copy of .screenly/screenly.conf from the shared fixture anthias-real/anthias-home.tar.gz,
# written by the real Anthias server (HOME=/data). Embedded because CI has no shared fixtures.
REAL_CONF = (
    b"[main]\nanalytics_opt_out = off\nassetdir = /data/screenly_assets\n"
    b"database = /data/.screenly/screenly.db\ndate_format = mm/dd/yyyy\n"
    b"use_24_hour_clock = off\nuse_ssl = off\nauth_backend = \nwebsocket_port = 9999\n"
    b"django_secret_key = fixture-placeholder-not-a-secret\n\n"
    b"[viewer]\naudio_output = hdmi\ndebug_logging = off\ndefault_duration = 12\n"
    b"default_streaming_duration = 300\nplayer_name = Shop window\nresolution = 1920x1080\n"
    b"show_splash = on\nshuffle_playlist = off\nverify_ssl = on\ndefault_assets = off\n\n"
    b"[auth_basic]\nuser = \npassword = \n\n"
)

# Verbatim copy of the sample file Anthias copied on first start (shared fixture
# anthias-flask-era/screenly.conf): True/False booleans, comments and the unknown key configdir.
FLASK_ERA_SAMPLE = """\
[main]
; All paths are relative to the home dir
configdir = .screenly
database = .screenly/screenly.db
use_ssl = False

; Opt-out from analytics
analytics_opt_out = False

[viewer]
; Player name
player_name =

; Show Anthias splash screen
show_splash = True
;resolution = 1920x1080

; 'local' or 'hdmi'
audio_output = hdmi

; Shuffle playlist before playing (otherwise sorted by name)
shuffle_playlist = False

; Stream asset duration default value (seconds)
default_streaming_duration = 300

; Asset duration default value (seconds)
default_duration = 10

; Debug logging toggle
debug_logging = False

; Only display pages with proper SSL certificates
verify_ssl = True

; Set to 'auth_basic' to use HTTP Basic Authentication (see below)
auth_backend =

[auth_basic]
; Fill in with appropriate username and password
user=
password=
"""


def write_conf(home: Path, text: str) -> Path:
    """Write ``text`` as HOME's screenly.conf and return its path."""
    conf = home / ".screenly" / "screenly.conf"
    conf.parent.mkdir(parents=True, exist_ok=True)
    conf.write_text(text, encoding="utf-8")
    return conf


def test_a_missing_file_is_created_with_defaults_in_anthias_format(tmp_path):
    settings = Settings.load(tmp_path, environ={})

    expected = (
        "[main]\nanalytics_opt_out = off\n"
        f"assetdir = {tmp_path}/screenly_assets\n"
        f"database = {tmp_path}/.screenly/screenly.db\n"
        "date_format = mm/dd/yyyy\nuse_24_hour_clock = off\nuse_ssl = off\nauth_backend = \n"
        "websocket_port = 9999\ndjango_secret_key = \n\n"
        "[viewer]\naudio_output = hdmi\ndebug_logging = off\ndefault_duration = 10\n"
        "default_streaming_duration = 300\nplayer_name = \nresolution = 1920x1080\n"
        "show_splash = on\nshuffle_playlist = off\nverify_ssl = on\ndefault_assets = off\n\n"
        "[auth_basic]\nuser = \npassword = \n\n"
    )
    assert settings.conf_path.read_text(encoding="utf-8") == expected


def test_defaults_have_their_declared_types_in_table_order(tmp_path):
    settings = Settings.load(tmp_path, environ={})

    assert list(settings.as_dict()) == [setting.key for setting in SETTINGS]
    assert settings["default_duration"] == 10 and settings["show_splash"] is True
    assert settings["default_streaming_duration"] == "300"
    assert settings.get("play_log_retention_days") == 30
    assert settings.get("configdir", "fallback") == "fallback"
    with pytest.raises(KeyError):
        settings["configdir"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("True", True), ("False", False), ("on", True), ("off", False), ("1", True), ("0", False),
     ("YES", True), ("No", False), ("tRuE", True)],
)
def test_booleans_are_parsed_like_ini_booleans_in_any_case(tmp_path, raw, expected):
    write_conf(tmp_path, f"[viewer]\nshuffle_playlist = {raw}\n")

    assert Settings.load(tmp_path, environ={})["shuffle_playlist"] is expected


@pytest.mark.parametrize(
    ("line", "bad"), [("show_splash = offf", "'offf'"), ("default_duration = ten", "'ten'")]
)
def test_an_unparsable_value_names_file_section_key_and_value(tmp_path, line, bad):
    conf = write_conf(tmp_path, f"[viewer]\n{line}\n")

    with pytest.raises(InvalidSetting) as caught:
        Settings.load(tmp_path, environ={})

    for part in (str(conf), "[viewer]", line.split(" ")[0], bad):
        assert part in str(caught.value)


def test_a_file_that_is_not_ini_raises_invalid_setting_naming_the_file(tmp_path):
    conf = write_conf(tmp_path, "player_name = no section header\n")

    with pytest.raises(InvalidSetting, match=str(conf)):
        Settings.load(tmp_path, environ={})


def test_missing_sections_and_keys_take_their_defaults(tmp_path):
    write_conf(tmp_path, "[viewer]\nplayer_name = Lobby\n")

    settings = Settings.load(tmp_path, environ={})

    assert settings["player_name"] == "Lobby"
    assert settings["default_duration"] == 10
    assert settings["auth_backend"] == ""
    assert settings["mode"] == "device"


def test_paths_follow_anthias_layout_with_relative_paths_under_home(tmp_path):
    write_conf(tmp_path, "[main]\nassetdir = media\ndatabase = /srv/anthias/screenly.db\n")

    settings = Settings.load(tmp_path, environ={})

    assert settings.asset_dir == tmp_path / "media"
    assert settings.database_path == Path("/srv/anthias/screenly.db")
    assert settings.home == tmp_path and settings.config_dir == tmp_path / ".screenly"
    assert settings.conf_path == tmp_path / ".screenly" / "screenly.conf"
    assert settings.static_dir == tmp_path / "screenly" / "staticfiles"
    assert settings.default_assets_path == tmp_path / ".screenly" / "default_assets.yml"


def test_paths_written_by_a_device_with_another_home_fall_back_to_this_home(tmp_path):
    write_conf(tmp_path, "[main]\nassetdir = /data/screenly_assets\n"
                         "database = /data/.screenly/screenly.db\n")
    (tmp_path / "screenly_assets").mkdir()
    (tmp_path / ".screenly" / "screenly.db").write_bytes(b"")

    settings = Settings.load(tmp_path, environ={})

    assert settings.asset_dir == tmp_path / "screenly_assets"
    assert settings.database_path == tmp_path / ".screenly" / "screenly.db"


def test_a_plain_password_is_hashed_and_removed_from_disk_at_once(tmp_path, caplog):
    conf = write_conf(tmp_path, "[auth_basic]\nuser = admin\npassword = s3cret-Plain\n")

    with caplog.at_level(logging.WARNING, logger="anthias_edge.settings"):
        settings = Settings.load(tmp_path, environ={})

    digest = hashlib.sha256(b"s3cret-Plain").hexdigest()
    assert settings["password"] == digest
    assert "s3cret-Plain" not in conf.read_text(encoding="utf-8")
    assert f"password = {digest}\n" in conf.read_text(encoding="utf-8")
    assert "plain-text password" in caplog.text and "s3cret-Plain" not in caplog.text
    assert settings.password_matches("s3cret-Plain")


def test_a_hashed_password_is_kept_and_the_file_is_not_rewritten(tmp_path):
    digest = hash_password("pw")
    text = f"[auth_basic]\n; keep me\nuser = admin\npassword = {digest}\n"
    conf = write_conf(tmp_path, text)

    settings = Settings.load(tmp_path, environ={})

    assert settings["password"] == digest
    assert conf.read_text(encoding="utf-8") == text


def test_a_sixty_four_character_password_that_is_not_hex_is_hashed(tmp_path):
    plain = "z" * 64
    write_conf(tmp_path, f"[auth_basic]\npassword = {plain}\n")

    settings = Settings.load(tmp_path, environ={})

    assert settings["password"] == hash_password(plain)


def test_update_and_save_keep_keys_that_were_not_given(tmp_path):
    write_conf(tmp_path, "[viewer]\nverify_ssl = off\nresolution = 1280x720\n")
    settings = Settings.load(tmp_path, environ={})

    settings.update({"player_name": "Lobby", "show_splash": False})
    settings.save()
    reloaded = Settings.load(tmp_path, environ={})

    assert reloaded["verify_ssl"] is False
    assert reloaded["resolution"] == "1280x720"
    assert reloaded["player_name"] == "Lobby"
    assert reloaded["show_splash"] is False


@pytest.mark.parametrize(
    ("key", "value"),
    [("show_splash", 1), ("show_splash", "on"), ("default_duration", True),
     ("default_duration", "10"), ("default_streaming_duration", 300), ("player_name", None),
     ("log_format", "xml"), ("no_such_key", "x")],
)
def test_update_rejects_bad_types_and_unknown_keys_and_changes_nothing(tmp_path, key, value):
    settings = Settings.load(tmp_path, environ={})

    with pytest.raises(InvalidSetting):
        settings.update({"player_name": "Changed", key: value})

    assert settings["player_name"] == ""


HOST_KEYS = ("assetdir", "database", "listen", "zmq_publisher", "zmq_collector",
             "reboot_command", "shutdown_command", "mode", "trusted_proxies",
             "disabled_plugins", "plugins_safe_mode", "cloud_url", "fleet_token_path", "zmq_relay")


def test_the_table_marks_every_command_path_address_and_the_mode_as_host_level():
    assert set(HOST_KEYS) == HOST_LEVEL


@pytest.mark.parametrize("key", HOST_KEYS)
def test_update_refuses_host_level_settings_unless_the_administrator_sets_them(tmp_path, key):
    settings = Settings.load(tmp_path, environ={})
    value = str(tmp_path / "x") if key in ("assetdir", "database", "fleet_token_path") else "device"
    value = True if key == "plugins_safe_mode" else value
    value = "https://cloud.example.com" if key == "cloud_url" else value

    with pytest.raises(HostLevelSetting, match=f"{key} is a host-level setting"):
        settings.update({"player_name": "Changed", key: value})

    assert settings["player_name"] == ""
    settings.update({key: value}, host_level=True)
    assert settings[key] == value


def test_unknown_keys_and_comments_are_dropped_on_save(tmp_path):
    conf = write_conf(
        tmp_path, "[main]\n; a remark\nconfigdir = .screenly\n\n[extra]\nfoo = bar\n"
    )
    settings = Settings.load(tmp_path, environ={})

    settings.save()

    text = conf.read_text(encoding="utf-8")
    assert "configdir" not in text and "[extra]" not in text and "a remark" not in text
    assert text.startswith("[main]\nanalytics_opt_out = off\n")


def test_the_flask_era_sample_file_loads_and_saves_in_anthias_format(tmp_path):
    conf = write_conf(tmp_path, FLASK_ERA_SAMPLE)

    settings = Settings.load(tmp_path, environ={})
    settings.save()

    assert settings["show_splash"] is True and settings["use_ssl"] is False
    assert settings["default_streaming_duration"] == "300"
    assert "configdir" not in conf.read_text(encoding="utf-8")
    assert "show_splash = on\n" in conf.read_text(encoding="utf-8")


def test_environment_overrides_win_over_the_file(tmp_path):
    write_conf(tmp_path, "[viewer]\nplayer_name = From file\nshow_splash = on\n")
    environ = {"ANTHIAS_PLAYER_NAME": "From env", "ANTHIAS_SHOW_SPLASH": "off",
               "ANTHIAS_PLAY_LOG_RETENTION_DAYS": "7", "ANTHIAS_ASSETDIR": "elsewhere"}

    settings = Settings.load(tmp_path, environ=environ)

    assert settings["player_name"] == "From env"
    assert settings["show_splash"] is False
    assert settings["play_log_retention_days"] == 7
    assert settings.asset_dir == tmp_path / "elsewhere"
    assert settings.env_overrides == {"player_name", "show_splash", "play_log_retention_days",
                                      "assetdir"}


def test_environment_values_are_never_written_to_the_file(tmp_path):
    conf = write_conf(tmp_path, "[viewer]\nplayer_name = From file\n")
    settings = Settings.load(tmp_path, environ={"ANTHIAS_PLAYER_NAME": "From env",
                                                "ANTHIAS_MODE": "cloud"})

    settings.update({"default_duration": 20})
    settings.save()

    text = conf.read_text(encoding="utf-8")
    assert "player_name = From file\n" in text
    assert "From env" not in text and "[edge]" not in text
    assert "default_duration = 20\n" in text


def test_os_environ_is_read_when_no_environment_is_given(tmp_path, monkeypatch):
    monkeypatch.setenv("ANTHIAS_DEFAULT_DURATION", "42")

    assert Settings.load(tmp_path)["default_duration"] == 42


def test_a_bad_environment_value_names_the_variable(tmp_path):
    with pytest.raises(InvalidSetting, match="ANTHIAS_VERIFY_SSL") as caught:
        Settings.load(tmp_path, environ={"ANTHIAS_VERIFY_SSL": "maybe"})

    assert "'maybe'" in str(caught.value)


def test_a_plain_password_in_the_environment_is_hashed(tmp_path):
    settings = Settings.load(tmp_path, environ={"ANTHIAS_PASSWORD": "from-env"})

    assert settings["password"] == hash_password("from-env")
    assert "from-env" not in settings.conf_path.read_text(encoding="utf-8")


def test_reload_rereads_the_file_and_keeps_environment_overrides(tmp_path):
    settings = Settings.load(tmp_path, environ={"ANTHIAS_PLAYER_NAME": "Env"})
    write_conf(tmp_path, "[viewer]\nplayer_name = File\ndefault_duration = 33\n")

    settings.reload()

    assert settings["default_duration"] == 33
    assert settings["player_name"] == "Env"


def test_the_real_anthias_file_round_trips_byte_for_byte(tmp_path):
    conf = tmp_path / ".screenly" / "screenly.conf"
    conf.parent.mkdir()
    conf.write_bytes(REAL_CONF)

    settings = Settings.load(tmp_path, environ={})
    settings.save()

    assert settings["player_name"] == "Shop window" and settings["default_duration"] == 12
    assert conf.read_bytes() == REAL_CONF


def test_edge_settings_are_written_only_when_they_differ_from_the_default(tmp_path):
    settings = Settings.load(tmp_path, environ={})

    settings.update({"listen": "0.0.0.0:80", "log_format": "text", "cleanup_interval_minutes": 5},
                    host_level=True)
    settings.save()

    text = settings.conf_path.read_text(encoding="utf-8")
    assert text.endswith("[edge]\nlisten = 0.0.0.0:80\ncleanup_interval_minutes = 5\n\n")
    reloaded = Settings.load(tmp_path, environ={})
    assert reloaded["listen"] == "0.0.0.0:80" and reloaded["cleanup_interval_minutes"] == 5


def test_save_leaves_no_temporary_files(tmp_path):
    settings = Settings.load(tmp_path, environ={})

    settings.update({"player_name": "Lobby"})
    settings.save()

    assert sorted(p.name for p in settings.config_dir.iterdir()) == ["screenly.conf"]


def test_a_failed_save_keeps_the_old_file_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    settings = Settings.load(tmp_path, environ={})
    before = settings.conf_path.read_bytes()
    settings.update({"player_name": "Never written"})

    def broken_fsync(fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        settings.save()

    assert settings.conf_path.read_bytes() == before
    assert sorted(p.name for p in settings.config_dir.iterdir()) == ["screenly.conf"]


def test_passwords_are_stored_as_the_anthias_sha256_hash(tmp_path):
    settings = Settings.load(tmp_path, environ={})
    assert not settings.password_matches("")

    settings.set_password("correct horse")
    assert settings["password"] == hashlib.sha256(b"correct horse").hexdigest()
    assert settings.password_matches("correct horse")
    assert not settings.password_matches("wrong horse")

    settings.update({"password": "hunter2"})
    assert settings["password"] == hash_password("hunter2")

    settings.set_password("")
    assert settings["password"] == "" and not settings.password_matches("")


def test_the_table_has_anthias_sections_in_order_and_unique_keys():
    sections = list(dict.fromkeys(setting.section for setting in SETTINGS))
    keys = [setting.key for setting in SETTINGS]

    assert sections == ["main", "viewer", "auth_basic", "edge"]
    assert len(keys) == len(set(keys))
    assert all(setting.env_var == "ANTHIAS_" + setting.key.upper() for setting in SETTINGS)


def test_every_setting_has_help_and_is_documented():
    docs = DOCS.read_text(encoding="utf-8")

    for setting in SETTINGS:
        assert setting.help.strip(), f"{setting.key} has no help text"
        row = f"| {setting.section} | `{setting.key}` |"
        assert row in docs, f"{setting.key} is missing from docs/settings.md"
        assert f"`{setting.env_var}`" in docs, f"{setting.env_var} is missing from docs"
        host_row = f"| {setting.section} | `{setting.key}` | {'yes' if setting.host else 'no'} |"
        assert host_row in docs, f"docs/settings.md: is {setting.key} host-level?"


def test_every_deployment_variable_is_documented_and_no_setting_shares_its_name():
    docs = DOCS.read_text(encoding="utf-8")

    for variable in DEPLOYMENT_VARIABLES:
        assert variable.help.strip()
        assert f"| `{variable.name}` |" in docs, f"{variable.name} is missing from docs"
        assert variable.name not in {setting.env_var for setting in SETTINGS}


def test_deployment_variables_come_from_the_given_environment_only(home, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://process@127.0.0.1/ignored")
    settings = Settings.load(home, {"DATABASE_URL": "postgresql://given@127.0.0.1/edge",
                                    "ANTHIAS_BASE_DOMAIN": " Signage.Example. "})

    assert settings.database_url == "postgresql://given@127.0.0.1/edge"
    assert settings.base_domain == "signage.example"
    assert "ANTHIAS_SECRET_KEY" not in settings.deployment
    assert "DATABASE_URL" not in settings.conf_path.read_text(encoding="utf-8")
    assert "DATABASE_URL" not in settings.as_dict()
