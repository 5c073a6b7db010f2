"""Which code the player draws over an asset: its qr_overlay, its active QR content, the URL.

A real migrated SQLite file; QR contents made with the service the API uses; the play loop on
the headless renderer, which records the code drawn with each asset.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path

from anthias_edge.models import Asset
from anthias_edge.services.qr_content import QRContentService
from anthias_edge.services.tenants import local_tenant_id
from anthias_edge.settings import Settings
from player.loop import PlayLoop
from player.main import code_link
from player.playlist_source import load_items_from_db
from player.qr_overlay import QrOverlay
from player.renderers.headless import HeadlessRenderer
from player.rotation import PlayItem, Rotation

NOW = dt.datetime.now(dt.UTC).replace(tzinfo=None)
DAY = dt.timedelta(days=1)
BASE = "http://10.0.0.5:8080"


def link(code: str) -> str:
    return f"{BASE}/q/{code}"


def make_asset(asset_id: str, overlay: dict | None = None) -> Asset:
    return Asset.create(asset_id=asset_id, tenant=local_tenant_id(), name=asset_id,
                        uri=f"https://example.com/{asset_id}", mimetype="webpage", duration=10,
                        start_date=NOW - DAY, end_date=NOW + DAY, is_enabled=True,
                        qr_overlay=overlay)


def share(asset_id: str, **values) -> str:
    return QRContentService(local_tenant_id()).create(asset_id, **values).qr_code


def overlays() -> dict[str, QrOverlay | None]:
    return {item.asset_id: item.qr_overlay for item in load_items_from_db(link=link)}


def test_an_asset_with_its_overlay_on_gets_its_active_codes_landing_url(database):
    make_asset("menu", {"enabled": True, "corner": "top-left", "size": 25})
    code = share("menu", expires_at=NOW + DAY)
    [item] = load_items_from_db(link=link)
    assert (item.qr_overlay.url, item.qr_overlay.corner, item.qr_overlay.size_pct) == (
        f"{BASE}/q/{code}", "top-left", 25)
    assert abs(item.qr_overlay.expires_at - (NOW + DAY)) < dt.timedelta(seconds=1)


def test_no_code_is_drawn_without_an_overlay_or_without_a_live_qr_content(database):
    make_asset("off", {"enabled": False, "corner": "top-left", "size": 25})
    share("off")
    make_asset("never")
    share("never")
    make_asset("bare", {"enabled": True})  # no QR content at all
    make_asset("inactive", {"enabled": True})
    QRContentService(local_tenant_id()).update(share("inactive"), {"is_active": False})
    make_asset("expired", {"enabled": True})
    expired = share("expired", expires_at=NOW + DAY)
    database.execute_sql("UPDATE qr_contents SET expires_at = ? WHERE qr_code = ?",
                         ((NOW - DAY).isoformat(sep=" "), expired))
    assert overlays() == dict.fromkeys(["off", "never", "bare", "inactive", "expired"])


def test_the_newest_live_code_of_an_asset_is_the_one_drawn(database):
    make_asset("menu", {"enabled": True})
    older = share("menu")
    newest = share("menu")
    # Both were made within the same second or so: make the first one clearly older.
    database.execute_sql("UPDATE qr_contents SET created_at = ? WHERE qr_code = ?",
                         ((NOW - DAY).isoformat(sep=" "), older))
    assert overlays()["menu"].url == f"{BASE}/q/{newest}"


def test_odd_stored_overlays_fall_back_to_defaults_or_off(database):
    make_asset("odd", {"enabled": True, "corner": "middle", "size": 400})
    make_asset("broken")
    share("odd")
    share("broken")
    database.execute_sql("UPDATE assets SET qr_overlay = '{\"enabled\": tr' "
                         "WHERE asset_id = 'broken'")
    found = overlays()
    assert (found["odd"].corner, found["odd"].size_pct) == ("bottom-right", 40)
    assert found["broken"] is None


def test_without_an_address_for_phones_no_code_is_drawn(database):
    make_asset("menu", {"enabled": True})
    share("menu")
    [item] = load_items_from_db(link=None)
    assert item.qr_overlay is None


def _settings(tmp_path: Path, **values: str) -> Settings:
    return Settings(tmp_path, env_values=values)


def test_codes_lead_to_public_url_else_to_the_lan_address_else_nowhere(tmp_path, monkeypatch):
    public = _settings(tmp_path, public_url="https://signs.example.com/", listen="0.0.0.0:8080")
    assert code_link(public)("QR0123456789ABCDEF") == \
        "https://signs.example.com/q/QR0123456789ABCDEF"
    monkeypatch.setenv("MY_IP", "192.168.7.20")
    lan = _settings(tmp_path, listen="0.0.0.0:8080")
    assert code_link(lan)("QR0123456789ABCDEF") == "http://192.168.7.20:8080/q/QR0123456789ABCDEF"
    assert code_link(_settings(tmp_path, listen="127.0.0.1:8080")) is None


def test_the_loop_stops_drawing_a_code_once_it_expired(tmp_path):
    record = tmp_path / "shown.jsonl"
    base = {"uri": "https://example.com/", "mimetype": "webpage", "duration": 0.1,
            "start_date": NOW - DAY, "end_date": NOW + DAY, "is_enabled": True,
            "skip_asset_check": True}
    items = [PlayItem("live", **base, qr_overlay=QrOverlay(link("QRLIVE"), expires_at=NOW + DAY)),
             PlayItem("gone", **base, qr_overlay=QrOverlay(link("QRGONE"), expires_at=NOW - DAY))]
    loop = PlayLoop(Rotation(lambda: items, dt.UTC), lambda: HeadlessRenderer(record))
    runner = threading.Thread(target=loop.run, daemon=True)
    runner.start()
    try:
        deadline = dt.datetime.now() + dt.timedelta(seconds=20)
        while (not record.exists() or len(record.read_text().splitlines()) < 2) \
                and dt.datetime.now() < deadline:
            threading.Event().wait(0.05)
    finally:
        loop.shutdown()
        runner.join(5)
    shown = [json.loads(line) for line in record.read_text().splitlines()][:2]
    assert [(row["asset_id"], row.get("qr_code")) for row in shown] == [
        ("live", link("QRLIVE")), ("gone", None)]
