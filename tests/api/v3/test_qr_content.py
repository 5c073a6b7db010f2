"""/api/v3/qr-content: what a client sees when it makes, lists, changes and deletes codes.

Runs on SQLite, and on PostgreSQL with ANTHIAS_TEST_DATABASE_URL (device mode on both).
"""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
import zxingcpp
from PIL import Image

from anthias_edge.models import QRContent
from tests.api.v3.conftest import World

QR = "/api/v3/qr-content"
V2_ASSET = {"name": "Lobby", "uri": "https://example.com/", "mimetype": "webpage",
            "start_date": "2024-01-01T00:00:00Z", "end_date": "2099-01-01T00:00:00Z",
            "duration": 10, "is_enabled": True, "skip_asset_check": True}


def make(world: World, asset_id: str, role: str = "owner", **body):
    """POST a QR content; answer the response."""
    return world.client.post(QR, json={"asset_id": asset_id, **body}, headers=world.auth(role))


def rows(world: World) -> list[QRContent]:
    """Every stored QR content of every tenant (the device database is not row-secured)."""
    with world.db():
        return list(QRContent.select().order_by(QRContent.created_at))


def decode(png: bytes) -> list[str]:
    """What zxing-cpp reads in a PNG."""
    image = Image.open(io.BytesIO(png))
    image.load()
    return [result.text for result in zxingcpp.read_barcodes(image)]


def test_a_new_code_names_its_asset_and_leads_to_its_landing_page(world: World):
    asset = world.asset(world.a, name="Lunch menu")

    response = make(world, asset, description="Today's dishes")

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert re.fullmatch(r"QR[0-9A-F]{16}", body["qr_code"])
    assert body["barcode"] is None and body["barcode_svg_url"] is None
    assert (body["asset_id"], body["title"], body["description"]) == (
        asset, "Lunch menu", "Today's dishes")
    assert (body["access_count"], body["is_active"], body["is_expired"]) == (0, True, False)
    assert body["landing_url"] == f"http://localhost/q/{body['qr_code']}"
    assert body["created_by"] == world.users[(world.a, "owner")]
    assert body["qr_png_url"].startswith(f"{QR}/{body['qr_code']}/qr.png?v=")


def test_a_barcode_is_made_only_when_asked_for_and_codes_differ(world: World):
    asset = world.asset(world.a)

    bodies = [make(world, asset, include_barcode=True).get_json() for _ in range(5)]

    assert all(re.fullmatch(r"BC[0-9A-F]{12}", b["barcode"]) for b in bodies)
    assert len({b["qr_code"] for b in bodies}) == len({b["barcode"] for b in bodies}) == 5
    assert bodies[0]["barcode_png_url"] == f"{QR}/{bodies[0]['qr_code']}/barcode.png"


def test_the_qr_png_and_svg_decode_to_the_exact_landing_url(world: World):
    asset = world.asset(world.a)
    body = make(world, asset).get_json()
    headers = world.auth("viewer")

    png = world.client.get(body["qr_png_url"] + "&size=4&border=2&ec=H", headers=headers)
    svg = world.client.get(body["qr_svg_url"], headers=headers)

    assert png.status_code == 200 and png.content_type == "image/png"
    assert decode(png.data) == [body["landing_url"]]
    assert Image.open(io.BytesIO(png.data)).size[0] % 4 == 0
    assert svg.content_type == "image/svg+xml"
    assert svg.data.startswith(b"<?xml") and body["landing_url"].encode() in svg.data


def test_the_barcode_png_decodes_to_the_barcode_as_code_128(world: World):
    body = make(world, world.asset(world.a), include_barcode=True).get_json()

    png = world.client.get(body["barcode_png_url"], headers=world.auth())
    image = Image.open(io.BytesIO(png.data))
    found = zxingcpp.read_barcodes(image)

    assert [(r.text, r.format) for r in found] == [(body["barcode"],
                                                    zxingcpp.BarcodeFormat.Code128)]
    svg = world.client.get(body["barcode_svg_url"], headers=world.auth())
    assert svg.status_code == 200 and body["barcode"].encode() in svg.data


