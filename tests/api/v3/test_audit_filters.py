"""The audit log filters by actor, action and time, and pages within the filters."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from anthias_edge.models import AuditLog
from tests.api.v3.conftest import World


def _log(world: World, **query: object) -> tuple[int, dict]:
    response = world.client.get(f"/api/v3/audit-log?{urlencode(query)}", headers=world.auth())
    return response.status_code, response.get_json()


def _entry(world: World, actor: str, action: str, at: dt.datetime, tenant: str = "") -> None:
    with world.db():
        AuditLog.create(tenant=tenant or world.a, actor=actor, action=action, at=at)


def test_the_log_filters_by_actor_and_action(world: World):
    when = dt.datetime(2026, 3, 1, 12, 0)
    _entry(world, "u1", "widget.create", when)
    _entry(world, "u1", "widget.remove", when)
    _entry(world, "u2", "widget.create", when)
    _entry(world, "u1", "widget.create", when, tenant=world.b)

    _, by_actor = _log(world, actor="u1")
    _, by_action = _log(world, action="widget.create")
    _, both = _log(world, actor="u1", action="widget.create")

    assert [(i["actor"], i["action"]) for i in by_actor["items"]] == [
        ("u1", "widget.remove"), ("u1", "widget.create")]
    assert {i["actor"] for i in by_action["items"]} == {"u1", "u2"}
    assert [(i["actor"], i["action"]) for i in both["items"]] == [("u1", "widget.create")]


def test_the_log_filters_by_time_since_inclusive_until_exclusive(world: World):
    for day in (1, 2, 3):
        _entry(world, "u1", "asset.update", dt.datetime(2026, 3, day, 0, 0))
    _, body = _log(world, action="asset.update", since="2026-03-02T00:00:00Z",
                   until="2026-03-03T00:00:00Z")
    _, offset = _log(world, action="asset.update", since="2026-03-02T01:00:00+01:00")
    assert [i["at"] for i in body["items"]] == ["2026-03-02T00:00:00Z"]
    assert [i["at"] for i in offset["items"]] == ["2026-03-03T00:00:00Z",
                                                  "2026-03-02T00:00:00Z"]


def test_a_filtered_log_pages_with_its_cursor(world: World):
    for minute in range(5):
        _entry(world, "u9", "asset.delete", dt.datetime(2026, 3, 1, 0, minute))
        _entry(world, "u8", "asset.delete", dt.datetime(2026, 3, 1, 0, minute))
    _, first = _log(world, actor="u9", limit=3)
    _, second = _log(world, actor="u9", limit=3, cursor=first["next_cursor"])
    seen = first["items"] + second["items"]
    assert len(seen) == 5 and {i["actor"] for i in seen} == {"u9"}
    assert second["next_cursor"] is None


def test_bad_filters_are_field_errors(world: World):
    status, body = _log(world, since="yesterday", action="DROP TABLE",
                        until="2026-01-01T00:00:00Z")
    reversed_status, reversed_body = _log(world, since="2026-02-01T00:00:00Z",
                                          until="2026-01-01T00:00:00Z")
    assert status == 400
    assert set(body["error"]["details"]) == {"since", "action"}
    assert reversed_status == 400 and "until" in reversed_body["error"]["details"]


def test_without_filters_the_log_answers_as_before(world: World):
    _entry(world, "u1", "widget.create", dt.datetime(2026, 3, 1))
    status, body = _log(world)
    assert status == 200
    assert set(body) == {"items", "next_cursor"}
    assert body["items"][0]["action"] in {"user.create", "auth.login"}
