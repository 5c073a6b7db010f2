"""Real Anthias data (tests/fixtures/anthias-real): opened in place, upgraded and restored.

Every expectation comes from what the real Anthias server wrote and answered; only the
file paths differ, because Anthias ran with HOME=/data (docs/legacy-api.md §3.19).
"""

from __future__ import annotations

import base64
import json
import sqlite3
import tarfile
from pathlib import Path

import pytest

from tests.conftest import REAL

ANTHIAS_KEYS = ["asset_id", "name", "uri", "start_date", "end_date", "duration", "mimetype",
                "is_enabled", "nocache", "play_order", "skip_asset_check", "is_active",
                "is_processing"]
EXTENSION_DEFAULTS = {
    "play_days": [1, 2, 3, 4, 5, 6, 7], "play_time_from": None, "play_time_to": None,
    "skip_ssl_verify": False, "refresh_interval_s": 0, "custom_headers": {},
    "is_reachable": True, "last_reachability_check": None, "metadata": {}}
PNG_ID = "a70b59bb54724e22ad5f141837bb6154"


def expected_assets() -> list[dict]:
    return json.loads((REAL / "expected-assets-v2.json").read_text(encoding="utf-8"))


def utc_app(make_app, tmp_path: Path, **env: str):
    app = make_app(**env)
    zone = tmp_path / "timezone"
    zone.write_text("UTC\n")
    app.extensions["anthias"].zone_file = str(zone)
    return app


def relocated(asset: dict, home: Path) -> dict:
    """Anthias's asset with a file uri moved from /data to this HOME (docs/legacy-api.md §3.19)."""
    uri = asset["uri"]
    if uri.startswith("/data/screenly_assets/"):
        return {**asset, "uri": str(home / "screenly_assets" / Path(uri).name)}
    return asset


def assert_matches_anthias(listed: list[dict], home: Path) -> None:
    expected = expected_assets()
    assert [a["asset_id"] for a in listed] == [a["asset_id"] for a in expected]
    for got, want in zip(listed, expected, strict=True):
        assert list(got)[:13] == ANTHIAS_KEYS
        assert {k: got[k] for k in ANTHIAS_KEYS} == relocated(want, home)
        assert {k: got[k] for k in list(got)[13:]} == EXTENSION_DEFAULTS
        if got["uri"].startswith("/"):
            assert Path(got["uri"]).is_file()


@pytest.mark.sqlite_only
def test_an_anthias_home_opened_in_place_lists_exactly_what_anthias_answered(
        real_home, make_app, tmp_path):
    client = utc_app(make_app, tmp_path).test_client()
    response = client.get("/api/v2/assets")
    assert response.status_code == 200
    assert_matches_anthias(response.get_json(), real_home)


def test_the_expected_file_keeps_anthias_key_order():
    # Guards the comparison above: the fixture itself is in Anthias's order.
    assert all(list(asset) == ANTHIAS_KEYS for asset in expected_assets())


@pytest.mark.sqlite_only
def test_the_real_png_content_is_its_base64(real_home, make_app, tmp_path):
    client = utc_app(make_app, tmp_path).test_client()
    response = client.get(f"/api/v2/assets/{PNG_ID}/content")
    assert response.status_code == 200
    data = (real_home / "screenly_assets" / f"{PNG_ID}.png").read_bytes()
    assert response.get_json() == {"type": "file", "filename": "Storefront.png",
                                   "content": base64.b64encode(data).decode("ascii"),
                                   "mimetype": "image/png"}


@pytest.mark.sqlite_only
def test_opening_the_real_db_leaves_django_tables_and_anthias_columns_readable(
        real_home, make_app, tmp_path):
    database = real_home / ".screenly" / "screenly.db"
    tables = ("django_migrations", "auth_user", "django_session", "django_content_type")

    def django_rows() -> dict[str, list]:
        with sqlite3.connect(database) as conn:
            return {t: conn.execute(f'SELECT * FROM "{t}" ORDER BY 1').fetchall() for t in tables}

    before = django_rows()
    client = utc_app(make_app, tmp_path).test_client()
    assert client.get("/api/v2/assets").status_code == 200
    assert django_rows() == before
    with sqlite3.connect(database) as conn:
        rows = conn.execute("SELECT asset_id, name, duration, is_enabled FROM assets "
                            "ORDER BY rowid").fetchall()
    assert [(r[0], r[1]) for r in rows] == [(a["asset_id"], a["name"])
                                             for a in expected_assets()]


