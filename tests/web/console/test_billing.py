"""Billing in the console (issue 14): an owner chooses a paid plan, pays on the Midtrans
emulator's checkout page and comes back to see it applied, cancels at the period's end and
resumes; a trial starts without paying; usage shows as bars against the plan's limits; an
admin reads it all without a button; editors and viewers have no Billing page.

The server here is a cloud app of this module's own (its own PostgreSQL database), because the
Midtrans plugin reads its settings (the emulator's URLs and server key) when the app starts.
The emulator is a real HTTP server on loopback; the browser goes to its checkout page and
presses Pay there, and the emulator sends its signed notification to the server's webhook.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from anthias_edge.db import db
from anthias_edge.models.billing import PaymentAttempt, Subscription
from anthias_edge.services.row_security import tenant_scope
from anthias_edge.services.tenants import TenantService, create_tenant
from tests.cloud.pg import drop_database, fresh_database
from tests.helpers import serve_wsgi
from tests.midtrans_emulator import Emulator, running_emulator
from tests.web.console.accessibility import assert_accessible
from tests.web.console.helpers import (
    PASSWORD,
    PHONE,
    ConsoleServer,
    console_app,
    console_database,
    create_tenant_with_roles,
    save_screenshots,
    sign_in,
    username,
)
from tests.web.console.signed_in import assert_not_reloaded, nav_pages, unique

pytestmark = pytest.mark.postgres

TENANT = "initech"
WEBHOOK = "/api/v3/payments/midtrans/notification"


class BillingServer(ConsoleServer):
    """The console server of this module, with the emulator it pays through."""

    emulator: Emulator


@pytest.fixture(scope="module")
def billing_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BillingServer]:
    """A cloud app with the Midtrans plugin pointed at an emulator; one tenant, every role."""
    name = f"{console_database()}_billing"
    url = fresh_database(name)
    with running_emulator() as emulator:
        app = console_app(
            tmp_path_factory.mktemp("billing-home"), url,
            ANTHIAS_PLUGIN_MIDTRANS_SERVER_KEY=emulator.server_key,
            ANTHIAS_PLUGIN_MIDTRANS_SNAP_URL=emulator.snap_url(),
            ANTHIAS_PLUGIN_MIDTRANS_API_URL=emulator.url)
        runtime = app.extensions["anthias"]
        with runtime.database.connection_context():
            tenant_ids = {TENANT: create_tenant_with_roles(TENANT)}
        with serve_wsgi(app, threads=8) as served:
            # The dashboard's notification URL: where the emulator sends what it signs.
            emulator.payment_notification_url = served + WEBHOOK
            emulator.recurring_notification_url = served + WEBHOOK
            server = BillingServer(app, int(served.rsplit(":", 1)[1]), tenant_ids)
            server.emulator = emulator
            yield server
        runtime.messenger.close()
        runtime.close_database()
    drop_database(name)


@pytest.fixture(autouse=True)
def _billing_database_bound(billing_server: BillingServer) -> None:
    """Models reach this module's database (the session's console server may have rebound)."""
    db.initialize(billing_server.runtime.database)


def _new_tenant(server: BillingServer) -> tuple[str, str]:
    subdomain = unique("bill")
    owner = f"{subdomain}-owner"
    with server.db():
        tenant, _ = create_tenant(subdomain.title(), subdomain, owner, PASSWORD)
    server.tenant_ids[subdomain] = tenant.id
    return subdomain, owner


def _open_billing(open_console: Callable[..., Any], server: BillingServer, user: str,
                  tenant: str, **tab: Any) -> Any:
    page = open_console(**tab)
    sign_in(page, server.url(tenant), user)
    link = page.locator('.nav a[data-page="billing"]')
    if not link.is_visible():
        page.get_by_role("button", name="Menu", exact=True).click()
    link.click()
    page.locator('.page[data-page="billing"] [data-subscription]').wait_for()
    page.evaluate("() => { window.__sameDocument = true; }")
    return page


def _fact(page: Any, name: str) -> str:
    return page.locator(f'[data-fact="{name}"]').inner_text()


def _fact_card(page: Any) -> str:
    return page.locator("[data-subscription]").inner_text()


def _subscription(server: BillingServer, tenant: str) -> Subscription | None:
    tenant_id = server.tenant_ids[tenant]
    with server.db(), tenant_scope(server.runtime.database, tenant_id):
        return Subscription.get_or_none(Subscription.tenant == tenant_id)


def test_an_owner_pays_for_a_plan_in_the_checkout_and_comes_back_to_it(
        billing_server: BillingServer, open_console):
    subdomain, owner = _new_tenant(billing_server)
    page = _open_billing(open_console, billing_server, owner, subdomain)
    assert _fact(page, "plan") == "Free"
    assert _fact(page, "status") == "No subscription"
    assert page.locator('[data-empty="invoices"]').inner_text() == "No paid periods yet."
    assert "Until the organisation subscribes, the limits it was given apply" in _fact_card(page)
    assert page.get_by_text("Current plan").count() == 0  # its own limits are no plan's
    assert "0 of 100 (0%)" in page.locator('[data-usage="assets"]').inner_text()
    assert_accessible(page, "billing before any subscription")

    basic = page.locator('[data-plan="basic"]')
    # The browser's language is en-GB; Intl puts a no-break space after the symbol.
    assert "Rp\u00a0149,000 a month" in basic.inner_text()
    # The emulator's checkout page has no icon; the browser's own request for one is not ours.
    page.route(f"{billing_server.emulator.url}/favicon.ico",
               lambda route: route.fulfill(status=204))
    basic.get_by_role("button", name="Choose Basic").click()
    dialog = page.get_by_role("dialog")
    assert "You will be taken to the payment page to pay." in dialog.inner_text()
    dialog.get_by_role("button", name="Go to payment").click()

    # The emulator's Snap page: the customer pays there and is sent back to the console.
    page.get_by_role("heading", name="Pay Rp 149.000").wait_for()
    assert page.url.startswith(billing_server.emulator.url)
    page.get_by_role("button", name="Pay now").click()
    page.locator('[data-checkout-return="confirmed"]').wait_for()
    assert page.url == billing_server.url(subdomain) + "/#/billing"  # the return mark is gone

    page.evaluate("() => { window.__sameDocument = true; }")  # a new document since the return
    assert _fact(page, "plan") == "Basic"
    assert page.locator('[data-fact="status"]').inner_text() == "Active"
    assert _fact(page, "renewal").startswith("Renews on ")
    assert page.locator('[data-plan="basic"]').get_by_text("Current plan").is_visible()
    invoices = page.locator(".invoice")
    assert invoices.count() == 1
    assert invoices.first.inner_text().startswith("Basic")
    content = page.locator('[data-usage="assets"]')
    assert "0 of 200 (0%)" in content.inner_text()  # Basic's limit, not the tenant's own
    stored = _subscription(billing_server, subdomain)
    assert (stored.plan, stored.status) == ("basic", "active")
    assert_accessible(page, "billing after paying")
    save_screenshots(page, "billing-paid")

    page.get_by_role("button", name="Cancel subscription").click()
    page.get_by_role("dialog").get_by_role("button", name="Cancel subscription").click()
    toasts = page.locator("#toasts")
    toasts.get_by_text("The subscription ends at the end of the period.").wait_for()
    assert _fact(page, "renewal").startswith("Canceled: the plan ends on ")
    assert _subscription(billing_server, subdomain).cancel_at_period_end is True
    save_screenshots(page, "billing-canceled")

    page.get_by_role("button", name="Resume").click()
    toasts.get_by_text("The subscription goes on").wait_for()
    assert _fact(page, "renewal").startswith("Renews on ")
    assert _subscription(billing_server, subdomain).cancel_at_period_end is False

    # Down to the free plan: at once, no payment, and the paid period stays on record.
    page.locator('[data-plan="free"]').get_by_role("button", name="Choose Free").click()
    dialog = page.get_by_role("dialog")
    assert "Nothing is deleted" in dialog.inner_text()
    dialog.get_by_role("button", name="Change plan").click()
    toasts.get_by_text("You are now on Free.").wait_for()
    assert _fact(page, "plan") == "Free"
    assert "0 of 20 (0%)" in page.locator('[data-usage="assets"]').inner_text()
    assert page.get_by_role("button", name="Cancel subscription").count() == 0
    assert page.locator(".invoice").count() == 1
    assert _subscription(billing_server, subdomain).plan == "free"
    assert_not_reloaded(page)


def test_back_before_the_notification_the_page_waits_for_it(billing_server: BillingServer,
                                                             open_console):
    subdomain, owner = _new_tenant(billing_server)
    page = _open_billing(open_console, billing_server, owner, subdomain, viewport=PHONE)
    page.route(f"{billing_server.emulator.url}/favicon.ico",
               lambda route: route.fulfill(status=204))
    page.locator('[data-plan="pro"]').get_by_role("button", name="Choose Pro").click()
    page.get_by_role("dialog").get_by_role("button", name="Go to payment").click()
    billing_server.emulator.hold()  # Midtrans sends its notification later than the browser
    try:
        page.get_by_role("button", name="Pay now").click()
        waiting = page.locator('[data-checkout-return="waiting"]')
        waiting.wait_for()
        assert "Your plan changes as soon as the payment provider confirms" in waiting.inner_text()
        assert _fact(page, "plan") == "Free"
    finally:
        (delivery,) = billing_server.emulator.release()
    assert delivery.status == 200
    # The page asks again by itself and shows the plan once the notification is applied.
    page.locator('[data-checkout-return="confirmed"]').wait_for()
    assert _fact(page, "plan") == "Pro"
    assert _fact(page, "status") == "Active"
    assert page.locator(".invoice").count() == 1


def test_an_owner_starts_a_trial_on_a_phone(billing_server: BillingServer, open_console):
    subdomain, owner = _new_tenant(billing_server)
    page = _open_billing(open_console, billing_server, owner, subdomain, viewport=PHONE)
    page.locator('[data-plan="pro"]').get_by_role("button", name="Try free for 14 days").click()
    page.locator("#toasts").get_by_text("Your 14-day trial of Pro has started.").wait_for()

    assert _fact(page, "plan") == "Pro"
    assert _fact(page, "status") == "Trial"
    assert _fact(page, "trial_end")
    assert _fact(page, "renewal").startswith("Nothing is charged. To keep Pro after the trial")
    pro = page.locator('[data-plan="pro"]')
    assert pro.get_by_text("On trial").is_visible()
    assert pro.get_by_role("button", name="Choose Pro").is_visible()  # to pay and keep it
    # A trial is for a tenant that never subscribed: no plan offers another now.
    assert page.get_by_role("button", name="Try free for 14 days").count() == 0
    assert "0 of 1,000 (0%)" in page.locator('[data-usage="assets"]').inner_text()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    assert_accessible(page, "billing in a trial, on a phone")
    tenant_id = billing_server.tenant_ids[subdomain]
    with billing_server.db(), tenant_scope(billing_server.runtime.database, tenant_id):
        assert PaymentAttempt.select().where(PaymentAttempt.tenant == tenant_id).count() == 0
    save_screenshots(page, "billing-trial")


def test_an_overdue_subscription_says_so_and_offers_its_plan_again(
        billing_server: BillingServer, open_console):
    subdomain, owner = _new_tenant(billing_server)
    tenant_id = billing_server.tenant_ids[subdomain]
    with billing_server.db(), tenant_scope(billing_server.runtime.database, tenant_id):
        # A renewal that could not be charged, as the reconciler leaves it after the grace.
        Subscription.create(tenant=tenant_id, plan="basic", status="past_due", amount=149000,
                            currency="IDR", payment_provider="midtrans")
    page = _open_billing(open_console, billing_server, owner, subdomain)
    assert _fact(page, "status") == "Payment overdue"
    assert "The last renewal could not be charged. Screens keep playing" in page.locator(
        '[data-subscription="past_due"]').inner_text()
    basic = page.locator('[data-plan="basic"]')
    assert basic.get_by_text("Current plan").count() == 0
    assert basic.get_by_role("button", name="Choose Basic").is_visible()
    assert_accessible(page, "billing with a payment overdue")


def test_a_reached_limit_shows_as_a_full_bar(billing_server: BillingServer, open_console):
    subdomain, owner = _new_tenant(billing_server)
    with billing_server.db():
        TenantService(billing_server.tenant_ids[subdomain]).set_plan(max_assets=3)
    billing_server.add_assets(subdomain, [f"slide {n}" for n in range(3)])
    page = _open_billing(open_console, billing_server, owner, subdomain)
    content = page.locator('[data-usage="assets"]')
    assert "3 of 3 (100%)" in content.inner_text()
    assert "The limit is reached" in content.inner_text()
    bar = content.get_by_role("progressbar")
    assert (bar.get_attribute("aria-valuenow"), bar.get_attribute("aria-valuemax")) == ("3", "3")


def test_an_admin_reads_billing_without_any_button(billing_server: BillingServer,
                                                   open_console):
    page = _open_billing(open_console, billing_server, username(TENANT, "admin"), TENANT,
                         viewport=PHONE)
    billing = page.locator('.page[data-page="billing"]')
    assert billing.get_by_role("button").count() == 0
    assert "Only the organisation's owner can change the plan." in billing.inner_text()
    assert billing.locator("[data-plan]").count() == 4  # the public plans, legacy not among them
    assert billing.locator('[data-usage="assets"]').get_by_role("progressbar").count() == 1
    assert_accessible(page, "billing read-only, on a phone")
    save_screenshots(page, "billing-read-only")


@pytest.mark.parametrize("role", ["editor", "viewer"])
def test_editors_and_viewers_have_no_billing_page(billing_server: BillingServer,
                                                  open_console, role: str):
    page = open_console()
    sign_in(page, billing_server.url(TENANT), username(TENANT, role))
    assert "billing" not in nav_pages(page)
    page.evaluate("() => { location.hash = '#/billing'; }")
    page.wait_for_function("() => location.hash !== '#/billing'")
    page.locator(".page h1").wait_for()
    assert page.locator('.page[data-page="billing"]').count() == 0