def test_pictures_are_immutable_with_an_etag_and_answer_304_to_it(world: World):
    body = make(world, world.asset(world.a), include_barcode=True).get_json()
    headers = world.auth()

    for url in (body["qr_png_url"], body["qr_svg_url"], body["barcode_png_url"],
                body["barcode_svg_url"]):
        first = world.client.get(url, headers=headers)
        again = world.client.get(url, headers={**headers, "If-None-Match": first.headers["ETag"]})
        other = world.client.get(url, headers={**headers, "If-None-Match": '"nope"'})
        assert first.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert (again.status_code, again.data) == (304, b"")
        assert again.headers["ETag"] == first.headers["ETag"]
        assert other.status_code == 200 and other.data == first.data
    bigger = world.client.get(body["qr_png_url"] + "&size=20", headers=headers)
    assert bigger.headers["ETag"] != world.client.get(body["qr_png_url"],
                                                      headers=headers).headers["ETag"]


def test_the_public_url_setting_moves_every_code_and_changes_the_picture_urls(world: World):
    body = make(world, world.asset(world.a)).get_json()
    world.runtime.settings.update({"public_url": "https://signs.example.com/lobby/"})

    moved = world.client.get(f"{QR}/{body['qr_code']}", headers=world.auth()).get_json()
    png = world.client.get(moved["qr_png_url"], headers=world.auth())

    assert moved["landing_url"] == f"https://signs.example.com/lobby/q/{body['qr_code']}"
    assert moved["qr_png_url"] != body["qr_png_url"]
    assert decode(png.data) == [moved["landing_url"]]


@pytest.mark.parametrize(("query", "field"), [
    ("size=0", "size"), ("size=41", "size"), ("size=-3", "size"),
    ("size=99999999999", "size"), ("border=11", "border"), ("border=-1", "border"),
    ("ec=X", "ec"), ("size=abc", "size")])
def test_picture_options_out_of_bounds_are_a_400_naming_the_option(world: World, query: str,
                                                                   field: str):
    body = make(world, world.asset(world.a)).get_json()

    response = world.client.get(f"{QR}/{body['qr_code']}/qr.png?{query}", headers=world.auth())

    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "validation_error"
    assert field in response.get_json()["error"]["details"]


def test_a_barcode_picture_of_a_code_without_barcode_is_a_404(world: World):
    body = make(world, world.asset(world.a)).get_json()

    response = world.client.get(f"{QR}/{body['qr_code']}/barcode.png", headers=world.auth())

    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "qr_content_not_found"


@pytest.mark.parametrize("body", [
    {"asset_id": "0" * 32},  # no such asset
    {"asset_id": "x\u0000y"},
    {"asset_id": ""},
    {"expires_at": "2020-01-01T00:00:00Z"},  # in the past
    {"expires_at": "tomorrow"},
    {"title": "t" * 201},
    {"include_barcode": "yes"},
    {"colour": "red"},
])
def test_bad_input_is_a_clear_4xx_and_writes_nothing(world: World, body: dict):
    asset = world.asset(world.a)

    response = world.client.post(QR, json={"asset_id": asset, **body}, headers=world.auth())

    assert response.status_code in (400, 404), response.get_json()
    error = response.get_json()["error"]
    assert error["code"] in ("validation_error", "asset_not_found")
    assert error["message"]
    assert rows(world) == []


def test_another_tenants_asset_is_unknown_and_nothing_is_written(world: World):
    theirs = world.asset(world.b, name="beta only")

    response = make(world, theirs)

    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "asset_not_found"
    assert theirs not in response.get_data(as_text=True)
    assert rows(world) == []


@pytest.mark.parametrize("code", ["QR123", "qr0123456789abcdef", "QR0123456789ABCDEF",
                                  "BC0123456789AB", "QR0123456789ABCDEG"])
def test_malformed_or_unknown_codes_are_a_404(world: World, code: str):
    for method in ("GET", "PATCH", "DELETE"):
        response = world.client.open(f"{QR}/{code}", method=method, json={"title": "x"},
                                     headers=world.auth())
        assert response.status_code == 404, (method, response.get_json())
        assert response.get_json()["error"]["code"] == "qr_content_not_found"


def test_patch_changes_title_expiry_and_activity_and_keeps_the_rest(world: World):
    world.runtime.clock = lambda: dt.datetime(2030, 1, 1, 12, 0)
    body = make(world, world.asset(world.a)).get_json()
    url = f"{QR}/{body['qr_code']}"

    changed = world.client.patch(url, json={"title": "Spring menu", "is_active": False,
                                            "expires_at": "2030-02-01T00:00:00Z"},
                                 headers=world.auth("editor"))
    past = world.client.patch(url, json={"expires_at": "2029-12-31T00:00:00Z"},
                              headers=world.auth())
    cleared = world.client.patch(url, json={"expires_at": None, "is_active": True},
                                 headers=world.auth())

    assert changed.status_code == 200, changed.get_json()
    shown = changed.get_json()
    assert (shown["title"], shown["is_active"], shown["expires_at"]) == (
        "Spring menu", False, "2030-02-01T00:00:00Z")
    assert shown["qr_code"] == body["qr_code"] and shown["description"] == ""
    assert past.status_code == 400 and "expires_at" in past.get_json()["error"]["details"]
    assert (cleared.get_json()["expires_at"], cleared.get_json()["is_active"]) == (None, True)
    assert cleared.get_json()["title"] == "Spring menu"


