"""The public landing page /q/<code> on a device, through the app (SQLite, or PostgreSQL)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask

from anthias_edge.models import Asset
from anthias_edge.timeutil import utcnow
from tests.web.landing_data import PNG, add_asset, add_code, scans


def fetch(client, path: str, **kwargs):
    """A GET whose response is read and closed (a file response holds its file open)."""
    response = client.get(path, **kwargs)
    response.get_data()
    response.close()
    return response


def test_a_scanned_code_shows_its_title_description_and_picture_and_counts_the_visit(
        app: Flask, client) -> None:
    asset = add_asset(app, name="menu-2026.png")
    code = add_code(app, asset, title="Today's lunch", description="Soup & bread")

    response = client.get(f"/q/{code.qr_code}")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "<h1>Today&#39;s lunch</h1>" in page
    assert "Soup &amp; bread" in page
    assert f'<img src="/q/{code.qr_code}/media"' in page
    # Nothing else of the tenant: not the asset's name, its file, or any id.
    for private in ("menu-2026", asset.uri, asset.asset_id, asset.tenant):
        assert private not in page
    count, last = scans(app, code.qr_code)
    assert count == 1
    assert last is not None and abs((utcnow() - last).total_seconds()) < 60


def test_every_get_counts_once(app: Flask, client) -> None:
    code = add_code(app, add_asset(app))

    statuses = [client.get(f"/q/{code.qr_code}").status_code for _ in range(5)]

    assert statuses == [200] * 5
    assert scans(app, code.qr_code)[0] == 5


@pytest.mark.parametrize("headers", [
    {"Purpose": "prefetch"},
    {"Sec-Purpose": "prefetch"},
    {"Sec-Purpose": "prefetch;prerender"},
    {"Sec-Purpose": "prefetch;anonymous-client-ip"},
    {"X-Purpose": "preview"},
    {"X-Moz": "prefetch"},
])
def test_a_prefetch_gets_the_page_but_is_not_counted(app: Flask, client, headers) -> None:
    code = add_code(app, add_asset(app))

    response = client.get(f"/q/{code.qr_code}", headers=headers)

    assert response.status_code == 200
    assert "Today&#39;s lunch" in response.get_data(as_text=True)
    assert scans(app, code.qr_code) == (0, None)


def test_head_answers_like_get_without_a_body_and_is_not_counted(app: Flask, client) -> None:
    code = add_code(app, add_asset(app))

    head = client.head(f"/q/{code.qr_code}")
    get = client.get(f"/q/{code.qr_code}")

    assert head.status_code == 200
    assert head.data == b""
    assert head.headers["Content-Length"] == get.headers["Content-Length"]
    assert head.headers["Content-Type"] == get.headers["Content-Type"]
    assert scans(app, code.qr_code)[0] == 1  # the GET only


def test_a_video_plays_with_controls_and_seeks_by_range(app: Flask, client,
                                                         video_file: Path) -> None:
    code = add_code(app, add_asset(app, mimetype="video", file=video_file))
    data = video_file.read_bytes()
    media = f"/q/{code.qr_code}/media"

    page = client.get(f"/q/{code.qr_code}").get_data(as_text=True)
    whole = fetch(client, media)
    middle = fetch(client, media, headers={"Range": "bytes=100-199"})
    tail = fetch(client, media, headers={"Range": "bytes=-10"})
    beyond = fetch(client, media, headers={"Range": f"bytes={len(data) + 10}-"})

    assert f'<video src="{media}" controls playsinline' in page
    assert whole.status_code == 200
    assert whole.data == data
    assert whole.headers["Content-Type"] == "video/mp4"
    assert whole.headers["Accept-Ranges"] == "bytes"
    assert middle.status_code == 206
    assert middle.headers["Content-Range"] == f"bytes 100-199/{len(data)}"
    assert middle.data == data[100:200]
    assert tail.status_code == 206
    assert tail.data == data[-10:]
    assert beyond.status_code == 416
    assert beyond.headers["Content-Range"] == f"bytes */{len(data)}"
    # Fetching the file is not a visit: only the page counts.
    assert scans(app, code.qr_code)[0] == 1


def test_media_carries_cache_headers_and_answers_304_to_its_etag(app: Flask, client) -> None:
    code = add_code(app, add_asset(app))
    media = f"/q/{code.qr_code}/media"

    first = fetch(client, media)
    again = fetch(client, media, headers={"If-None-Match": first.headers["ETag"]})

    assert first.status_code == 200
    assert first.data == PNG
    assert first.headers["Content-Type"] == "image/png"
    assert "public" in first.headers["Cache-Control"]
    assert "max-age=3600" in first.headers["Cache-Control"]
    assert "Content-Disposition" not in first.headers
    assert again.status_code == 304


def test_media_of_a_code_that_expires_soon_is_cached_no_longer_than_the_code_lives(
        app: Flask, client) -> None:
    code = add_code(app, add_asset(app), expires_at=utcnow() + dt.timedelta(seconds=90))

    response = fetch(client, f"/q/{code.qr_code}/media")

    max_age = int(re.search(r"max-age=(\d+)", response.headers["Cache-Control"])[1])
    assert response.status_code == 200
    assert 0 < max_age <= 90


def test_a_web_page_is_a_link_and_redirects_when_its_asset_asks(app: Flask, client) -> None:
    link = add_code(app, add_asset(app, uri="https://example.com/menu?day=1",
                                   mimetype="webpage"))
    jump = add_code(app, add_asset(app, uri="https://example.com/event", mimetype="webpage",
                                   metadata={"landing_redirect": True}))

    page = client.get(f"/q/{link.qr_code}")
    redirect = client.get(f"/q/{jump.qr_code}")

    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'href="https://example.com/menu?day=1"' in body
    assert "Open example.com" in body
    assert redirect.status_code == 302
    assert redirect.headers["Location"] == "https://example.com/event"
    assert redirect.headers["Referrer-Policy"] == "no-referrer"
    assert scans(app, link.qr_code)[0] == 1
    assert scans(app, jump.qr_code)[0] == 1


def test_a_stream_is_a_link_for_a_player_app(app: Flask, client) -> None:
    code = add_code(app, add_asset(app, uri="rtsp://camera.example/live",
                                   mimetype="streaming"))

    body = client.get(f"/q/{code.qr_code}").get_data(as_text=True)

    assert 'href="rtsp://camera.example/live"' in body
    assert "Open the live stream" in body


def test_a_remote_picture_is_shown_and_only_its_origin_is_allowed(app: Flask, client) -> None:
    code = add_code(app, add_asset(app, uri="https://images.example/menu.png"))

    response = client.get(f"/q/{code.qr_code}")

    assert '<img src="https://images.example/menu.png"' in response.get_data(as_text=True)
    assert "img-src 'self' data: https://images.example;" in response.headers[
        "Content-Security-Policy"]


@pytest.mark.parametrize("path", [
    "/q/QR0000000000000000", "/q/BC000000000000", "/q/abcdefABCDEF", "/q/nope",
    "/q/..%2F..%2Fetc%2Fpasswd", "/q/QR00000000000000000000", "/q/", "/q/%00",
    "/q/QR0000000000000000/other",
])
def test_unknown_or_malformed_codes_get_a_friendly_404(app: Flask, client, path: str) -> None:
    add_code(app, add_asset(app))

    response = client.get(path)

    assert response.status_code == 404
    assert "<h1>Nothing here</h1>" in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("change", [
    {"is_active": False},
    {"expires_at": dt.datetime(2020, 1, 1)},
])
def test_a_deactivated_or_expired_code_is_410_and_counts_nothing(
        app: Flask, client, change: dict) -> None:
    code = add_code(app, add_asset(app), **change)

    page = client.get(f"/q/{code.qr_code}")
    media = client.get(f"/q/{code.qr_code}/media")

    assert page.status_code == 410
    assert "<h1>No longer available</h1>" in page.get_data(as_text=True)
    assert media.status_code == 410
    assert scans(app, code.qr_code) == (0, None)


def test_a_barcode_and_a_lower_case_code_lead_to_the_same_content(app: Flask, client) -> None:
    code = add_code(app, add_asset(app), barcode="BC0123456789AB")

    by_barcode = client.get("/q/BC0123456789AB")
    typed = client.get(f"/q/{code.qr_code.lower()}")

    assert by_barcode.status_code == 200
    assert typed.status_code == 200
    assert "Today&#39;s lunch" in by_barcode.get_data(as_text=True)
    assert scans(app, code.qr_code)[0] == 2


def test_a_share_code_shows_the_shared_asset_and_counts_on_its_code(app: Flask,
                                                                     client) -> None:
    shared = add_asset(app, name="Poster", is_shared=True, share_code="Ab-_cdEFgh12")
    code = add_code(app, shared, title="Poster of the fair")
    unshared = add_asset(app, name="Draft", is_shared=False, share_code="Zz-_cdEFgh12")

    response = client.get("/q/Ab-_cdEFgh12")

    assert response.status_code == 200
    assert "<h1>Poster of the fair</h1>" in response.get_data(as_text=True)
    assert scans(app, code.qr_code)[0] == 1
    assert client.get(f"/q/{unshared.share_code}").status_code == 404


def test_too_many_pages_from_one_address_get_429_with_retry_after(
        make_app: Callable[..., Flask]) -> None:
    app = make_app(ANTHIAS_QR_RATE_LIMIT="3")
    client = app.test_client()
    code = add_code(app, add_asset(app))
    page = f"/q/{code.qr_code}"

    allowed = [client.get(page).status_code for _ in range(3)]
    refused = client.get(page)
    elsewhere = client.get(page, environ_base={"REMOTE_ADDR": "192.0.2.7"})

    assert allowed == [200, 200, 200]
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert "Please wait a moment" in refused.get_data(as_text=True)
    assert elsewhere.status_code == 200
    assert scans(app, code.qr_code)[0] == 4  # the refused visit was not counted


def test_media_never_comes_from_outside_the_asset_folder(app: Flask, client,
                                                         tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    folder = app.extensions["anthias"].settings.asset_dir
    link = folder / "innocent.png"
    link.symlink_to(secret)
    tricks = [str(secret), str(folder / ".." / ".." / secret.name), str(link),
              f"{folder}/../{secret.parent.name}/secret.txt", "/etc/hostname"]
    codes = [add_code(app, add_asset(app, uri=uri)) for uri in tricks]

    answers = [client.get(f"/q/{code.qr_code}/media") for code in codes]

    assert [answer.status_code for answer in answers] == [404] * len(tricks)
    assert all(b"top secret" not in answer.data for answer in answers)


def test_other_methods_are_refused(app: Flask, client) -> None:
    code = add_code(app, add_asset(app))

    response = client.post(f"/q/{code.qr_code}")

    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD"
    assert scans(app, code.qr_code)[0] == 0


def test_the_page_runs_no_script_and_allows_only_its_own_style(app: Flask, client) -> None:
    code = add_code(app, add_asset(app))

    response = client.get(f"/q/{code.qr_code}")

    policy = response.headers["Content-Security-Policy"]
    style = re.search(r"<style>(.*)</style>", response.get_data(as_text=True), re.S)[1]
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert "default-src 'none'" in policy
    assert "script-src" not in policy  # falls back to default-src 'none'
    assert f"style-src 'sha256-{digest}'" in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    assert "<script" not in response.get_data(as_text=True)


def test_deleting_the_asset_ends_its_landing_page(app: Flask, client) -> None:
    asset = add_asset(app)
    code = add_code(app, asset)
    with app.extensions["anthias"].database.connection_context():
        Asset.delete().where(Asset.asset_id == asset.asset_id).execute()

    assert client.get(f"/q/{code.qr_code}").status_code == 404


def test_a_remote_pictures_origin_enters_the_policy_without_credentials(app: Flask,
                                                                         client) -> None:
    with_port = add_code(app, add_asset(app, uri="https://user:pw@Images.example:8443/a.png"))
    odd = add_code(app, add_asset(app, uri="https://a;script-src *;/b.png"))

    allowed = client.get(f"/q/{with_port.qr_code}").headers["Content-Security-Policy"]
    refused = client.get(f"/q/{odd.qr_code}").headers["Content-Security-Policy"]

    assert "img-src 'self' data: https://images.example:8443;" in allowed
    assert "pw" not in allowed
    assert "img-src 'self' data:;" in refused
    assert "script-src" not in refused


def test_the_page_needs_no_sign_in_when_the_device_has_a_password(
        make_app: Callable[..., Flask]) -> None:
    app = make_app(ANTHIAS_AUTH_BACKEND="auth_basic", ANTHIAS_USER="admin",
                   ANTHIAS_PASSWORD="a long password")
    client = app.test_client()
    code = add_code(app, add_asset(app))

    dashboard = client.get("/api/v2/assets")
    page = fetch(client, f"/q/{code.qr_code}")
    media = fetch(client, f"/q/{code.qr_code}/media")

    assert dashboard.status_code == 401
    assert page.status_code == 200
    assert media.status_code == 200
    assert scans(app, code.qr_code)[0] == 1


def test_a_phone_asking_for_gzip_gets_the_same_page_compressed(app: Flask, client) -> None:
    import gzip

    code = add_code(app, add_asset(app))
    plain = client.get(f"/q/{code.qr_code}", headers={"Accept-Encoding": "identity"})

    packed = [client.get(f"/q/{code.qr_code}", headers={"Accept-Encoding": "gzip, br"})
              for _ in range(2)]

    for response in packed:
        assert response.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(response.data) == plain.data
    assert scans(app, code.qr_code)[0] == 3


def test_a_uri_a_browser_should_not_follow_is_neither_linked_nor_redirected_to(
        app: Flask, client) -> None:
    odd = add_code(app, add_asset(app, uri="javascript:alert(1)", mimetype="webpage",
                                  metadata={"landing_redirect": True}))

    response = client.get(f"/q/{odd.qr_code}")

    assert response.status_code == 200
    assert "javascript:" not in response.get_data(as_text=True)
    assert "can only be seen on the screen" in response.get_data(as_text=True)
