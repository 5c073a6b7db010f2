"""``GET /api/v2/play_log``: the proof-of-play list and its 400 field errors."""

from __future__ import annotations

import datetime as dt

from anthias_edge.services import play_log

NOW = dt.datetime(2030, 6, 5, 12, 0)


def _seed(app) -> list[int]:
    with app.extensions["anthias"].database.connection_context():
        first = play_log.record_start("a1", "Red", "browser", NOW)
        play_log.record_end(first, "completed", NOW + dt.timedelta(seconds=10))
        second = play_log.record_start("a2", "Video", "mpv", NOW + dt.timedelta(seconds=10))
    return [first, second]


def test_plays_since_a_time_are_listed_oldest_first(app, client):
    first, second = _seed(app)
    response = client.get("/api/v2/play_log?since=2030-06-05T12:00:00Z")
    assert response.status_code == 200
    assert response.get_json() == [
        {"id": first, "asset_id": "a1", "asset_name": "Red", "started_at": "2030-06-05T12:00:00Z",
         "ended_at": "2030-06-05T12:00:10Z", "renderer": "browser", "outcome": "completed"},
        {"id": second, "asset_id": "a2", "asset_name": "Video",
         "started_at": "2030-06-05T12:00:10Z", "ended_at": None, "renderer": "mpv",
         "outcome": "playing"},
    ]


def test_since_with_an_offset_and_a_limit_narrow_the_list(app, client):
    _seed(app)
    later = client.get("/api/v2/play_log", query_string={"since": "2030-06-05T14:00:05+02:00"})
    assert [p["asset_id"] for p in later.get_json()] == ["a2"]
    limited = client.get("/api/v2/play_log?limit=1")
    assert [p["asset_id"] for p in limited.get_json()] == ["a1"]


def test_a_bad_since_or_limit_is_a_400_with_field_errors(client):
    response = client.get("/api/v2/play_log?since=yesterday&limit=0")
    assert response.status_code == 400
    body = response.get_json()
    assert set(body) == {"since", "limit"}
    assert body["since"][0].startswith("Datetime has wrong format.")
    assert body["limit"] == ["Ensure this value is greater than or equal to 1."]


def test_the_play_log_needs_auth_like_every_v2_route(make_app):
    from anthias_edge.settings import hash_password

    app = make_app(ANTHIAS_AUTH_BACKEND="auth_basic", ANTHIAS_USER="admin",
                   ANTHIAS_PASSWORD=hash_password("secret"))
    assert app.test_client().get("/api/v2/play_log").status_code == 401
