"""API tokens: created with chosen permissions and expiry, the secret shown once with a copy
button, revoked; only the signed-in user's own permissions are offered; tenants apart."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from anthias_edge.models import ApiToken
from tests.web.console.helpers import (
    BASE_DOMAIN,
    PHONE,
    ConsoleServer,
    save_screenshots,
    username,
)
from tests.web.console.signed_in import (
    assert_not_reloaded,
    go,
    open_page,
    unique,
)

pytestmark = pytest.mark.postgres


def _call_with(server: ConsoleServer, tenant: str, secret: str, path: str) -> int:
    """The status a script gets calling ``path`` with the token on the tenant's host."""
    request = urllib.request.Request(f"http://127.0.0.1:{server.port}{path}", headers={
        "Authorization": f"Bearer {secret}", "Host": f"{tenant}.{BASE_DOMAIN}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_an_admin_creates_a_token_copies_its_secret_once_and_revokes_it(
        console_server: ConsoleServer, open_console):
    page = open_page(open_console, console_server, username("acme", "admin"), "tokens")
    name = unique("lobby script")
    page.get_by_role("button", name="Create token").first.click()
    form = page.locator("form[data-editor=token]")

    form.get_by_role("button", name="Create token").click()  # no name yet
    name_field = form.locator(".field", has=page.get_by_label("Name"))
    name_field.locator(".field-error").wait_for()
    assert form.get_by_label("Name").get_attribute("aria-invalid") == "true"

    form.get_by_label("Name").fill(name)
    form.get_by_label("Add content").check()
    form.get_by_label("Expires").select_option("date")
    form.get_by_label("Expiry date").fill("2031-01-31")
    form.get_by_role("button", name="Create token").click()

    panel = page.locator("[data-secret]")
    panel.wait_for()
    secret = page.get_by_label("Token", exact=True).input_value()
    assert secret.startswith("ae_")
    assert "shown only this once" in panel.inner_text()
    save_screenshots(page, "tokens-secret")
    panel.get_by_role("button", name="Copy").click()
    page.locator("#toasts").get_by_text("Copied to the clipboard.").wait_for()
    assert page.evaluate("() => { const i = document.getElementById('token-secret');"
                         " return i.value.slice(i.selectionStart, i.selectionEnd); }") == secret

    panel.get_by_role("button", name="I have copied it").click()
    assert secret not in page.content()
    card = page.locator(f'[data-token="{name}"]')
    assert card.locator(".badge").inner_text().lower() == "active"
    shown = card.locator("code").inner_text()  # how the secret begins, e.g. "ae_1a2b…"
    assert shown.endswith("…") and secret.startswith(shown[:-1]) and len(shown) < 24
    assert card.locator(".chip").all_inner_texts() == ["View content", "Add content"]
    with console_server.db():
        token = ApiToken.get(ApiToken.name == name)
    assert sorted(token.permissions) == ["assets.create", "assets.view"]
    assert token.expires_at.year == 2031 and token.expires_at.month == 1
    assert _call_with(console_server, "acme", secret, "/api/v3/assets") == 200

    card.get_by_role("button", name="Revoke").click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke").click()
    card.locator(".badge", has_text="revoked").wait_for()
    assert card.get_by_role("button", name="Revoke").count() == 0
    assert _call_with(console_server, "acme", secret, "/api/v3/assets") == 401
    assert_not_reloaded(page)


def test_a_token_is_offered_only_the_permissions_its_creator_holds(
        console_server: ConsoleServer, open_console):
    admin = open_page(open_console, console_server, username("acme", "admin"), "tokens")
    admin.get_by_role("button", name="Create token").first.click()
    offered = admin.locator("input[name=permissions]").evaluate_all(
        "boxes => boxes.map((box) => box.value)")
    assert "billing.manage" not in offered and "tenant.delete" not in offered
    assert {"tokens.manage", "users.manage", "assets.view"} <= set(offered)

    owner = open_page(open_console, console_server, username("acme", "owner"), "tokens")
    owner.get_by_role("button", name="Create token").first.click()
    assert owner.get_by_label("Manage billing").count() == 1


def test_another_tenants_tokens_never_show(console_server: ConsoleServer, open_console):
    acme = open_page(open_console, console_server, username("acme", "owner"), "tokens")
    name = unique("acme private")
    acme.get_by_role("button", name="Create token").first.click()
    acme.get_by_label("Name").fill(name)
    acme.locator("form[data-editor=token]").get_by_role("button", name="Create token").click()
    acme.locator("[data-secret]").wait_for()

    globex = open_page(open_console, console_server, username("globex", "admin"), "tokens",
                       tenant="globex", viewport=PHONE)
    assert globex.locator(f'[data-token="{name}"]').count() == 0
    assert name not in globex.content()


def test_tokens_page_screenshots(console_server: ConsoleServer, open_console):
    page = open_page(open_console, console_server, username("acme", "owner"), "tokens")
    save_screenshots(page, "tokens")
    page.get_by_role("button", name="Create token").first.click()
    save_screenshots(page, "tokens-create")
    go(page, "people")
    go(page, "tokens")
    assert page.locator("[data-secret]").count() == 0
