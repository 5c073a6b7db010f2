"""Browser sign-in: ``/login`` sets a session cookie, ``/logout`` ends it; scripts keep Basic.

The cookie is HttpOnly and SameSite=Lax, and Secure whenever the request came over HTTPS. The
signing key is the ``django_secret_key`` setting, generated and saved on first start when empty.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, redirect, render_template, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

from anthias_edge.auth.guard import csrf_ok, csrf_refusal, csrf_token, has_session, sign_in
from anthias_edge.auth.throttling import DEVICE_ACCOUNT, login_throttle
from anthias_edge.errors import TooManyAttempts
from anthias_edge.runtime import current_runtime
from anthias_edge.settings import Settings, auth_enabled
from anthias_edge.web import bp

logger = logging.getLogger(__name__)

SECRET_KEY_SETTING = "django_secret_key"
WRONG_CREDENTIALS = "That user name and password do not match. Try again."
TOO_MANY_SIGN_INS = ("Too many failed sign-in attempts from this address. "
                     "Wait {seconds} s, then try again.")


class PerRequestSecureSessions(SecureCookieSessionInterface):
    """Mark the cookie Secure exactly when the request itself is HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        """Secure on HTTPS, so plain-HTTP devices on a LAN can still sign in."""
        return request.is_secure

    def open_session(self, app: Flask, request: Any) -> SecureCookieSession | None:
        """No cookie, no work: scripts never send one, and the API's hot path skips signing."""
        if app.config["SESSION_COOKIE_NAME"] not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)


def ensure_secret_key(settings: Settings) -> str:
    """The session signing key; generate a urlsafe one and save it when the setting is empty."""
    key = settings[SECRET_KEY_SETTING]
    if not key:
        key = secrets.token_urlsafe(50)
        settings.update({SECRET_KEY_SETTING: key})
        settings.save()
        logger.info("Generated a new %s and saved it", SECRET_KEY_SETTING)
    return key


def configure_sessions(app: Flask, settings: Settings) -> None:
    """Session cookie flags and signing key; a ``csrf_token()`` helper for every template."""
    app.secret_key = ensure_secret_key(settings)
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      SESSION_COOKIE_NAME="anthias_session")
    app.session_interface = PerRequestSecureSessions()
    app.jinja_env.globals["csrf_token"] = csrf_token


def _settings() -> Settings:
    runtime = current_runtime()
    return runtime.settings


def safe_next(target: str | None) -> str:
    """Only same-site paths, so the sign-in page cannot send anyone elsewhere."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """The sign-in form; a right user name and password start a session."""
    settings = _settings()
    next_url = safe_next(request.values.get("next"))
    if not auth_enabled(settings) or (request.method == "GET" and has_session(settings)):
        return redirect(next_url)
    if request.method == "GET":
        return render_template("login.html", next_url=next_url, error="")
    if not csrf_ok():
        return render_template("login.html", next_url=next_url,
                               error="The form expired. Please sign in again."), 403
    username = request.form.get("username", "")
    password = request.form.get("password", "")
    # The same count as HTTP Basic: one account, checked before the password is looked at.
    throttle = login_throttle(current_runtime())
    try:
        had_failures = throttle.check(DEVICE_ACCOUNT, request.remote_addr)
    except TooManyAttempts as exc:
        error = TOO_MANY_SIGN_INS.format(seconds=exc.retry_after)
        return (render_template("login.html", next_url=next_url, error=error), 429,
                {"Retry-After": str(exc.retry_after)})
    user_ok = hmac.compare_digest(username.encode(), str(settings["user"]).encode())
    if user_ok & settings.password_matches(password):
        if had_failures:
            throttle.record_success(DEVICE_ACCOUNT, request.remote_addr)
        sign_in(settings)
        logger.info("User %s signed in from %s", username, request.remote_addr)
        return redirect(next_url)
    throttle.record_failure(DEVICE_ACCOUNT, request.remote_addr)
    logger.info("Failed sign-in from %s", request.remote_addr)
    return render_template("login.html", next_url=next_url, error=WRONG_CREDENTIALS), 401


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    """End the session (the form carries the CSRF token)."""
    if session and not csrf_ok():
        return csrf_refusal()
    session.clear()
    return redirect("/login" if auth_enabled(_settings()) else "/")
