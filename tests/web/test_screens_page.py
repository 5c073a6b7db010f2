"""The console's Screens page in Chromium against a live cloud app on PostgreSQL.

The fleet (three screens of acme in each state, one of globex that must never show) is
linked through the fleet services and given what the screens' pushes would leave
(tests/web/screens_world.py). Desktop 1366x768 and phone 390x844. Screenshots of every view
go to /tmp/shots_c/.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from anthias_edge.models import AuditLog, Device, DeviceCommand, FleetToken, PairingCode, Tenant
from anthias_edge.services.fleet.codes import digest
from anthias_edge.services.fleet.enrolment import EnrolmentService
from anthias_edge.services.fleet.errors import PairingCodeInvalid
from anthias_edge.timeutil import utcnow
from tests.cloud.pg import drop_database, fresh_database
from tests.helpers import serve_wsgi
from tests.web.cloud_process import cloud_database_name
from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.web.console.accessibility import assert_accessible
from tests.web.console.helpers import (
    BASE_DOMAIN,
    TENANTS,
    ConsoleServer,
    console_app,
    create_tenant_with_roles,
    sign_in,
    username,
)
from tests.web.screens_world import DESKTOP, PHONE, Fleet, bind, shot

pytestmark = pytest.mark.postgres

NOW = utcnow()


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    """The cloud app with acme's fleet: Lobby (online), Cafe (late), Warehouse (never seen)."""
    name = cloud_database_name("screens")
    url = fresh_database(name)
    app = console_app(tmp_path_factory.mktemp("screens-home"), url)
    runtime = app.extensions["anthias"]
    with runtime.database.connection_context():
        tenant_ids = {tenant: create_tenant_with_roles(tenant) for tenant in
                      (*TENANTS, "initech")}  # initech links no screen
        # Room for the screens the tests link (the free plan's 5 would refuse the sixth).
        Tenant.update(max_devices=50).where(Tenant.id == tenant_ids["acme"]).execute()
    with serve_wsgi(app, threads=8) as served:
        server = ConsoleServer(app, int(served.rsplit(":", 1)[1]), tenant_ids)
        bind(server)
        world = Fleet(server)
        lobby = world.link("acme", "Lobby")
        world.report("acme", lobby, seen_ago=dt.timedelta(seconds=20),
                     on_screen=("a1", "Welcome"))
        assets = world.inventory("acme", lobby, ["Welcome", "Menu of the day"])
        day = dt.timedelta(days=1)
        world.plays("acme", lobby, [
            (assets[0], "Welcome", NOW - day, 10.0), (assets[0], "Welcome", NOW - day, 10.0),
            (assets[1], "Menu of the day", NOW - day, 15.0),
            (assets[0], "Welcome", NOW - dt.timedelta(minutes=5), 10.0)])
        cafe = world.link("acme", "Cafe")
        world.report("acme", cafe, seen_ago=dt.timedelta(minutes=4), version="2.3.9",
                     address="10.0.0.7", free_disk=830_000_000)
        world.link("acme", "Warehouse")
        world.link("globex", "Globex secret screen")
        world.ids = {"lobby": lobby, "cafe": cafe, "assets": assets}
        yield world
    runtime.messenger.close()
    runtime.close_database()
    drop_database(name)


@pytest.fixture(scope="module")
def screens_browser(browser: Any) -> Iterator[Any]:
    """Chromium with ``*.signage.test`` resolving to loopback (each tenant's own address)."""
    rules = f"MAP *.{BASE_DOMAIN} 127.0.0.1, MAP {BASE_DOMAIN} 127.0.0.1"
    launched = browser.browser_type.launch(
        executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, f"--host-resolver-rules={rules}"])
    yield launched
    launched.close()


@pytest.fixture
def open_screens(fleet: Fleet, screens_browser: Any) -> Iterator[Callable[..., Any]]:
    """``open_screens(user, viewport, hash)``: a signed-in tab on acme's Screens page.

    A JavaScript error fails the test (API refusals are the page's to explain)."""
    contexts, errors = [], []

    def open_tab(user: str = "acme-owner", viewport: dict[str, int] = DESKTOP,
                 where: str = "#/screens", tenant: str = "acme") -> Any:
        bind(fleet.server)
        context = screens_browser.new_context(viewport=viewport, timezone_id="UTC",
                                              locale="en-GB", accept_downloads=True)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on("pageerror", lambda error: errors.append(str(error)))
        sign_in(page, fleet.server.url(tenant), user)
        page.goto(fleet.server.url(tenant) + "/" + where)
        page.locator('.page[data-page="screens"] h1').wait_for()
        return page

    yield open_tab
    for context in contexts:
        context.close()
    assert errors == [], f"JavaScript errors: {errors}"


