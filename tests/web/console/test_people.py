"""People: an admin adds people, changes roles, grants and revokes permissions, deactivates
and deletes; the owner is out of an admin's reach; each role sees exactly its pages and
buttons; another tenant's people never show."""

from __future__ import annotations

import pytest

from anthias_edge.models import TenantUser, User
from anthias_edge.services.tenants import TenantService
from tests.web.console.helpers import (
    PHONE,
    ConsoleServer,
    save_screenshots,
    sign_in,
    username,
)
from tests.web.console.signed_in import (
    assert_not_reloaded,
    go,
    nav_pages,
    new_member,
    open_page,
    unique,
)

pytestmark = pytest.mark.postgres

MY_PAGES = ("people", "tokens", "activity", "organisation")


def _member(server: ConsoleServer, tenant: str, name: str) -> TenantUser | None:
    with server.db():
        return (TenantUser.select(TenantUser, User).join(User)
                .where(User.username == name,
                       TenantUser.tenant == server.tenant_ids[tenant]).first())


def test_an_admin_adds_a_person_after_fixing_the_fields_the_api_refused(
        console_server: ConsoleServer, open_console):
    page = open_page(open_console, console_server, username("acme", "admin"), "people")
    newcomer = unique("newcomer")
    page.get_by_role("button", name="Add person").click()
    form = page.locator("form[data-editor=add]")
    form.get_by_label("Username").fill(newcomer)
    form.get_by_label("Password").fill("short")
    form.get_by_role("button", name="Add person").click()

    password_field = form.locator(".field", has=page.get_by_label("Password"))
    assert password_field.locator(".field-error").inner_text() == "Must be 8 to 1024 characters."
    assert form.get_by_label("Password").get_attribute("aria-invalid") == "true"
    # The roles offered are the ones an admin may give: never owner.
    assert form.get_by_label("Role").locator("option").all_inner_texts() == [
        "viewer", "editor", "admin"]
    save_screenshots(page, "people-add-errors")

    form.get_by_label("Password").fill("long enough secret")
    form.get_by_label("Role").select_option("editor")
    form.get_by_role("button", name="Add person").click()

    card = page.locator(f'[data-user="{newcomer}"]')
    card.wait_for()
    assert card.locator(".badge").first.inner_text().lower() == "editor"
    assert page.locator("form[data-editor=add]").count() == 0
    member = _member(console_server, "acme", newcomer)
    assert member is not None and member.role == "editor"
    assert_not_reloaded(page)


def test_an_admin_changes_a_role_and_grants_and_revokes_single_permissions(
        console_server: ConsoleServer, open_console):
    person = new_member(console_server, "acme", "editor")
    page = open_page(open_console, console_server, username("acme", "admin"), "people")
    card = page.locator(f'[data-user="{person}"]')

    card.get_by_role("button", name="Permissions").click()
    card.get_by_label("Delete content").uncheck()
    card.get_by_label("View activity").check()
    save_screenshots(page, "people-permissions")
    card.get_by_role("button", name="Save permissions").click()
    card.locator(".chip.revoke").wait_for()
    assert card.locator(".chip").all_inner_texts() == [
        "+ View activity", "\N{MINUS SIGN} Delete content"]

    card.get_by_role("button", name="Change role").click()
    card.get_by_label(f"Role of {person}").select_option("viewer")
    card.get_by_role("button", name="Save role").click()
    card.locator(".badge.role-viewer").wait_for()

    member = _member(console_server, "acme", person)
    assert member.role == "viewer"
    assert member.grants == ["audit.view"] and member.revokes == ["assets.delete"]
    assert_not_reloaded(page)


def test_an_admin_deactivates_then_deletes_a_person(console_server: ConsoleServer,
                                                     open_console):
    person = new_member(console_server, "acme", "viewer")
    page = open_page(open_console, console_server, username("acme", "admin"), "people")
    card = page.locator(f'[data-user="{person}"]')

    card.get_by_role("button", name="Deactivate").click()
    page.get_by_role("dialog").get_by_role("button", name="Deactivate").click()
    card.locator(".badge", has_text="deactivated").wait_for()
    assert _member(console_server, "acme", person).is_active is False
    assert card.get_by_role("button", name="Reactivate").is_visible()

    card.get_by_role("button", name="Delete").click()
    dialog = page.get_by_role("dialog")
    assert "cannot be undone" in dialog.inner_text()
    dialog.get_by_role("button", name="Delete").click()
    card.wait_for(state="detached")
    assert _member(console_server, "acme", person) is None
    page.locator("#toasts").get_by_text(f"{person} was deleted.").wait_for()
    assert_not_reloaded(page)


def test_the_owner_is_out_of_an_admins_reach_and_the_apis_refusal_is_shown(
        console_server: ConsoleServer, open_console):
    person = new_member(console_server, "acme", "viewer")
    page = open_page(open_console, console_server, username("acme", "admin"), "people")
    owner_card = page.locator(f'[data-user="{username("acme", "owner")}"]')
    assert owner_card.get_by_role("button").count() == 0

    # Someone else makes this person an owner while the admin's page still offers Delete.
    card = page.locator(f'[data-user="{person}"]')
    card.get_by_role("button", name="Delete").wait_for()
    with console_server.db():
        member = _member(console_server, "acme", person)
        TenantService(console_server.tenant_ids["acme"]).update_user(member.user_id,
                                                                     role="owner")
    card.get_by_role("button", name="Delete").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()

    refusal = page.locator(".toast-error")
    refusal.wait_for()
    assert "holds permissions you do not have" in refusal.inner_text()
    assert "Delete the organisation" in refusal.inner_text()
    card.locator(".badge.role-owner").wait_for()  # redrawn as it is now: an owner
    assert card.get_by_role("button").count() == 0
    assert _member(console_server, "acme", person) is not None


