"""The client's address comes from X-Forwarded-For only through proxies the administrator trusts."""

from __future__ import annotations

import pytest
from flask import Flask, request

from anthias_edge.cloud_server import gunicorn_options
from anthias_edge.errors import StartupError
from anthias_edge.proxies import TrustedProxies, parse_trusted_proxies


def seen_by_app(trusted: str, peer: str, forwarded: str | None = None,
                proto: str | None = None) -> tuple[str, str]:
    """(remote_addr, scheme) that a view sees behind ``TrustedProxies(trusted)``."""
    app = Flask(__name__)

    @app.route("/")
    def view() -> str:
        return f"{request.remote_addr} {request.scheme}"

    app.wsgi_app = TrustedProxies(app.wsgi_app, parse_trusted_proxies(trusted))
    headers = {}
    if forwarded is not None:
        headers["X-Forwarded-For"] = forwarded
    if proto is not None:
        headers["X-Forwarded-Proto"] = proto
    body = app.test_client().get("/", headers=headers, environ_base={"REMOTE_ADDR": peer})
    address, scheme = body.get_data(as_text=True).split()
    return address, scheme


def test_a_trusted_proxy_gives_the_client_address_and_scheme():
    assert seen_by_app("127.0.0.1", "127.0.0.1", "203.0.113.5", "https") == (
        "203.0.113.5", "https")


def test_an_untrusted_peer_cannot_claim_another_address():
    assert seen_by_app("10.0.0.1", "192.0.2.66", "203.0.113.5", "https") == (
        "192.0.2.66", "http")


def test_a_spoofed_entry_before_the_proxys_own_is_not_believed():
    # The client sent "1.2.3.4" itself; the trusted proxy appended the address it saw.
    assert seen_by_app("127.0.0.1", "127.0.0.1", "1.2.3.4, 203.0.113.5")[0] == "203.0.113.5"


def test_a_chain_of_trusted_proxies_is_walked_back_to_the_first_untrusted_hop():
    assert seen_by_app("127.0.0.1, 10.0.0.0/8", "127.0.0.1",
                       "1.2.3.4, 203.0.113.5, 10.1.2.3")[0] == "203.0.113.5"


def test_a_trusted_proxy_without_the_header_leaves_its_own_address():
    assert seen_by_app("127.0.0.1", "127.0.0.1") == ("127.0.0.1", "http")


def test_ipv6_networks_can_be_trusted():
    assert seen_by_app("::1, fd00::/8", "::1", "2001:db8::7")[0] == "2001:db8::7"


def test_nothing_is_trusted_by_default():
    assert parse_trusted_proxies("") == ()


def test_a_mistyped_proxy_address_stops_the_server_with_a_clear_error(make_app):
    with pytest.raises(StartupError, match=r"trusted_proxies.*not-an-address"):
        make_app(ANTHIAS_TRUSTED_PROXIES="127.0.0.1, not-an-address")


def test_the_app_applies_the_setting(make_app):
    app = make_app(ANTHIAS_TRUSTED_PROXIES="127.0.0.1")
    assert isinstance(app.wsgi_app, TrustedProxies)


@pytest.mark.parametrize(("trusted", "believed"), [
    ("", []), ("127.0.0.1, 10.0.0.0/8", ["127.0.0.1", "10.0.0.0/8"])])
def test_gunicorn_believes_forwarded_headers_only_from_the_same_proxies(trusted, believed):
    from gunicorn.config import Config

    config = Config()
    config.set("forwarded_allow_ips",
               gunicorn_options("127.0.0.1:0", 1, 1, trusted)["forwarded_allow_ips"])
    assert config.forwarded_allow_ips == believed
