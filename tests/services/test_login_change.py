"""Tests for ``anthias_edge.services.auth.login_change``: the rules of docs/legacy-api.md §6.3."""

from __future__ import annotations

import pytest

from anthias_edge.errors import AuthChangeRefused
from anthias_edge.services.auth.login_change import apply_auth_change
from anthias_edge.settings import Settings, hash_password


@pytest.fixture
def no_auth(tmp_path):
    """A device without login and no stored password."""
    return Settings.load(tmp_path, environ={})


@pytest.fixture
def basic_on(tmp_path):
    """A device with Basic auth on: user ``admin``, password ``old``."""
    settings = Settings.load(tmp_path, environ={})
    settings.update({"auth_backend": "auth_basic", "user": "admin"})
    settings.set_password("old")
    return settings


def change(settings, **overrides):
    """Call apply_auth_change with harmless defaults for the fields not under test."""
    fields = {"new_backend": "auth_basic", "current_password": "", "username": "admin",
              "password": "", "password_confirmation": ""}
    fields.update(overrides)
    apply_auth_change(settings, **fields)


def refused(settings, message, **overrides):
    """Assert the change is refused with ``message`` and leaves the settings untouched."""
    before = settings.as_dict()
    with pytest.raises(AuthChangeRefused) as caught:
        change(settings, **overrides)
    assert caught.value.message == message
    assert settings.as_dict() == before


# Rule 1: changing the backend while auth is on.

def test_disabling_auth_needs_the_current_password(basic_on):
    refused(basic_on, "Must supply current password to change authentication method",
            new_backend="")


def test_disabling_auth_with_a_wrong_current_password_is_refused(basic_on):
    refused(basic_on, "Incorrect current password.", new_backend="", current_password="nope")


def test_disabling_auth_with_the_right_password_keeps_user_and_hash(basic_on):
    change(basic_on, new_backend="", current_password="old", username="ignored", password="x")

    assert basic_on["auth_backend"] == ""
    assert basic_on["user"] == "admin"
    assert basic_on["password"] == hash_password("old")


# Rule 3, first time: no password stored yet.

def test_enabling_auth_for_the_first_time_stores_user_and_hash(no_auth):
    change(no_auth, username="boss", password="pw", password_confirmation="pw")

    assert no_auth["auth_backend"] == "auth_basic"
    assert no_auth["user"] == "boss"
    assert no_auth["password"] == hash_password("pw")


def test_enabling_auth_for_the_first_time_needs_a_username(no_auth):
    refused(no_auth, "Must provide username", username="", password="pw",
            password_confirmation="pw")


def test_enabling_auth_for_the_first_time_needs_a_password(no_auth):
    refused(no_auth, "Must provide password", username="boss")


def test_enabling_auth_for_the_first_time_needs_matching_passwords(no_auth):
    refused(no_auth, "New passwords do not match!", username="boss", password="pw",
            password_confirmation="pW")


# Rule 3, a password is already stored.

def test_changing_the_username_needs_the_current_password(basic_on):
    refused(basic_on, "Must supply current password to change username", username="boss")


def test_changing_the_username_with_a_wrong_current_password_is_refused(basic_on):
    refused(basic_on, "Incorrect current password.", username="boss", current_password="nope")


def test_changing_the_username_with_the_right_password_keeps_the_hash(basic_on):
    change(basic_on, username="boss", current_password="old")

    assert basic_on["user"] == "boss"
    assert basic_on["password"] == hash_password("old")


def test_changing_the_password_needs_the_current_password(basic_on):
    refused(basic_on, "Must supply current password to change password", password="new",
            password_confirmation="new")


def test_changing_the_password_with_a_wrong_current_password_is_refused(basic_on):
    refused(basic_on, "Incorrect current password.", password="new", password_confirmation="new",
            current_password="nope")


def test_changing_the_password_needs_a_matching_confirmation(basic_on):
    refused(basic_on, "New passwords do not match!", password="new",
            password_confirmation="other", current_password="old")


def test_changing_the_password_with_the_right_current_password_stores_the_new_hash(basic_on):
    change(basic_on, password="new", password_confirmation="new", current_password="old")

    assert basic_on.password_matches("new")
    assert basic_on["user"] == "admin"


def test_a_wrong_user_change_is_refused_before_the_password_is_looked_at(basic_on):
    refused(basic_on, "Must supply current password to change username", username="boss",
            password="new", password_confirmation="other")


def test_keeping_user_and_leaving_password_empty_changes_nothing_without_a_password(basic_on):
    before = basic_on.as_dict()

    change(basic_on)

    assert basic_on.as_dict() == before


# Rule 2: with no login in force, any current password verifies.

def test_re_enabling_auth_with_a_stored_hash_needs_no_current_password(basic_on):
    change(basic_on, new_backend="", current_password="old")

    change(basic_on, username="boss", password="new", password_confirmation="new")

    assert basic_on["auth_backend"] == "auth_basic"
    assert basic_on["user"] == "boss"
    assert basic_on.password_matches("new")


def test_re_enabling_auth_still_needs_matching_passwords(basic_on):
    change(basic_on, new_backend="", current_password="old")

    refused(basic_on, "New passwords do not match!", password="new", password_confirmation="x")


def test_staying_without_auth_ignores_user_and_password_fields(no_auth):
    change(no_auth, new_backend="", username="boss", password="pw", password_confirmation="x")

    assert no_auth["auth_backend"] == ""
    assert no_auth["user"] == "" and no_auth["password"] == ""


def test_an_unknown_backend_is_refused(no_auth):
    refused(no_auth, "Unknown authentication backend: 'ldap'.", new_backend="ldap")


def test_changes_are_made_in_memory_only(basic_on):
    before = basic_on.conf_path.read_bytes()

    change(basic_on, password="new", password_confirmation="new", current_password="old")

    assert basic_on.conf_path.read_bytes() == before
    assert basic_on.password_matches("new")