@pytest.mark.sqlite_only
def test_a_flask_era_database_is_rebuilt_and_its_rows_survive(flask_era_home, make_app, tmp_path):
    database = flask_era_home / ".screenly" / "screenly.db"
    with sqlite3.connect(database) as conn:
        conn.executemany(
            "INSERT INTO assets (asset_id, name, uri, md5, start_date, end_date, duration, "
            "mimetype, is_enabled, is_processing, nocache, play_order, skip_asset_check) "
            "VALUES (?, ?, ?, NULL, ?, ?, ?, ?, ?, 0, 0, ?, 0)",
            [("a" * 32, "Old page", "https://old.example.org", "2016-07-19 12:42:00",
              "2099-07-19 12:42:00", "15", "webpage", 1, 0),
             ("b" * 32, "Old video", "https://old.example.org/v.mp4", "2016-07-19 12:42:00",
              "2099-07-19 12:42:00.500000", "N/A", "video", 0, 1)])
    client = utc_app(make_app, tmp_path).test_client()
    listed = client.get("/api/v2/assets").get_json()
    assert [(a["asset_id"], a["name"], a["duration"], a["is_enabled"], a["play_order"])
            for a in listed] == [("a" * 32, "Old page", 15, True, 0),
                                 ("b" * 32, "Old video", None, False, 1)]
    assert listed[0]["start_date"] == "2016-07-19T12:42:00Z"
    assert listed[1]["end_date"] == "2099-07-19T12:42:00.500000Z"
    assert listed[0]["is_active"] is True
    with sqlite3.connect(database) as conn:
        columns = {row[1]: row[2].lower() for row in conn.execute("PRAGMA table_info(assets)")}
        raw = conn.execute("SELECT asset_id, name, uri, start_date, duration, mimetype, "
                           "is_enabled, play_order FROM assets ORDER BY rowid").fetchall()
    assert columns["duration"] == "bigint"
    assert raw[0] == ("a" * 32, "Old page", "https://old.example.org", "2016-07-19 12:42:00",
                      15, "webpage", 1, 0)


@pytest.mark.sqlite_only
def test_the_real_backup_restores_onto_an_empty_device(client, runtime, viewer):
    home = runtime.settings.home
    with (REAL / "anthias-backup.tar.gz").open("rb") as archive:
        response = client.post("/api/v2/recover", content_type="multipart/form-data", data={
            "backup_upload": (archive, "Shop window-2026-11-27T17-08-18.tar.gz")})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == "Recovery successful."
    assert_matches_anthias(client.get("/api/v2/assets").get_json(), home)
    shown = client.get("/api/v2/device_settings").get_json()
    assert (shown["player_name"], shown["default_duration"]) == ("Shop window", 12)
    commands = []
    while (message := viewer.receive(timeout_s=0.5)) is not None:
        commands.append(message.command)
    assert "stop" in commands and "play" in commands
    assert commands.index("stop") < commands.index("play")
    assert not [p for p in home.rglob("*") if p.name.startswith(".anthias-")]


@pytest.fixture
def runtime(app, tmp_path):
    rt = app.extensions["anthias"]
    zone = tmp_path / "timezone"
    zone.write_text("UTC\n")
    rt.zone_file = str(zone)
    return rt


@pytest.mark.sqlite_only
def test_a_device_opened_from_real_data_backs_up_what_anthias_would_restore(
        real_home, make_app, tmp_path):
    client = utc_app(make_app, tmp_path).test_client()
    name = client.post("/api/v2/backup").get_json()
    assert name.startswith("Shop window-")
    archive = real_home / "screenly" / "staticfiles" / name
    with tarfile.open(archive, "r:gz") as tar:
        names = set(tar.getnames())
    assert {".screenly/screenly.db", ".screenly/screenly.conf",
            f"screenly_assets/{PNG_ID}.png"} <= names
