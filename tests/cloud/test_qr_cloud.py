"""QR contents in the cloud on PostgreSQL: tenants apart over HTTP and in the database itself.

Tenant globex can neither list, read, change nor delete acme's codes through v3 (with a
token of its own, on its own host); the table is under row-level security like every
tenant table (0010); ``anthias_public_code_tenant`` answers only the owning tenant of a code
and nothing else; codes lead to the tenant's own address.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
import zxingcpp
from flask import Flask
from PIL import Image

from anthias_edge.models import QRContent
from tests.cloud.conftest import BASE_DOMAIN
from tests.cloud.pg import drop_database, fresh_database, query
from tests.cloud.test_row_level_security import as_app, sql

pytestmark = pytest.mark.postgres

DATABASE = "anthias_qr_cloud_test"  # apart from the other cloud modules' databases
PASSWORD = "correct horse battery"
QR = "/api/v3/qr-content"
PAGE = {"name": "Acme menu", "uri": "https://example.org/", "mimetype": "webpage",
        "duration": 10, "is_enabled": True, "skip_asset_check": True}


@pytest.fixture(scope="module")
def cloud_server_url() -> Iterator[str]:
    """This module's own database (overrides the package's shared one)."""
    yield fresh_database(DATABASE)
    drop_database(DATABASE)


def host(sub: str) -> str:
    """The base URL of a tenant's host."""
    return f"http://{sub}.{BASE_DOMAIN}"


class Tenant:
    """A signed-in owner of one tenant, calling on the tenant's own host."""

    def __init__(self, app: Flask, sub: str, owner: str) -> None:
        self.client, self.sub = app.test_client(), sub
        login = self.client.post("/api/v3/auth/token", base_url=host(sub),
                                 json={"username": owner, "password": PASSWORD, "tenant": sub})
        assert login.status_code == 200, login.get_json()
        self.headers = {"Authorization": f"Bearer {login.get_json()['access_token']}"}

    def call(self, method: str, path: str, **kwargs):
        """One request on the tenant's host with its token."""
        return self.client.open(path, method=method, base_url=host(self.sub),
                                headers=self.headers, **kwargs)


@pytest.fixture
def world(cloud_app: Flask, make_tenant) -> dict:
    """acme with an asset and a QR content (with barcode), globex with an asset of its own."""
    ids = {"acme": make_tenant("acme", "alice", PASSWORD),
           "globex": make_tenant("globex", "gina", PASSWORD)}
    acme, globex = Tenant(cloud_app, "acme", "alice"), Tenant(cloud_app, "globex", "gina")
    asset = acme.call("POST", "/api/v3/assets", json=PAGE).get_json()["asset_id"]
    theirs = globex.call("POST", "/api/v3/assets", json={**PAGE, "name": "Globex"}
                         ).get_json()["asset_id"]
    made = acme.call("POST", QR, json={"asset_id": asset, "include_barcode": True})
    assert made.status_code == 201, made.get_json()
    return {"ids": ids, "acme": acme, "globex": globex, "asset": asset, "theirs": theirs,
            "qr": made.get_json(), "app": cloud_app}


def test_codes_lead_to_the_tenants_own_subdomain_and_the_picture_says_so(world):
    qr = world["qr"]
    png = world["acme"].call("GET", qr["qr_png_url"])

    assert qr["landing_url"] == f"http://acme.{BASE_DOMAIN}/q/{qr['qr_code']}"
    image = Image.open(io.BytesIO(png.data))
    assert [r.text for r in zxingcpp.read_barcodes(image)] == [qr["landing_url"]]