# What each role may see and press on these pages, from anthias_edge/permissions.py.
EXPECTED = {
    "owner": {"pages": ["people", "tokens", "activity", "organisation"], "add": True,
              "owner_buttons": 0, "org_form": True},
    "admin": {"pages": ["people", "tokens", "activity", "organisation"], "add": True,
              "owner_buttons": 0, "org_form": True},
    "editor": {"pages": ["organisation"], "add": False, "org_form": False},
    "viewer": {"pages": ["organisation"], "add": False, "org_form": False},
}


@pytest.mark.parametrize("role", list(EXPECTED))
def test_each_role_sees_exactly_its_pages_and_buttons(console_server: ConsoleServer,
                                                      open_console, role: str):
    expected = EXPECTED[role]
    page = open_console()
    sign_in(page, console_server.url("acme"), username("acme", role))
    shown = [name for name in nav_pages(page) if name in MY_PAGES]
    assert shown == expected["pages"]

    # A hidden page is not reachable by its address either: the router shows another.
    for hidden in set(MY_PAGES) - set(expected["pages"]):
        page.evaluate(f"() => {{ location.hash = '#/{hidden}'; }}")
        # The router answers a page the user may not see by showing (and naming) another.
        page.wait_for_function(f"() => location.hash !== '#/{hidden}'")
        page.locator(".page h1").wait_for()
        assert page.locator(f'.page[data-page="{hidden}"]').count() == 0

    if "people" in expected["pages"]:
        go(page, "people")
        assert page.get_by_role("button", name="Add person").count() == int(expected["add"])
        me = page.locator(f'[data-user="{username("acme", role)}"]')
        assert me.get_by_role("button").count() == 0  # nobody deletes or demotes themselves
        owner = page.locator(f'[data-user="{username("acme", "owner")}"]')
        assert owner.get_by_role("button").count() == expected["owner_buttons"]
        viewer = page.locator(f'[data-user="{username("acme", "viewer")}"]')
        assert viewer.get_by_role("button").all_inner_texts() == [
            "Change role", "Permissions", "Deactivate", "Delete"]
    if "tokens" in expected["pages"]:
        go(page, "tokens")
        assert page.get_by_role("button", name="Create token").first.is_visible()
    go(page, "organisation")
    form = page.locator('[data-page="organisation"] form')
    assert form.count() == int(expected["org_form"])
    assert page.get_by_role("button", name="Save").count() == int(expected["org_form"])
    if not expected["org_form"]:
        assert page.locator('[data-fact="name"]').inner_text() == "Acme"


def test_another_tenants_people_never_show(console_server: ConsoleServer, open_console):
    acme_person = new_member(console_server, "acme", "viewer", prefix="acme-only")
    page = open_page(open_console, console_server, username("globex", "admin"), "people",
                     tenant="globex", viewport=PHONE)
    names = page.locator(".person-name").all_inner_texts()
    assert username("globex", "owner") in names
    assert acme_person not in names
    assert not [name for name in names if name.startswith("acme")]

    # And acme's admin cannot sign in on globex's address at all.
    other = open_console()
    sign_in(other, console_server.url("globex"), username("acme", "admin"),
            expect_success=False)
    other.locator(".form-error").wait_for()
    assert other.get_by_role("button", name="Sign out everywhere").count() == 0


def test_a_keyboard_alone_adds_a_person_with_focus_always_visible(
        console_server: ConsoleServer, open_console):
    page = open_page(open_console, console_server, username("acme", "admin"), "people")
    newcomer = unique("keyboard")
    focused = "() => document.activeElement"
    outline = "() => getComputedStyle(document.activeElement).outlineStyle"
    page.locator('[data-page="people"] h1').focus()
    page.keyboard.press("Tab")
    assert page.evaluate(f"{focused}.dataset.action") == "add-person"
    assert page.evaluate(outline) != "none"
    page.keyboard.press("Enter")
    assert page.evaluate(f"{focused}.name") == "username"
    page.keyboard.type(newcomer)
    page.keyboard.press("Tab")  # email
    page.keyboard.press("Tab")  # password
    assert page.evaluate(f"{focused}.name") == "password"
    page.keyboard.type("long enough secret")
    page.keyboard.press("Tab")  # role
    page.keyboard.press("Tab")
    assert page.evaluate(f"{focused}.textContent") == "Add person"
    page.keyboard.press("Enter")
    page.locator(f'[data-user="{newcomer}"]').wait_for()
    # Focus goes back to the button that opened the form, not to the top of the page.
    page.wait_for_function("() => document.activeElement.dataset.action === 'add-person'")
    assert page.evaluate(outline) != "none"


def test_people_page_screenshots(console_server: ConsoleServer, open_console):
    page = open_page(open_console, console_server, username("acme", "owner"), "people")
    save_screenshots(page, "people")
    page.get_by_role("button", name="Add person").click()
    save_screenshots(page, "people-add")
