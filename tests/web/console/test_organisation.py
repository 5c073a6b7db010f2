"""Organisation: name and custom domain edited by whoever may (field errors from the API
beside the field), read-only for the rest; the plan and its usage as bars."""

from __future__ import annotations

import pytest

from anthias_edge.models import Tenant
from anthias_edge.services.tenants import TenantService
from tests.web.console.helpers import (
    BASE_DOMAIN,
    PHONE,
    ConsoleServer,
    save_screenshots,
    username,
)
from tests.web.console.signed_in import assert_not_reloaded, new_tenant, open_page

pytestmark = pytest.mark.postgres


def _tenant(server: ConsoleServer, subdomain: str) -> Tenant:
    with server.db():
        return Tenant.get_by_id(server.tenant_ids[subdomain])


def test_an_owner_renames_the_organisation_and_sets_a_custom_domain(
        console_server: ConsoleServer, open_console):
    subdomain, owner = new_tenant(console_server)
    page = open_page(open_console, console_server, owner, "organisation", tenant=subdomain)
    form = page.locator('[data-page="organisation"] form')

    form.get_by_label("Custom domain").fill(f"screens.{BASE_DOMAIN}")
    form.get_by_role("button", name="Save").click()
    domain_field = form.locator(".field", has=page.get_by_label("Custom domain"))
    error = domain_field.locator(".field-error")
    error.wait_for()
    assert f"Must not be {BASE_DOMAIN} or a name under it" in error.inner_text()
    save_screenshots(page, "organisation-domain-error")

    form.get_by_label("Name").fill("Acme Screens Ltd")
    form.get_by_label("Custom domain").fill(f"Signage.{subdomain}.example")
    form.get_by_role("button", name="Save").click()
    page.locator("#toasts").get_by_text("The organisation was saved.").wait_for()

    stored = _tenant(console_server, subdomain)
    assert stored.name == "Acme Screens Ltd"
    assert stored.custom_domain == f"signage.{subdomain}.example"
    assert page.get_by_label("Custom domain").input_value() == stored.custom_domain

    page.get_by_label("Custom domain").fill("")
    # The previous save's toast may still be showing: wait for this save's own answer.
    with page.expect_response(lambda r: r.request.method == "PATCH"
                              and r.url.endswith("/api/v3/tenant")) as saved:
        page.get_by_role("button", name="Save").click()
    assert saved.value.ok
    page.locator("#toasts").get_by_text("The organisation was saved.").last.wait_for()
    page.wait_for_function("() => document.querySelector('#org-domain').value === ''")
    assert _tenant(console_server, subdomain).custom_domain is None
    assert_not_reloaded(page)


def test_usage_shows_as_a_bar_against_each_limit(console_server: ConsoleServer,
                                                 open_console):
    subdomain, owner = new_tenant(console_server)
    with console_server.db():
        TenantService(console_server.tenant_ids[subdomain]).set_plan(
            plan_type="starter", max_assets=10, max_devices=3)
    console_server.add_assets(subdomain, [f"slide {n}" for n in range(9)])
    page = open_page(open_console, console_server, owner, "organisation", tenant=subdomain,
                     viewport=PHONE)

    assert page.locator('[data-fact="plan"]').inner_text() == "Starter"
    content = page.locator('[data-usage="max_assets"]')
    assert "9 of 10 (90%)" in content.inner_text()
    assert "Nearly at the limit." in content.inner_text()
    bar = content.get_by_role("progressbar")
    assert bar.get_attribute("aria-valuenow") == "9"
    assert bar.get_attribute("aria-valuemax") == "10"
    assert bar.locator(".bar-fill").evaluate("el => el.style.width") == "90%"
    assert "up to 3" in page.locator('[data-usage="max_devices"]').inner_text()
    assert page.locator('[data-count="users"]').inner_text() == "1"
    save_screenshots(page, "organisation-usage")


@pytest.mark.parametrize("role", ["editor", "viewer"])
def test_people_without_tenant_edit_see_the_details_read_only(
        console_server: ConsoleServer, open_console, role: str):
    page = open_page(open_console, console_server, username("acme", role), "organisation")
    assert page.locator('[data-page="organisation"] input').count() == 0
    assert page.get_by_role("button", name="Save").count() == 0
    assert page.locator('[data-fact="name"]').inner_text() == "Acme"
    assert page.locator('[data-usage="max_assets"]').get_by_role("progressbar").count() == 1


def test_organisation_page_screenshots(console_server: ConsoleServer, open_console):
    page = open_page(open_console, console_server, username("acme", "owner"), "organisation")
    save_screenshots(page, "organisation")
    viewer = open_page(open_console, console_server, username("acme", "viewer"),
                       "organisation")
    save_screenshots(viewer, "organisation-read-only")