def row(page: Any, name: str) -> Any:
    return page.locator("tr", has=page.get_by_role("rowheader", name=name, exact=True))


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_fleet_list_shows_each_screen_as_it_last_reported(open_screens, viewport):
    page = open_screens(viewport=viewport)
    expect(page.locator(".screen-table tbody tr")).to_have_count(3)
    lobby = row(page, "Lobby")
    expect(lobby.locator('[data-label="State"]')).to_have_text("Online")
    expect(lobby.locator('[data-label="Last seen"]')).to_have_text(re.compile(r"\d+ s ago"))
    expect(lobby.locator('[data-label="Last play"]')).to_have_text(re.compile(r"\d+ min ago"))
    expect(lobby.locator('[data-label="On screen now"]')).to_have_text("Welcome")
    expect(lobby.locator('[data-label="Software"]')).to_have_text("2.4.0")
    expect(lobby.locator('[data-label="Address"]')).to_have_text("192.168.1.20")
    expect(lobby.locator('[data-label="Free disk"]')).to_have_text("12.3 GB")
    cafe = row(page, "Cafe")
    expect(cafe.locator('[data-label="State"]')).to_have_text("Late")
    expect(cafe.locator('[data-label="Free disk"]')).to_have_text("830 MB")
    warehouse = row(page, "Warehouse")
    expect(warehouse.locator('[data-label="State"]')).to_have_text("Not seen yet")
    expect(warehouse.locator('[data-label="Last seen"]')).to_have_text("never")
    expect(page.get_by_text("Globex secret screen")).to_have_count(0)
    expect(page.get_by_role("status").filter(has_text="3 screens")).to_contain_text(
        "1 online, 1 late, 1 not seen yet")
    label = "desktop" if viewport == DESKTOP else "phone"
    shot(page, f"console-screens-list-{label}", [(label, viewport)])
    assert_accessible(page, "Screens list")


def test_search_and_state_filter(open_screens):
    page = open_screens()
    expect(page.locator(".screen-table tbody tr")).to_have_count(3)
    page.get_by_label("Search").fill("caf")
    expect(page.locator(".screen-table tbody tr")).to_have_count(1)
    expect(row(page, "Cafe")).to_be_visible()
    page.get_by_label("Search").fill("")
    page.get_by_label("State").select_option("online")
    expect(page.locator(".screen-table tbody tr")).to_have_count(1)
    expect(row(page, "Lobby")).to_be_visible()
    page.get_by_label("Search").fill("nothing like this")
    expect(page.get_by_text("No screen matches these filters.")).to_be_visible()
    page.get_by_role("button", name="Clear filters").click()
    expect(page.locator(".screen-table tbody tr")).to_have_count(3)