def test_patch_refuses_fields_that_cannot_change(world: World):
    body = make(world, world.asset(world.a)).get_json()

    response = world.client.patch(f"{QR}/{body['qr_code']}",
                                  json={"qr_code": "QR0000000000000000", "access_count": 9},
                                  headers=world.auth())

    assert response.status_code == 400
    assert set(response.get_json()["error"]["details"]) == {"qr_code", "access_count"}
    assert [row.qr_code for row in rows(world)] == [body["qr_code"]]


def test_a_code_whose_expiry_passed_shows_expired_and_filters_as_such(world: World):
    now = [dt.datetime(2030, 1, 1, 12, 0)]
    world.runtime.clock = lambda: now[0]
    asset = world.asset(world.a)
    soon = make(world, asset, expires_at="2030-01-01T12:01:00Z").get_json()
    never = make(world, asset).get_json()
    now[0] = dt.datetime(2030, 1, 1, 12, 2)  # within the access token's lifetime

    expired = world.client.get(f"{QR}?expired=true", headers=world.auth()).get_json()
    current = world.client.get(f"{QR}?expired=false", headers=world.auth()).get_json()

    assert [i["qr_code"] for i in expired["items"]] == [soon["qr_code"]]
    assert expired["items"][0]["is_expired"] is True
    assert [i["qr_code"] for i in current["items"]] == [never["qr_code"]]


def test_the_list_filters_by_asset_activity_and_text(world: World):
    first, second = world.asset(world.a), world.asset(world.a)
    menu = make(world, first, title="Lunch MENU", include_barcode=True).get_json()
    event = make(world, second, title="Event", description="Concert tonight").get_json()
    world.client.patch(f"{QR}/{event['qr_code']}", json={"is_active": False},
                       headers=world.auth())

    def codes(query: str) -> list[str]:
        response = world.client.get(f"{QR}?{query}", headers=world.auth("viewer"))
        assert response.status_code == 200, response.get_json()
        return [item["qr_code"] for item in response.get_json()["items"]]

    assert codes(f"asset={first}") == [menu["qr_code"]]
    assert codes("active=true") == [menu["qr_code"]]
    assert codes("active=false") == [event["qr_code"]]
    assert codes("q=menu") == [menu["qr_code"]]
    assert codes("q=CONCERT") == [event["qr_code"]]
    assert codes(f"q={menu['barcode'].lower()}") == [menu["qr_code"]]
    assert codes("q=100%25") == []
    assert codes("asset=nothing") == []


