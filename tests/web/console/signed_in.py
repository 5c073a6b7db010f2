"""Shortcuts of the People, API tokens, Activity and Organisation tests: a signed-in tab on a
page, members and tenants of a test's own, and the check that no action reloaded the page."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from typing import Any

from anthias_edge.services.tenants import TenantService, create_tenant
from tests.web.console.helpers import PASSWORD, ConsoleServer, sign_in

_serial = itertools.count(1)
# What each page shows once its data is in (Activity draws its filters before its list).
LOADED = {
    "people": ".person-list, .empty-state",
    "tokens": ".token-list, .empty-state",
    "activity": '.activity-results[aria-busy="false"]',
    "organisation": "[data-usage], .empty-state",
    "sharing": '.share-list[aria-busy="false"]',
}


def unique(prefix: str) -> str:
    """A name no other test uses (the server lives for the whole session)."""
    return f"{prefix}-{next(_serial)}-{uuid.uuid4().hex[:6]}"


def new_member(server: ConsoleServer, tenant: str, role: str, prefix: str = "c2") -> str:
    """A new member of ``tenant`` (by subdomain) with PASSWORD; answers the username."""
    name = unique(prefix)
    with server.db():
        TenantService(server.tenant_ids[tenant]).create_user(name, PASSWORD, role)
    return name


def new_tenant(server: ConsoleServer, prefix: str = "c2org") -> tuple[str, str]:
    """A tenant of the test's own (subdomain, owner username), for changes to the tenant."""
    subdomain = unique(prefix)
    owner = f"{subdomain}-owner"
    with server.db():
        tenant, _ = create_tenant(subdomain.title(), subdomain, owner, PASSWORD)
    server.tenant_ids[subdomain] = tenant.id
    return subdomain, owner


def go(page: Any, page_id: str) -> None:
    """Follow the navigation link to ``page_id`` and wait for its data (no reload).

    On a phone the navigation sits behind the menu button, as a person would find it.
    """
    link = page.locator(f'.nav a[data-page="{page_id}"]')
    if not link.is_visible():
        page.get_by_role("button", name="Menu", exact=True).click()  # not "Preview “Menu…”"
    link.click()
    page.locator(f'.page[data-page="{page_id}"]').locator(LOADED[page_id]).first.wait_for()


def open_page(open_console: Callable[..., Any], server: ConsoleServer, user: str,
              page_id: str, *, tenant: str = "acme", **tab: Any) -> Any:
    """A new tab signed in as ``user`` on ``tenant``'s address, showing ``page_id``.

    Marks the window so that ``assert_not_reloaded`` can prove later actions kept the page.
    """
    page = open_console(**tab)
    sign_in(page, server.url(tenant), user)
    go(page, page_id)
    page.evaluate("() => { window.__sameDocument = true; }")
    return page


def assert_not_reloaded(page: Any) -> None:
    """The document the test opened is still the one shown: no action made a full reload."""
    assert page.evaluate("() => window.__sameDocument === true")


def nav_pages(page: Any) -> list[str]:
    """The ids of the pages the navigation offers."""
    return page.locator(".nav a").evaluate_all("links => links.map((a) => a.dataset.page)")
