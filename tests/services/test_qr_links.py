"""Where a code leads (qr_links) and the public_url setting that moves it."""

from __future__ import annotations

from pathlib import Path

import pytest

from anthias_edge.errors import InvalidSetting
from anthias_edge.services import qr_links
from anthias_edge.settings import Settings

LAN = {"MY_IP": "192.168.1.20"}


def test_the_landing_url_is_under_public_url_else_under_the_base():
    assert qr_links.landing_url("QR1", public_url="https://s.example.com/",
                                base_url="http://10.0.0.2") == "https://s.example.com/q/QR1"
    assert qr_links.landing_url("QR1", public_url=None,
                                base_url="http://10.0.0.2:8080/") == "http://10.0.0.2:8080/q/QR1"
    assert qr_links.landing_url("QR1", public_url="", base_url="http://h") == "http://h/q/QR1"


def test_a_device_listening_on_all_addresses_leads_to_its_lan_address_with_the_port():
    assert qr_links.device_base_url("0.0.0.0:8080", LAN) == "http://192.168.1.20:8080"
    assert qr_links.device_base_url("0.0.0.0:80", LAN) == "http://192.168.1.20"
    assert qr_links.device_base_url("0.0.0.0:0", LAN, served_port=9000) == \
        "http://192.168.1.20:9000"


def test_a_device_on_loopback_only_has_no_address_to_give_a_phone():
    assert qr_links.device_base_url("127.0.0.1:8080", LAN) is None
    assert qr_links.device_base_url("localhost:8080", LAN) is None


def test_public_url_wins_over_the_lan_address_which_wins_over_the_fallback(tmp_path: Path):
    settings = Settings.load(tmp_path, environ={"ANTHIAS_LISTEN": "0.0.0.0:8080"})
    loopback = Settings.load(tmp_path / "other", environ={})  # listens on 127.0.0.1 only

    lan = qr_links.device_share_base(settings, fallback="http://asked", environ=LAN)
    fallback = qr_links.device_share_base(loopback, fallback="http://asked/", environ=LAN)
    settings.update({"public_url": "https://signs.example.com/"})
    public = qr_links.device_share_base(settings, fallback="http://asked", environ=LAN)

    assert (lan, public, fallback) == ("http://192.168.1.20:8080", "https://signs.example.com",
                                       "http://asked")


def test_a_cloud_tenant_leads_to_its_custom_domain_else_its_subdomain():
    assert qr_links.cloud_share_base("acme", "signage.test") == "https://acme.signage.test"
    assert qr_links.cloud_share_base("acme", "signage.test", custom_domain="tv.acme.com",
                                     scheme="http") == "http://tv.acme.com"
    assert qr_links.cloud_share_base("acme", "", fallback="http://x/") == "http://x"


@pytest.mark.parametrize("value", ["https://signs.example.com", "http://10.0.0.2:8080/base",
                                   "https://[2001:db8::1]:8443", ""])
def test_public_url_takes_absolute_http_urls_or_nothing(tmp_path: Path, value: str):
    settings = Settings.load(tmp_path)

    settings.update({"public_url": value})

    assert settings["public_url"] == value


@pytest.mark.parametrize("value", ["signs.example.com", "ftp://signs.example.com",
                                   "https://", "/q", "https://s.example.com/?a=1",
                                   "https://s.example.com/#x", "https://s example.com",
                                   "https://s.example.com:99999", "javascript:alert(1)"])
def test_public_url_refuses_anything_else_with_a_message_saying_why(tmp_path: Path,
                                                                    value: str):
    settings = Settings.load(tmp_path)

    with pytest.raises(InvalidSetting, match="public_url") as refused:
        settings.update({"public_url": value})

    assert "URL" in refused.value.message or "port" in refused.value.message \
        or "query" in refused.value.message
    assert settings["public_url"] == ""


def test_a_broken_public_url_in_the_environment_is_refused_at_load(tmp_path: Path):
    with pytest.raises(InvalidSetting, match="ANTHIAS_PUBLIC_URL"):
        Settings.load(tmp_path, environ={"ANTHIAS_PUBLIC_URL": "example.com"})
