"""Signing in to the cloud console: per tenant host, the base domain, sign-out, renewal."""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from playwright.sync_api import expect

from anthias_edge.console.security_headers import HEADERS
from anthias_edge.services.tenants import TenantService, create_tenant
from tests.web.console.helpers import (
    ACCESS_TOKEN_TTL,
    BASE_DOMAIN,
    PASSWORD,
    ConsoleServer,
    save_screenshots,
    sign_in,
    username,
)

pytestmark = pytest.mark.postgres

SESSION_ENDED = "Your session has ended. Sign in again."


def http(server: ConsoleServer, method: str, path: str, *, tenant: str | None = "acme",
         headers: dict[str, str] | None = None, body: Any = None) -> tuple[int, Any, Any]:
    """A request as a script (or a thief) sends it: (status, parsed body, headers)."""
    host = f"{tenant}.{BASE_DOMAIN}" if tenant else BASE_DOMAIN
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{server.port}{path}", data=data, method=method,
        headers={"Host": host, "Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, raw, answered = response.status, response.read(), response.headers
    except urllib.error.HTTPError as exc:
        status, raw, answered = exc.code, exc.read(), exc.headers
    try:
        return status, json.loads(raw) if raw else None, answered
    except ValueError:
        return status, raw.decode(), answered


def cookies(page) -> dict[str, str]:
    return {c["name"]: c["value"] for c in page.context.cookies()}


def test_an_owner_signs_in_on_the_tenants_own_address(console_server: ConsoleServer,
                                                      console_page):
    page = console_page
    page.goto(console_server.url("acme") + "/")
    page.get_by_role("heading", name="Sign in").wait_for()
    assert page.get_by_text("to Acme").is_visible()
    assert page.get_by_label("Organisation").count() == 0
    save_screenshots(page, "sign-in")

    sign_in(page, console_server.url("acme"), username("acme", "owner"))

    assert page.locator(".brand-name").inner_text() == "Acme"
    assert page.locator(".who-name").inner_text() == "acme-owner"


def test_the_refresh_token_is_an_httponly_strict_cookie_and_never_in_storage(
        console_server: ConsoleServer, console_page):
    page = console_page
    sign_in(page, console_server.url("acme"), username("acme", "viewer"))

    [refresh] = [c for c in page.context.cookies() if c["name"] == "ae_refresh"]
    assert (refresh["httpOnly"], refresh["sameSite"], refresh["path"]) == (
        True, "Strict", "/api/v3/auth/session")
    assert refresh["secure"] is False  # plain HTTP here; HTTPS makes it Secure
    assert "ae_refresh" not in page.evaluate("() => document.cookie")
    assert page.evaluate("() => localStorage.length + sessionStorage.length") == 0
    assert "token" not in page.url


def test_the_base_domain_asks_for_the_organisation(console_server: ConsoleServer,
                                                   console_page):
    page = console_page

    sign_in(page, console_server.url(None), username("globex", "editor"), tenant="globex")

    assert page.locator(".brand-name").inner_text() == "Globex"


def test_a_custom_domain_opens_its_tenants_console(console_server: ConsoleServer,
                                                  console_page):
    with console_server.db():
        tenant, _ = create_tenant("Initech", "initech", "initech-owner", PASSWORD)
        TenantService(tenant.id).update(custom_domain="screens.initech.example",
                                        base_domain=BASE_DOMAIN)
    page = console_page

    sign_in(page, f"http://screens.initech.example:{console_server.port}", "initech-owner")

    assert page.locator(".brand-name").inner_text() == "Initech"


def test_an_unknown_subdomain_belongs_to_no_organisation(console_server: ConsoleServer,
                                                         console_page):
    response = console_page.goto(console_server.url("nobody") + "/")

    assert response.status == 404
    expect(console_page.get_by_role("heading", name="No organisation here")).to_be_visible()


def test_a_wrong_password_and_a_lock_out_are_told_in_plain_words(
        console_server: ConsoleServer, console_page):
    page = console_page
    user = username("globex", "viewer")

    sign_in(page, console_server.url("globex"), user, "not the password",
            expect_success=False)
    expect(page.locator(".form-error")).to_have_text(
        "That user name and password do not match an account of this organisation.")
    expect(page.get_by_label("Password")).to_have_value("")

    with console_server.db():
        for _ in range(12):  # well past the free failures: the next try must wait a while
            console_server.runtime.auth.throttle.record_failure(user, "127.0.0.1")
    sign_in(page, console_server.url("globex"), user, PASSWORD, expect_success=False)
    expect(page.locator(".form-error")).to_contain_text(
        "Too many failed sign-in attempts. Wait ")
    expect(page.locator(".form-error")).to_contain_text(", then try again.")


def test_another_tenants_user_cannot_sign_in_nor_see_anything_there(
        console_server: ConsoleServer, open_console):
    console_server.add_assets("acme", ["Acme's secret price list"])
    page = open_console()

    sign_in(page, console_server.url("acme"), username("globex", "owner"), expect_success=False)
    expect(page.locator(".form-error")).to_have_text(
        "That user name and password do not match an account of this organisation.")
    # Signed in at home, the session does not follow the user to Acme's address...
    sign_in(page, console_server.url("globex"), username("globex", "owner"))
    page.goto(console_server.url("acme") + "/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_text("Acme's secret price list")).to_have_count(0)
    # ...nor does its access token open Acme's data there.
    page.goto(console_server.url("globex") + "/")
    page.get_by_role("button", name="Sign out everywhere").wait_for()
    token = http(console_server, "POST", "/api/v3/auth/session", tenant="globex", body={
        "username": username("globex", "owner"), "password": PASSWORD})[1]["access_token"]
    status, body, _ = http(console_server, "GET", "/api/v3/assets", tenant="acme",
                           headers={"Authorization": f"Bearer {token}"})
    assert status == 403 and body["error"]["code"] == "tenant_mismatch"
    assert "secret price list" not in json.dumps(body)


def test_signing_out_ends_every_session_of_the_user(console_server: ConsoleServer,
                                                    open_console):
    user = username("acme", "editor")
    phone, laptop = open_console(), open_console()
    sign_in(phone, console_server.url("acme"), user)
    sign_in(laptop, console_server.url("acme"), user)

    laptop.get_by_role("button", name="Sign out everywhere").click()

    expect(laptop.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(laptop.get_by_text("You are signed out on every device.")).to_be_visible()
    assert "ae_refresh" not in cookies(laptop)
    laptop.reload()
    expect(laptop.get_by_role("heading", name="Sign in")).to_be_visible()
    # The other device's next call is refused and it asks to sign in again.
    phone.get_by_label("Search", exact=True).fill("anything")
    expect(phone.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(phone.get_by_text(SESSION_ENDED)).to_be_visible()


def test_a_stolen_refresh_cookie_replayed_after_sign_out_is_refused(
        console_server: ConsoleServer, open_console):
    page = open_console()
    sign_in(page, console_server.url("acme"), username("acme", "admin"))
    stolen = cookies(page)
    page.get_by_role("button", name="Sign out everywhere").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    status, body, _ = http(console_server, "POST", "/api/v3/auth/session/refresh", headers={
        "Cookie": f"ae_refresh={stolen['ae_refresh']}; ae_csrf={stolen['ae_csrf']}",
        "X-CSRF-Token": stolen["ae_csrf"]})
    assert status == 401 and body["error"]["code"] == "token_invalid"

    thief = open_console()
    thief.context.add_cookies([
        {"name": "ae_refresh", "value": stolen["ae_refresh"], "path": "/api/v3/auth/session",
         "domain": f"acme.{BASE_DOMAIN}", "httpOnly": True, "sameSite": "Strict"},
        {"name": "ae_csrf", "value": stolen["ae_csrf"], "path": "/",
         "domain": f"acme.{BASE_DOMAIN}", "sameSite": "Strict"}])
    thief.goto(console_server.url("acme") + "/")
    expect(thief.get_by_role("heading", name="Sign in")).to_be_visible()


def test_a_refresh_without_the_csrf_token_is_refused(console_server: ConsoleServer,
                                                     console_page):
    page = console_page
    sign_in(page, console_server.url("acme"), username("acme", "viewer"))
    jar = cookies(page)

    status, body, _ = http(console_server, "POST", "/api/v3/auth/session/refresh", headers={
        "Cookie": f"ae_refresh={jar['ae_refresh']}"})

    assert status == 403 and body["error"]["code"] == "csrf_token_invalid"


def test_an_expired_access_token_is_renewed_without_the_user_noticing(
        console_server: ConsoleServer, console_page):
    page = console_page
    sign_in(page, console_server.url("acme"), username("acme", "viewer"))

    console_server.advance_clock(ACCESS_TOKEN_TTL + dt.timedelta(minutes=1))
    with page.expect_response("**/api/v3/auth/session/refresh") as renewed:
        page.get_by_label("Search", exact=True).fill("Menu")

    assert renewed.value.status == 200
    expect(page.locator(".asset-list")).to_have_attribute("aria-busy", "false")
    expect(page.get_by_role("heading", name="Sign in")).to_have_count(0)
    expect(page.get_by_role("button", name="Sign out everywhere")).to_be_visible()


def test_the_access_token_is_renewed_before_it_expires(console_server: ConsoleServer,
                                                       console_page):
    page = console_page
    page.clock.install()
    sign_in(page, console_server.url("acme"), username("acme", "viewer"))

    with page.expect_response("**/api/v3/auth/session/refresh") as renewed:
        page.clock.run_for(int(ACCESS_TOKEN_TTL.total_seconds() * 1000))

    assert renewed.value.status == 200
    expect(page.get_by_role("button", name="Sign out everywhere")).to_be_visible()


@pytest.mark.parametrize("path", ["/", "/console/static/app.js", "/console/static/console.css",
                                  "/console/static/pages/content.js"])
def test_every_console_response_carries_the_security_headers(console_server: ConsoleServer,
                                                             path: str):
    status, _body, headers = http(console_server, "GET", path)

    assert status == 200
    for name, value in HEADERS.items():
        assert headers[name] == value
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp and headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("scheme", ["https", "http"])
def test_the_window_is_isolated_from_its_openers_over_https_only(console_server: ConsoleServer,
                                                                 scheme: str):
    # Over plain HTTP the browser ignores the header and reports an error in its console.
    response = console_server.app.test_client().get(
        "/", base_url=f"{scheme}://acme.{BASE_DOMAIN}")

    assert response.status_code == 200
    isolated = response.headers.get("Cross-Origin-Opener-Policy")
    assert isolated == ("same-origin" if scheme == "https" else None)
    assert response.headers["X-Frame-Options"] == "DENY"


def test_the_not_found_page_of_an_unknown_host_carries_them_too(console_server: ConsoleServer):
    status, _body, headers = http(console_server, "GET", "/", tenant="nobody")

    assert status == 404
    assert headers["Content-Security-Policy"] == HEADERS["Content-Security-Policy"]
