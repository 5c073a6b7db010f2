"""What a v3 asset write costs: a PATCH reads the asset once and writes only what changed.

The statements are the ones the database really ran (peewee's query log), on SQLite and on
PostgreSQL alike; the answer must still be the asset as a fresh read shows it.
"""

from __future__ import annotations

import re

from playhouse.test_utils import count_queries

from tests.api.v3.conftest import World

SET_COLUMN = re.compile(r'"(\w+)" = ')


def _patch(world: World, asset_id: str, body: dict) -> tuple[dict, list[str]]:
    headers = world.auth()
    with count_queries() as counter:
        response = world.client.patch(f"/api/v3/assets/{asset_id}", headers=headers, json=body)
    assert response.status_code == 200, response.get_json()
    detail = world.client.get(f"/api/v3/assets/{asset_id}", headers=headers).get_json()
    assert response.get_json() == detail
    return detail, [record.msg[0] for record in counter.get_queries()]


def _asset_reads(statements: list[str]) -> list[str]:
    return [sql for sql in statements if sql.startswith("SELECT") and 'FROM "assets"' in sql]


def _updated_columns(statements: list[str]) -> list[list[str]]:
    updates = [sql for sql in statements if sql.startswith('UPDATE "assets"')]
    return [sorted(SET_COLUMN.findall(sql.split(" SET ", 1)[1].split(" WHERE ", 1)[0]))
            for sql in updates]


def test_a_patch_reads_the_asset_once_and_writes_the_columns_sent(world: World):
    asset_id = world.asset(world.a, name="before", duration=10)
    world.auth()  # log in before counting

    shown, statements = _patch(world, asset_id, {"name": "after", "duration": 10})

    assert shown["name"] == "after" and shown["duration"] == 10
    assert len(_asset_reads(statements)) == 1
    # duration too, though unchanged: the row read may predate another client's write, and a
    # value skipped as "unchanged" would be a lost update (tests/services/test_assets.py).
    assert _updated_columns(statements) == [["duration", "name", "updated_at"]]


def test_a_patch_that_shares_writes_the_code_in_the_same_update(world: World):
    asset_id = world.asset(world.a, name="poster")
    world.auth()

    shown, statements = _patch(world, asset_id, {"is_shared": True, "tags": ["lobby"]})

    assert shown["is_shared"] is True and len(shown["share_code"]) == 12
    assert shown["tags"] == ["lobby"]
    assert len(_asset_reads(statements)) == 1
    assert _updated_columns(statements) == [["is_shared", "share_code", "tags", "updated_at"]]

    unshared, statements = _patch(world, asset_id, {"is_shared": False, "tags": ["lobby"]})

    assert unshared["is_shared"] is False and unshared["share_code"] is None
    assert _updated_columns(statements) == [["is_shared", "share_code", "tags", "updated_at"]]


def test_each_write_is_audited_once_as_the_caller(world: World):
    headers = world.auth()
    created = world.client.post("/api/v3/assets", headers=headers, json={
        "name": "menu", "uri": "https://example.com/menu", "mimetype": "webpage",
        "skip_asset_check": True, "is_shared": True}).get_json()
    asset_id = created["asset_id"]
    assert created["is_shared"] is True and created["share_code"]
    world.client.patch(f"/api/v3/assets/{asset_id}", headers=headers, json={"name": "menu 2"})
    assert world.client.delete(f"/api/v3/assets/{asset_id}", headers=headers).status_code == 204

    entries = world.client.get("/api/v3/audit-log", headers=headers).get_json()["items"]
    mine = [(entry["action"], entry["summary"]) for entry in entries
            if entry["object_id"] == asset_id]
    assert sorted(mine) == [("asset.create", "menu"), ("asset.delete", "menu 2"),
                            ("asset.update", "menu 2: name")]