def test_rename_commands_and_revoke(fleet: Fleet, open_screens):
    kiosk = fleet.link("acme", "Kiosk")
    shown_asset = fleet.inventory("acme", kiosk, ["Opening hours", "Offers"])[1]
    fleet.report("acme", kiosk, seen_ago=dt.timedelta(seconds=5))
    page = open_screens()

    row(page, "Kiosk").get_by_role("button", name="Rename “Kiosk”").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill("")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_text("Enter a name.")).to_be_visible()
    dialog.get_by_label("Name").fill("Kiosk by the door")
    dialog.get_by_role("button", name="Save").click()
    expect(row(page, "Kiosk by the door")).to_be_visible()
    bind(fleet.server)
    assert fleet.row("acme", Device, Device.device_id == kiosk).name == "Kiosk by the door"

    row(page, "Kiosk by the door").get_by_role("button", name="Command").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Next", exact=True).click()
    expect(dialog.get_by_role("status")).to_have_text(
        "Next: sent. The screen runs it at its next sync.")
    dialog.get_by_label("Show an asset of this screen").select_option(label="Offers")
    dialog.get_by_role("button", name="Show it now").click()
    expect(dialog.get_by_role("status")).to_contain_text("Show “Offers”: sent.")
    shot(page, "console-screens-command")
    # A restart asks first; Cancel sends nothing, Restart sends it.
    dialog.get_by_role("button", name="Restart").click()
    page.get_by_role("dialog").filter(has_text="goes dark").get_by_role(
        "button", name="Cancel").click()
    bind(fleet.server)
    queued = fleet.rows("acme", DeviceCommand, DeviceCommand.device_id == kiosk)
    assert sorted((c.command, c.args or {}) for c in queued) == sorted(
        [("next", {}), ("show_asset", {"asset_id": shown_asset})])
    dialog.get_by_role("button", name="Restart").click()
    page.get_by_role("dialog").filter(has_text="goes dark").get_by_role(
        "button", name="Restart").click()
    expect(dialog.get_by_role("status")).to_have_text(
        "Restart: sent. The screen runs it at its next sync.")
    bind(fleet.server)
    queued = fleet.rows("acme", DeviceCommand, DeviceCommand.device_id == kiosk)
    assert sorted(c.command for c in queued) == ["next", "reboot", "show_asset"]
    assert all(c.status == "pending" and c.created_by for c in queued)
    page.keyboard.press("Escape")

    row(page, "Kiosk by the door").get_by_role("button", name="Revoke “Kiosk by the door”").click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke").click()
    expect(row(page, "Kiosk by the door").locator('[data-label="State"]')).to_have_text("Revoked")
    expect(row(page, "Kiosk by the door").get_by_role("button")).to_have_count(0)
    bind(fleet.server)
    assert fleet.row("acme", Device, Device.device_id == kiosk).status == "revoked"


def test_a_screen_shows_its_inventory_and_plays(fleet: Fleet, open_screens):
    page = open_screens()
    page.get_by_role("link", name="Lobby", exact=True).click()
    expect(page.get_by_role("heading", name="Lobby", level=1)).to_be_visible()
    inventory = page.locator("section", has=page.get_by_role("heading",
                                                             name="Content on this screen"))
    expect(inventory.locator("tbody tr")).to_have_count(2)
    expect(inventory).to_contain_text("Menu of the day")
    plays = page.locator("section", has=page.get_by_role("heading", name="Recent plays"))
    expect(plays.locator("tbody tr")).to_have_count(4)
    expect(page.locator(".facts")).to_contain_text("2.4.0")
    shot(page, "console-screens-detail")
    assert_accessible(page, "Screen detail")
    page.get_by_role("link", name="← All screens").click()
    expect(page.locator(".screen-table tbody tr").first).to_be_visible()

    page.goto(fleet.server.url("acme") + "/#/screens/device/no-such-device")
    expect(page.get_by_role("alert")).to_contain_text("No such screen in your organisation")


