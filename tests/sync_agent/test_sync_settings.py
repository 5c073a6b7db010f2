"""The sync settings: defaults, and values refused with a sentence naming the setting."""

from __future__ import annotations

import pytest

from anthias_edge.errors import InvalidSetting
from anthias_edge.settings import Settings


def test_the_sync_settings_have_their_defaults(home):
    settings = Settings.load(home, environ={})

    assert settings["cloud_url"] == ""
    assert settings["fleet_token_path"] == "/boot/firmware/anthias-fleet.token"
    assert settings["sync_interval"] == 30
    assert settings["zmq_relay"] == "tcp://127.0.0.1:5559"


@pytest.mark.parametrize(("values", "words"), [
    ({"sync_interval": 4}, "sync_interval must be between 5 and 3600"),
    ({"sync_interval": 3601}, "sync_interval must be between 5 and 3600"),
])
def test_an_interval_out_of_range_is_refused(home, values, words):
    with pytest.raises(InvalidSetting, match=words):
        Settings.load(home, environ={}).update(values)


@pytest.mark.parametrize("url", ["ftp://cloud.example.com", "cloud.example.com",
                                 "https://cloud.example.com/?x=1"])
def test_a_cloud_url_that_is_no_http_address_is_refused(home, url):
    with pytest.raises(InvalidSetting, match="Setting cloud_url"):
        Settings.load(home, environ={}).update({"cloud_url": url}, host_level=True)


def test_a_bad_cloud_url_in_the_environment_names_the_variable(home):
    with pytest.raises(InvalidSetting, match="ANTHIAS_CLOUD_URL"):
        Settings.load(home, environ={"ANTHIAS_CLOUD_URL": "cloud"})
