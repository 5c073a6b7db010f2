"""The app factory builds a working server, and refuses clearly when it cannot."""

import pytest

from anthias_edge.app import create_app
from anthias_edge.errors import StartupError


def test_the_factory_creates_the_settings_file_database_and_asset_folder(app, home):
    runtime = app.extensions["anthias"]
    assert (home / ".screenly" / "screenly.conf").is_file()
    assert (home / "screenly_assets").is_dir()
    assert runtime.mode == "device"
    assert app.test_client().get("/api/v2/assets").get_json() == []


def test_an_unparsable_setting_stops_start_up_with_a_message_naming_it(environ, home):
    (home / ".screenly").mkdir()
    (home / ".screenly" / "screenly.conf").write_text("[viewer]\nshow_splash = offf\n")
    with pytest.raises(StartupError) as caught:
        create_app(environ=environ)
    assert "show_splash" in str(caught.value)
    assert "offf" in str(caught.value)


def test_a_publisher_address_already_in_use_stops_start_up(app, environ):
    taken = app.extensions["anthias"].messenger.publisher_endpoint
    with pytest.raises(StartupError) as caught:
        create_app(environ={**environ, "ANTHIAS_ZMQ_PUBLISHER": taken})
    assert taken in str(caught.value)


def test_the_environ_given_is_the_whole_configuration(environ, home, monkeypatch):
    """A secret key in the process environment does not reach an app built from another."""
    from cryptography.fernet import Fernet

    given, ignored = Fernet.generate_key(), Fernet.generate_key()
    monkeypatch.setenv("ANTHIAS_SECRET_KEY", ignored.decode())
    app = create_app(environ={**environ, "ANTHIAS_SECRET_KEY": given.decode()})
    try:
        box = app.extensions["anthias"].auth.access_tokens.box
        assert Fernet(given).decrypt(box.encrypt("secret").encode()) == b"secret"
    finally:
        app.extensions["anthias"].close()