def test_a_pairing_code_is_shown_and_links_a_screen(fleet: Fleet, open_screens):
    page = open_screens(viewport=PHONE)
    page.get_by_role("button", name="Create a pairing code").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name of the screen (optional)").fill("Reception")
    dialog.get_by_role("button", name="Create the code").click()
    big = dialog.locator(".big-code")
    expect(big).to_have_text(re.compile(r"^[2-9A-HJ-NP-Z]{4} [2-9A-HJ-NP-Z]{4}$"))
    expect(dialog.locator(".code-expiry")).to_have_text(re.compile(r"Expires in (10:00|9:\d\d)\."))
    expect(dialog).to_contain_text(fleet.server.url("acme"))
    shot(page, "console-screens-pairing-code", [("phone", PHONE)])
    code = big.get_attribute("data-code")
    bind(fleet.server)
    fleet.enroll_with_code(code, "whatever the screen says")
    dialog.get_by_role("button", name="Done").click()
    # Closing the dialog reloads the list: the screen has the name the code gave it.
    expect(row(page, "Reception")).to_be_visible()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_waiting_pairing_codes_are_listed_and_can_be_revoked(fleet: Fleet, open_screens,
                                                             viewport):
    tenant = fleet.tenant_id("acme")
    bind(fleet.server)
    with fleet.server.db():
        # Made by a script: no name, no one recorded.
        script_code = EnrolmentService(tenant).create_pairing_code().row.code_hash
    page = open_screens(viewport=viewport)
    page.get_by_role("button", name="Create a pairing code").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name of the screen (optional)").fill("Reception desk")
    dialog.get_by_role("button", name="Create the code").click()
    code = dialog.locator(".big-code").get_attribute("data-code")
    dialog.get_by_role("button", name="Done").click()
    waiting = page.get_by_role("list", name="Waiting pairing codes").locator("li")
    expect(waiting).to_have_count(2)  # closing the dialog showed the new one
    bind(fleet.server)
    with fleet.server.db():
        long_ago = utcnow() - dt.timedelta(minutes=11)
        EnrolmentService(tenant, clock=lambda: long_ago).create_pairing_code("Expired one")
    page.reload()

    expect(waiting).to_have_count(2)
    reception = waiting.filter(has_text="Reception desk")
    expect(reception.locator("[data-made]")).to_have_text(
        re.compile(r"^Made (just now|\d+ s ago) by acme-owner$"))
    expect(reception.locator("[data-expires]")).to_have_text(
        re.compile(r"^expires in (10 min|9 min|\d+ s)$"))
    expect(waiting.filter(has_text="a screen (it keeps its own name)").locator(
        "[data-made]")).to_have_text(re.compile(r"^Made (just now|\d+ s ago)$"))
    expect(page.get_by_text("Expired one")).to_have_count(0)
    label = "desktop" if viewport == DESKTOP else "phone"
    shot(page, f"console-screens-pairing-codes-{label}", [(label, viewport)])
    assert_accessible(page, "Screens list with waiting pairing codes")

    reception.get_by_role("button", name="Revoke the pairing code for “Reception desk”").click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke").click()
    expect(waiting).to_have_count(1)
    expect(page.get_by_text("The pairing code was revoked.")).to_be_visible()
    with pytest.raises(PairingCodeInvalid):  # a screen typing it now is refused
        fleet.enroll_with_code(code, "Too late")
    waiting.get_by_role("button", name=re.compile("^Revoke the pairing code")).click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke").click()
    expect(page.locator(".pending-codes")).to_be_hidden()
    bind(fleet.server)
    left = fleet.rows("acme", PairingCode, PairingCode.used_at.is_null())
    assert [c.name for c in left] == ["Expired one"]  # listed nowhere; the next code clears it
    audit = fleet.rows("acme", AuditLog, AuditLog.action == "pairing_code.revoke")
    assert {entry.object_id for entry in audit} >= {script_code[:12], digest(code)[:12]}


def test_claiming_a_code_a_screen_shows(fleet: Fleet, open_screens):
    bind(fleet.server)
    code = fleet.device_code("Shop window")
    page = open_screens()
    page.get_by_role("button", name="Claim a code").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Code shown on the screen").fill("ABC")
    dialog.get_by_role("button", name="Claim the screen").click()
    expect(dialog.get_by_text("A code has 8 characters.")).to_be_visible()
    dialog.get_by_label("Code shown on the screen").fill("ZZZZ2222")
    dialog.get_by_role("button", name="Claim the screen").click()
    expect(dialog.get_by_text(re.compile("not valid|No screen is showing"))).to_be_visible()
    shot(page, "console-screens-claim-error")
    dialog.get_by_label("Code shown on the screen").fill(f"{code[:4].lower()} {code[4:]}")
    dialog.get_by_role("button", name="Claim the screen").click()
    expect(dialog).to_be_hidden()
    expect(row(page, "Shop window")).to_be_visible()

    # The address a screen's QR code leads to opens the dialog with the code filled in.
    bind(fleet.server)
    second = fleet.device_code("Back office")
    page.goto(f"{fleet.server.url('acme')}/#/screens/claim/{second}")
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("Code shown on the screen")).to_have_value(second)
    dialog.get_by_label("Name of the screen (optional)").fill("Back office 2")
    dialog.get_by_role("button", name="Claim the screen").click()
    expect(row(page, "Back office 2")).to_be_visible()
    assert page.evaluate("() => location.hash") == "#/screens"