def test_pages_walk_every_code_once_newest_first(world: World):
    asset = world.asset(world.a)
    made = [make(world, asset, title=f"n{i}").get_json()["qr_code"] for i in range(7)]

    seen, cursor, pages = [], None, 0
    while True:
        url = f"{QR}?limit=3" + (f"&cursor={cursor}" if cursor else "")
        body = world.client.get(url, headers=world.auth()).get_json()
        seen += [item["qr_code"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert pages == 3
    assert sorted(seen) == sorted(made) and len(seen) == 7
    bad = world.client.get(f"{QR}?cursor=bm9wZQ", headers=world.auth())
    assert bad.status_code == 400 and "cursor" in bad.get_json()["error"]["details"]


def test_delete_removes_the_code_for_good(world: World):
    body = make(world, world.asset(world.a)).get_json()
    url = f"{QR}/{body['qr_code']}"

    deleted = world.client.delete(url, headers=world.auth("editor"))

    assert deleted.status_code == 204
    assert world.client.get(url, headers=world.auth()).status_code == 404
    assert rows(world) == []


def test_a_viewer_reads_but_cannot_make_change_or_delete(world: World):
    asset = world.asset(world.a)
    body = make(world, asset).get_json()
    url = f"{QR}/{body['qr_code']}"
    viewer = world.auth("viewer")

    answers = [world.client.get(QR, headers=viewer).status_code,
               world.client.get(url, headers=viewer).status_code,
               world.client.post(QR, json={"asset_id": asset}, headers=viewer).status_code,
               world.client.patch(url, json={"title": "x"}, headers=viewer).status_code,
               world.client.delete(url, headers=viewer).status_code]

    assert answers == [200, 200, 403, 403, 403]
    assert [(r.qr_code, r.title) for r in rows(world)] == [(body["qr_code"], body["title"])]


def test_every_change_is_in_the_audit_log(world: World):
    body = make(world, world.asset(world.a)).get_json()
    code = body["qr_code"]
    world.client.patch(f"{QR}/{code}", json={"title": "Renamed"}, headers=world.auth())
    world.client.delete(f"{QR}/{code}", headers=world.auth())

    entries = world.client.get("/api/v3/audit-log?limit=200",
                               headers=world.auth()).get_json()["items"]
    mine = [(e["action"], e["object_type"], e["object_id"]) for e in entries
            if e["object_type"] == "qr_content"]

    assert mine == [("qr.delete", "qr_content", code), ("qr.update", "qr_content", code),
                    ("qr.create", "qr_content", code)]
    assert all(e["actor"] == world.users[(world.a, "owner")] for e in entries
               if e["object_type"] == "qr_content")


def test_deleting_the_asset_deletes_its_codes(world: World):
    asset, other = world.asset(world.a), world.asset(world.a)
    make(world, asset)
    make(world, asset, include_barcode=True)
    kept = make(world, other).get_json()

    assert world.client.delete(f"/api/v3/assets/{asset}", headers=world.auth()).status_code \
        == 204

    assert [row.qr_code for row in rows(world)] == [kept["qr_code"]]


def test_sharing_an_asset_through_v3_makes_one_active_code_and_unsharing_deactivates_it(
        world: World):
    asset = world.asset(world.a, name="Shared menu")
    url = f"/api/v3/assets/{asset}"

    shared = world.client.patch(url, json={"is_shared": True}, headers=world.auth())
    again = world.client.patch(url, json={"is_shared": True}, headers=world.auth())
    listed = world.client.get(f"{QR}?asset={asset}", headers=world.auth()).get_json()["items"]
    unshared = world.client.patch(url, json={"is_shared": False}, headers=world.auth())
    after = world.client.get(f"{QR}?asset={asset}", headers=world.auth()).get_json()["items"]

    assert shared.get_json()["is_shared"] is True and shared.get_json()["share_code"]
    assert again.get_json()["share_code"] == shared.get_json()["share_code"]
    assert [(i["title"], i["is_active"]) for i in listed] == [("Shared menu", True)]
    assert unshared.get_json()["share_code"] is None
    assert [(i["qr_code"], i["is_active"]) for i in after] == [(listed[0]["qr_code"], False)]


def test_an_asset_created_shared_has_its_code_at_once(world: World):
    made = world.client.post("/api/v3/assets", headers=world.auth(), json={
        "name": "Poster", "uri": "https://example.com/p", "mimetype": "webpage",
        "skip_asset_check": True, "is_shared": True}).get_json()

    listed = world.client.get(f"{QR}?asset={made['asset_id']}",
                              headers=world.auth()).get_json()["items"]

    assert [(i["title"], i["is_active"]) for i in listed] == [("Poster", True)]


def test_v2_shows_no_sharing_fields_and_its_delete_cascades_to_the_codes(world: World):
    created = world.client.post("/api/v2/assets", json=V2_ASSET)
    asset = created.get_json()["asset_id"]
    local = world.runtime.local_tenant_id
    with world.db():
        from anthias_edge.services.qr_content import QRContentService
        QRContentService(local).create(asset)

    shown = world.client.get(f"/api/v2/assets/{asset}").get_json()
    deleted = world.client.delete(f"/api/v2/assets/{asset}")

    assert created.status_code == 201
    assert not {"is_shared", "share_code", "qr_overlay"} & set(shown)
    assert deleted.status_code == 204
    assert rows(world) == []


def test_every_qr_route_is_in_the_openapi_document_with_its_permission(world: World):
    document = world.client.get("/api/v3/openapi.json").get_json()
    paths = document["paths"]

    assert paths[QR]["get"]["description"].startswith("Needs the `qr.view` permission.")
    assert paths[QR]["post"]["description"].startswith("Needs the `qr.create` permission.")
    item = paths[QR + "/{qr_code}"]
    assert {"get", "patch", "delete"} <= set(item)
    png = paths[QR + "/{qr_code}/qr.png"]["get"]
    assert "image/png" in png["responses"]["200"]["content"]
    assert {p["name"] for p in png["parameters"]} >= {"qr_code", "size", "border", "ec"}
    assert "image/svg+xml" in paths[QR + "/{qr_code}/barcode.svg"]["get"]["responses"][
        "200"]["content"]
