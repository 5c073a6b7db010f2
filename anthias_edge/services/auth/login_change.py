"""Rules for changing the login: auth backend, user name and password (docs/legacy-api.md §6.3).

Shared by the settings page and v2 ``device_settings``. Changes are made in memory only; the caller
saves the settings and tells the player to reload.
"""

from __future__ import annotations

import logging

from anthias_edge.errors import AuthChangeRefused
from anthias_edge.settings import AUTH_BASIC, Settings, auth_enabled, hash_password

logger = logging.getLogger(__name__)

NO_AUTH = ""
BACKENDS = (NO_AUTH, AUTH_BASIC)


def _require_current(current_pass_correct: bool | None, missing_message: str) -> None:
    if current_pass_correct is None:
        raise AuthChangeRefused(missing_message)
    if not current_pass_correct:
        raise AuthChangeRefused("Incorrect current password.")


def apply_auth_change(
    settings: Settings,
    *,
    new_backend: str,
    current_password: str,
    username: str,
    password: str,
    password_confirmation: str,
) -> None:
    """Check a requested login change against Anthias's rules and apply it to ``settings``.

    Nothing is changed when a rule fails: ``AuthChangeRefused`` carries Anthias's message.
    Disabling auth keeps the stored user and password hash.

    :param new_backend: ``""`` (no login) or ``"auth_basic"``.
    :param current_password: the password in force now, needed to change anything protected.
    """
    if new_backend not in BACKENDS:
        raise AuthChangeRefused(f"Unknown authentication backend: {new_backend!r}.")
    enabled = auth_enabled(settings)

    # Rule 1: leaving an enabled backend needs the current password.
    if new_backend != settings["auth_backend"] and enabled:
        if not current_password:
            raise AuthChangeRefused("Must supply current password to change authentication method")
        if not settings.password_matches(current_password):
            raise AuthChangeRefused("Incorrect current password.")

    # Rule 2: None means "not supplied"; with no login in force any password verifies.
    current_pass_correct: bool | None
    if not current_password and enabled:
        current_pass_correct = None
    else:
        current_pass_correct = settings.password_matches(current_password) if enabled else True

    changes: dict[str, str] = {}
    if new_backend == AUTH_BASIC:
        changes = _basic_auth_changes(
            settings, current_pass_correct, username, password, password_confirmation
        )
    changes["auth_backend"] = new_backend
    settings.update(changes)
    logger.info("Authentication changed: backend %r, fields %s", new_backend, sorted(changes))


def _basic_auth_changes(
    settings: Settings,
    current_pass_correct: bool | None,
    username: str,
    password: str,
    password_confirmation: str,
) -> dict[str, str]:
    """Rule 3: what ``auth_basic`` stores for the requested user and password."""
    changes: dict[str, str] = {}
    if settings["password"]:
        if username != settings["user"]:
            _require_current(
                current_pass_correct, "Must supply current password to change username"
            )
            changes["user"] = username
        if password:
            _require_current(
                current_pass_correct, "Must supply current password to change password"
            )
            if password_confirmation != password:
                raise AuthChangeRefused("New passwords do not match!")
            changes["password"] = hash_password(password)
        return changes
    if not username:
        raise AuthChangeRefused("Must provide username")
    if not password:
        raise AuthChangeRefused("Must provide password")
    if password_confirmation != password:
        raise AuthChangeRefused("New passwords do not match!")
    return {"user": username, "password": hash_password(password)}