def test_fleet_tokens_created_shown_once_counted_and_revoked(fleet: Fleet, open_screens):
    page = open_screens(where="#/screens/tokens")
    expect(page.get_by_role("heading", name="Fleet tokens", level=1)).to_be_visible()
    page.get_by_role("button", name="Create a fleet token").first.click()
    form = page.locator("[data-editor=fleet-token]")
    form.get_by_label("Name").fill("Spring roll-out")
    form.get_by_label("Screens it may link").fill("0")
    form.get_by_role("button", name="Create the token").click()
    expect(form.get_by_text("Enter a whole number, 1 or more.")).to_be_visible()
    form.get_by_label("Screens it may link").fill("2")
    form.get_by_label("Expires").select_option("30")
    form.get_by_role("button", name="Create the token").click()
    secret = page.locator("#fleet-token-secret")
    expect(secret).to_have_value(re.compile(r"^aft_[A-Za-z0-9_-]{43}$"))
    token = secret.input_value()
    expect(page.locator("#fleet-token-file")).to_have_value(
        f"token={token}\ncloud={fleet.server.url('acme')}\n")
    item = page.locator("[data-fleet-token='Spring roll-out']")
    expect(item).to_contain_text("0 of 2 screens linked")
    shot(page, "console-screens-fleet-token")
    page.get_by_role("button", name="I have copied it").click()
    expect(page.locator("#fleet-token-secret")).to_have_count(0)

    bind(fleet.server)
    fleet.enroll_with_token(token, "Store 1")
    fleet.enroll_with_token(token, "Store 2")
    page.reload()
    expect(item).to_contain_text("2 of 2 screens linked")
    expect(item.locator(".badge")).to_have_text("used up")
    item.get_by_role("button", name="Revoke “Spring roll-out”").click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke").click()
    expect(item.locator(".badge")).to_have_text("revoked")
    bind(fleet.server)
    row_ = fleet.row("acme", FleetToken, FleetToken.name == "Spring roll-out")
    assert row_.revoked_at is not None and row_.used_count == 2
    assert token not in page.content()  # the secret is gone from the page


def test_the_proof_of_play_report_and_its_csv(fleet: Fleet, open_screens):
    page = open_screens(where="#/screens/report")
    table = page.locator(".report-table")
    expect(table.locator("tbody tr")).to_have_count(3)
    welcome_yesterday = table.locator("tr", has_text=(NOW - dt.timedelta(days=1)).strftime(
        "%Y-%m-%d")).filter(has_text="Welcome")
    expect(welcome_yesterday.locator('[data-label="Plays"]')).to_have_text("2")
    expect(welcome_yesterday.locator('[data-label="Seconds"]')).to_have_text("20")
    shot(page, "console-screens-report")
    page.get_by_label("Screen", exact=True).select_option(label="Cafe")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("No plays in this period.")).to_be_visible()
    page.get_by_label("Screen", exact=True).select_option(label="All screens")
    page.get_by_label("From").fill((NOW + dt.timedelta(days=3)).strftime("%Y-%m-%d"))
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("The last day comes before the first.")).to_be_visible()
    page.get_by_label("From").fill((NOW - dt.timedelta(days=6)).strftime("%Y-%m-%d"))
    page.get_by_role("button", name="Show").click()
    expect(table.locator("tbody tr")).to_have_count(3)

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download CSV").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(download.path().read_text(encoding="utf-8"))))
    assert sorted((r["asset_name"], int(r["plays"])) for r in rows) == [
        ("Menu of the day", 1), ("Welcome", 1), ("Welcome", 2)]
    assert {r["device_name"] for r in rows} == {"Lobby"}


def test_a_viewer_sees_the_fleet_but_changes_nothing(open_screens):
    page = open_screens(user=username("acme", "viewer"))
    expect(row(page, "Lobby")).to_be_visible()
    expect(page.get_by_role("button", name="Create a pairing code")).to_have_count(0)
    expect(page.get_by_role("button", name="Claim a code")).to_have_count(0)
    expect(page.locator(".screen-table").get_by_role("button")).to_have_count(0)
    # Fleet tokens are devices.manage's: no tab for them; the report is there.
    expect(page.locator(".tabs a")).to_have_text(["Screens", "Proof of play"])


def test_an_organisation_without_screens_is_told_how_to_link_one(open_screens):
    page = open_screens(user=username("initech", "admin"), tenant="initech")
    expect(page.get_by_text("No screens yet. Create a pairing code")).to_be_visible()
    page.locator(".empty-state").get_by_role("button", name="Create a pairing code").click()
    expect(page.get_by_role("dialog", name="Create a pairing code")).to_be_visible()
    page.keyboard.press("Escape")
    page.get_by_role("link", name="Fleet tokens").click()
    expect(page.get_by_text("No fleet tokens yet.")).to_be_visible()
    page.get_by_role("link", name="Proof of play").click()
    expect(page.get_by_text("No plays in this period.")).to_be_visible()
    shot(page, "console-screens-report-empty")