def test_another_tenant_can_neither_list_read_change_nor_delete_the_codes(world):
    globex, code = world["globex"], world["qr"]["qr_code"]

    listed = globex.call("GET", QR)
    answers = {
        "read": globex.call("GET", f"{QR}/{code}"),
        "change": globex.call("PATCH", f"{QR}/{code}", json={"title": "taken"}),
        "delete": globex.call("DELETE", f"{QR}/{code}"),
        "picture": globex.call("GET", f"{QR}/{code}/qr.png"),
        "barcode": globex.call("GET", f"{QR}/{code}/barcode.svg"),
        "make on acme's asset": globex.call("POST", QR, json={"asset_id": world["asset"]}),
    }

    assert listed.status_code == 200 and listed.get_json()["items"] == []
    assert {name: r.status_code for name, r in answers.items()} == dict.fromkeys(answers, 404)
    assert all(code not in r.get_data(as_text=True) for r in answers.values())
    still = world["acme"].call("GET", f"{QR}/{code}").get_json()
    assert (still["title"], still["is_active"]) == ("Acme menu", True)
    assert [i["qr_code"] for i in world["acme"].call("GET", QR).get_json()["items"]] == [code]


def test_a_token_of_one_tenant_on_anothers_host_is_refused(world):
    response = world["globex"].client.get(QR, base_url=host("acme"),
                                          headers=world["globex"].headers)

    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "tenant_mismatch"


def test_row_level_security_shows_and_takes_only_the_tenants_codes(world, cloud_url):
    database = world["app"].extensions["anthias"].database
    acme, globex = world["ids"]["acme"], world["ids"]["globex"]
    security = query(cloud_url, "SELECT relrowsecurity, relforcerowsecurity FROM pg_class "
                                "WHERE relname = 'qr_contents'")

    with as_app(database, globex):
        seen_by_globex = sql(database, "SELECT qr_code FROM qr_contents")
        changed = sql(database, "UPDATE qr_contents SET title = 'x' RETURNING qr_id")
        models = list(QRContent.select())
    with as_app(database, None):
        seen_by_nobody = sql(database, "SELECT count(*) FROM qr_contents")
    with as_app(database, acme):
        seen_by_acme = sql(database, "SELECT qr_code FROM qr_contents")

    assert security == [(True, True)]
    assert (seen_by_globex, changed, models) == ([], [], [])
    assert seen_by_nobody == [(0,)]
    assert seen_by_acme == [(world["qr"]["qr_code"],)]


def test_a_row_for_another_tenant_cannot_be_written(world):
    from peewee import PeeweeException

    database = world["app"].extensions["anthias"].database
    with pytest.raises(PeeweeException, match="row-level security"), \
            as_app(database, world["ids"]["globex"]):
        sql(database, "INSERT INTO qr_contents (qr_id, tenant_id, asset_id, qr_code, "
                      "created_at, updated_at) VALUES ('x', %s, %s, 'QR0000000000000001', "
                      "now(), now())", (world["ids"]["acme"], world["asset"]))


def test_the_public_lookup_names_the_owner_of_a_code_barcode_or_share_code_only(world):
    database = world["app"].extensions["anthias"].database
    qr, acme = world["qr"], world["ids"]["acme"]
    shared = world["globex"].call("PATCH", f"/api/v3/assets/{world['theirs']}",
                                  json={"is_shared": True}).get_json()["share_code"]

    with as_app(database, None):  # as the landing page runs: before any tenant is known
        answers = [sql(database, "SELECT anthias_public_code_tenant(%s)", (code,))[0][0]
                   for code in (qr["qr_code"], qr["barcode"], shared, "QR0000000000000000",
                                "")]
        rows_visible = sql(database, "SELECT count(*) FROM qr_contents")

    assert answers == [acme, acme, world["ids"]["globex"], None, None]
    assert rows_visible == [(0,)]  # the function reveals the owner, never the rows


def test_sharing_an_asset_in_the_cloud_makes_its_code_in_the_same_tenant(world):
    globex = world["globex"]

    globex.call("PATCH", f"/api/v3/assets/{world['theirs']}", json={"is_shared": True})
    listed = globex.call("GET", QR).get_json()["items"]

    assert [(i["asset_id"], i["title"], i["is_active"]) for i in listed] == [
        (world["theirs"], "Globex", True)]
    assert listed[0]["landing_url"].startswith(f"http://globex.{BASE_DOMAIN}/q/QR")
    assert len(world["acme"].call("GET", QR).get_json()["items"]) == 1
