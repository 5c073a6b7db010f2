"""Activity: the audit log lists what people did, filtered by who, what and when (dates in
the user's own time zone), a page at a time; another tenant's activity never shows."""

from __future__ import annotations

import datetime as dt

import pytest

from anthias_edge.models import AuditLog, TenantUser, User
from anthias_edge.services.tenants import TenantService
from tests.web.console.helpers import PHONE, ConsoleServer, save_screenshots, username
from tests.web.console.signed_in import (
    assert_not_reloaded,
    go,
    nav_pages,
    new_member,
    open_page,
    unique,
)

pytestmark = pytest.mark.postgres


def _user_id(server: ConsoleServer, name: str) -> str:
    with server.db():
        return (TenantUser.select().join(User).where(User.username == name).get().user_id)


def _record(server: ConsoleServer, tenant: str, actor: str, action: str, at: dt.datetime,
            summary: str = "") -> None:
    with server.db():
        AuditLog.create(tenant=server.tenant_ids[tenant], actor=actor, action=action,
                        summary=summary, at=at)


def _filter(page, who: str = "", what: str = "", since: str = "", until: str = "") -> None:
    form = page.get_by_role("search", name="Filter activity")
    if who:
        form.get_by_label("Who").select_option(label=who)
    if what:
        form.get_by_label("What").select_option(label=what)
    form.get_by_label("From").fill(since)
    form.get_by_label("To").fill(until)
    form.get_by_role("button", name="Apply filters").click()
    _wait_for_list(page)


def _wait_for_list(page) -> None:
    """Until the entries shown are those of the last request (the list is not busy)."""
    page.locator('.activity-results[aria-busy="false"]').wait_for(state="attached")


def _entries(page) -> list[str]:
    return [text.strip() for text in page.locator(".entry-what").all_inner_texts()]


def test_the_activity_page_lists_what_an_admin_did_to_people_and_tokens(
        console_server: ConsoleServer, open_console):
    admin = new_member(console_server, "acme", "admin", prefix="auditor")
    page = open_page(open_console, console_server, admin, "people")
    newcomer = unique("hired")
    page.get_by_role("button", name="Add person").click()
    form = page.locator("form[data-editor=add]")
    form.get_by_label("Username").fill(newcomer)
    form.get_by_label("Password").fill("long enough secret")
    form.get_by_role("button", name="Add person").click()
    page.locator(f'[data-user="{newcomer}"]').wait_for()

    go(page, "tokens")
    token = unique("nightly export")
    page.get_by_role("button", name="Create token").first.click()
    page.get_by_label("Name").fill(token)
    page.locator("form[data-editor=token]").get_by_role("button", name="Create token").click()
    page.get_by_role("button", name="I have copied it").click()
    page.locator(f'[data-token="{token}"]').get_by_role("button", name="Revoke").click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke").click()
    page.locator(f'[data-token="{token}"] .badge', has_text="revoked").wait_for()

    go(page, "activity")
    _filter(page, who=admin)
    assert _entries(page) == [f"{admin} Revoked an API token", f"{admin} Created an API token",
                              f"{admin} Added a person", f"{admin} Signed in"]
    summaries = page.locator(".entry-summary").all_inner_texts()
    assert any(token in text for text in summaries)
    assert any(newcomer in text for text in summaries)

    _filter(page, who=admin, what="Added a person")
    assert _entries(page) == [f"{admin} Added a person"]
    save_screenshots(page, "activity-filtered")
    assert_not_reloaded(page)


def test_dates_show_and_filter_in_the_users_own_time_zone(console_server: ConsoleServer,
                                                          open_console):
    member = new_member(console_server, "acme", "editor", prefix="night-shift")
    actor = _user_id(console_server, member)
    # 23:30 UTC on 1 March is 08:30 on 2 March in Tokyo.
    _record(console_server, "acme", actor, "asset.update", dt.datetime(2026, 3, 1, 23, 30),
            "late edit")
    _record(console_server, "acme", actor, "asset.delete", dt.datetime(2026, 3, 3, 12, 0),
            "clean-up")
    page = open_page(open_console, console_server, username("acme", "owner"), "activity",
                     timezone="Asia/Tokyo")

    _filter(page, who=member, since="2026-03-02", until="2026-03-02")
    assert _entries(page) == [f"{member} Changed content"]
    assert page.locator(".activity-list time").inner_text() == "2 Mar 2026, 08:30"

    _filter(page, who=member, what="Deleted content")
    assert _entries(page) == [f"{member} Deleted content"]

    _filter(page, who=member, since="2025-01-01", until="2025-01-31")
    empty = page.locator(".empty-state")
    assert "Nothing matches these filters" in empty.inner_text()

    page.get_by_role("button", name="Clear").click()
    _wait_for_list(page)
    page.locator(".activity-list").wait_for()
    assert page.get_by_label("Who").input_value() == ""
    assert_not_reloaded(page)


def test_a_long_log_shows_a_page_at_a_time(console_server: ConsoleServer, open_console):
    member = new_member(console_server, "acme", "viewer", prefix="busy")
    actor = _user_id(console_server, member)
    start = dt.datetime(2026, 2, 1, 9, 0)
    for minute in range(60):
        _record(console_server, "acme", actor, "asset.update",
                start + dt.timedelta(minutes=minute), f"edit {minute}")
    page = open_page(open_console, console_server, username("acme", "admin"), "activity",
                     viewport=PHONE)
    _filter(page, who=member)
    assert len(_entries(page)) == 50
    assert page.locator(".entry-summary").first.inner_text() == "edit 59"

    page.get_by_role("button", name="Show more").click()
    _wait_for_list(page)
    assert len(_entries(page)) == 60
    assert page.get_by_role("button", name="Show more").count() == 0
    assert_not_reloaded(page)


def test_another_tenants_activity_never_shows(console_server: ConsoleServer, open_console):
    acme_person = new_member(console_server, "acme", "admin", prefix="acme-secret")
    _record(console_server, "acme", _user_id(console_server, acme_person), "asset.create",
            dt.datetime(2026, 1, 1), "acme confidential")
    page = open_page(open_console, console_server, username("globex", "admin"), "activity",
                     tenant="globex")
    who = page.get_by_label("Who").locator("option").all_inner_texts()
    assert username("globex", "owner") in who
    assert not [name for name in who if name.startswith("acme")]
    content = page.content()
    assert "acme confidential" not in content and acme_person not in content


def test_a_single_granted_permission_opens_the_page_and_nothing_more(
        console_server: ConsoleServer, open_console):
    member = new_member(console_server, "acme", "editor", prefix="granted")
    with console_server.db():
        TenantService(console_server.tenant_ids["acme"]).update_user(
            _user_id(console_server, member), grants=["audit.view"])
    page = open_page(open_console, console_server, member, "activity")
    # Content, Sharing and Screens come with the editor's role; the grant adds Activity only.
    assert [name for name in nav_pages(page)
            if name not in ("content", "sharing", "screens")] == [
        "activity", "organisation"]
    # Without users.view the page cannot list people, but offers the user themself.
    assert page.get_by_label("Who").locator("option").all_inner_texts() == [
        "Anyone", member, "System"]
    _filter(page, who=member)
    assert _entries(page) == [f"{member} Signed in"]


def test_activity_page_screenshots(console_server: ConsoleServer, open_console):
    page = open_page(open_console, console_server, username("acme", "owner"), "activity")
    save_screenshots(page, "activity")
