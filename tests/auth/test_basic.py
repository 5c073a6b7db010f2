"""Tests for ``anthias_edge.auth.basic``: Anthias's Basic auth check (docs/legacy-api.md §6.2)."""

from __future__ import annotations

import base64

import pytest

from anthias_edge.auth.basic import AuthOutcome, check_basic_auth, realm
from anthias_edge.settings import Settings, auth_enabled


def basic(credentials: bytes | str, scheme: str = "Basic") -> str:
    """Build an Authorization header from raw credentials."""
    raw = credentials.encode() if isinstance(credentials, str) else credentials
    return f"{scheme} {base64.b64encode(raw).decode('ascii')}"


@pytest.fixture
def settings(tmp_path):
    """Settings with Basic auth on for user ``admin`` with password ``secret``."""
    settings = Settings.load(tmp_path, environ={})
    settings.update({"auth_backend": "auth_basic", "user": "admin", "player_name": "Lobby"})
    settings.set_password("secret")
    return settings


def test_the_right_user_and_password_are_accepted(settings):
    result = check_basic_auth(basic("admin:secret"), settings)

    assert result.outcome is AuthOutcome.OK
    assert result.ok and result.headers == {}


def test_a_wrong_password_is_denied_with_the_anthias_challenge(settings):
    result = check_basic_auth(basic("admin:wrong"), settings)

    assert result.outcome is AuthOutcome.DENIED
    assert result.status == 401
    assert result.body == "Access denied"
    assert result.headers == {
        "Content-Type": "text/html; charset=utf-8",
        "WWW-Authenticate": 'Basic realm="Anthias Lobby"',
    }


def test_a_wrong_user_is_denied(settings):
    assert check_basic_auth(basic("root:secret"), settings).outcome is AuthOutcome.DENIED


@pytest.mark.parametrize("header", [None, "", "Basic", "Basic  " + basic("admin:secret")[6:],
                                    basic("admin:secret") + " extra"])
def test_a_missing_or_malformed_header_is_denied(settings, header):
    assert check_basic_auth(header, settings).outcome is AuthOutcome.DENIED


def test_the_scheme_is_case_sensitive_so_lowercase_basic_is_denied(settings):
    result = check_basic_auth(basic("admin:secret", scheme="basic"), settings)

    assert result.outcome is AuthOutcome.DENIED


def test_a_password_containing_a_colon_never_authenticates(settings):
    settings.set_password("se:cret")

    assert check_basic_auth(basic("admin:se:cret"), settings).outcome is AuthOutcome.DENIED


def test_credentials_without_a_colon_are_denied(settings):
    assert check_basic_auth(basic("adminsecret"), settings).outcome is AuthOutcome.DENIED


def test_bad_base64_is_a_backend_error_with_the_python_error_text(settings):
    result = check_basic_auth("Basic abcde", settings)

    assert result.outcome is AuthOutcome.BACKEND_ERROR
    assert result.status == 503
    assert result.body == (
        "Authorization backend is unavailable: Invalid base64-encoded string: number of data "
        "characters (5) cannot be 1 more than a multiple of 4"
    )
    assert "WWW-Authenticate" not in result.headers


def test_credentials_that_are_not_utf8_are_a_backend_error(settings):
    result = check_basic_auth(basic(b"\xffadmin:secret"), settings)

    assert result.outcome is AuthOutcome.BACKEND_ERROR
    assert result.body == (
        "Authorization backend is unavailable: 'utf-8' codec can't decode byte 0xff in "
        "position 0: invalid start byte"
    )


def test_non_ascii_user_names_are_compared_safely(settings):
    settings.update({"user": "jürgen"})

    assert check_basic_auth(basic("jürgen:secret"), settings).ok
    assert not check_basic_auth(basic("jurgen:secret"), settings).ok


def test_nothing_authenticates_when_no_password_is_stored(tmp_path):
    settings = Settings.load(tmp_path, environ={})

    assert check_basic_auth(basic(":"), settings).outcome is AuthOutcome.DENIED


def test_the_realm_with_an_empty_player_name_keeps_the_trailing_space(tmp_path):
    settings = Settings.load(tmp_path, environ={})

    assert realm(settings) == "Anthias "
    result = check_basic_auth(None, settings)
    assert result.headers["WWW-Authenticate"] == 'Basic realm="Anthias "'


def test_a_realm_outside_latin1_is_mime_encoded_as_django_does(settings):
    settings.update({"player_name": "東京"})

    header = check_basic_auth(None, settings).headers["WWW-Authenticate"]

    assert header.startswith("=?utf-8?b?") and header.encode("ascii")


def test_a_player_name_with_a_newline_cannot_inject_headers(settings):
    settings.update({"player_name": "Lobby\r\nX-Evil: 1"})

    header = check_basic_auth(None, settings).headers["WWW-Authenticate"]

    assert "\r" not in header and "\n" not in header


@pytest.mark.parametrize(("backend", "expected"),
                         [("auth_basic", True), ("", False), ("auth_digest", False)])
def test_auth_is_enabled_only_for_auth_basic(tmp_path, backend, expected):
    settings = Settings.load(tmp_path, environ={})
    settings.update({"auth_backend": backend})

    assert auth_enabled(settings) is expected
