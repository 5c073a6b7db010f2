"""gzip for clients that ask for it; everyone else gets the bytes they always got."""

from __future__ import annotations

import gzip
import urllib.request

import pytest
from werkzeug.test import Client

from anthias_edge.api.unversioned import WEB_STATIC
from anthias_edge.compression import GzipMiddleware, accepts_gzip
from tests.helpers import serve_wsgi, v2_asset

LISTS = ["/api/v1/assets", "/api/v1.1/assets", "/api/v1.2/assets", "/api/v2/assets"]
GZIP = {"Accept-Encoding": "gzip, deflate, br"}
SCRIPT = "/static/js/assets.js"


@pytest.fixture
def seeded(client):
    """A device whose asset list is well over a kilobyte in every version."""
    for number in range(12):
        assert client.post("/api/v2/assets", json=v2_asset(name=f"Screen {number}")
                           ).status_code == 201
    return client


def vary(response) -> list[str]:
    return [part.strip() for part in response.headers.get("Vary", "").split(",")]


def test_a_client_asking_for_gzip_gets_the_list_compressed_and_others_the_same_bytes(seeded):
    for path in LISTS:
        plain = seeded.get(path)
        again = seeded.get(path)  # served from the cache, in front of Flask
        packed = seeded.get(path, headers=GZIP)
        packed_again = seeded.get(path, headers=GZIP)

        assert plain.status_code == packed.status_code == 200, path
        assert "Content-Encoding" not in plain.headers
        assert plain.data == again.data and len(plain.data) >= 1024
        assert int(plain.headers["Content-Length"]) == len(plain.data)
        assert packed.headers["Content-Encoding"] == "gzip"
        assert int(packed.headers["Content-Length"]) == len(packed.data) < len(plain.data)
        assert gzip.decompress(packed.data) == plain.data
        assert packed_again.data == packed.data
        assert "Accept-Encoding" in vary(plain) and "Accept-Encoding" in vary(packed)
        assert packed.headers["Content-Type"] == plain.headers["Content-Type"]


def test_the_compressed_list_has_its_own_etag_and_both_variants_revalidate_to_304(seeded):
    plain = seeded.get("/api/v2/assets")
    packed = seeded.get("/api/v2/assets", headers=GZIP)
    tag = plain.headers["ETag"]

    assert packed.headers["ETag"] == tag[:-1] + '-gzip"'
    unchanged_packed = seeded.get("/api/v2/assets",
                                  headers={**GZIP, "If-None-Match": packed.headers["ETag"]})
    unchanged_plain = seeded.get("/api/v2/assets", headers={"If-None-Match": tag})
    assert unchanged_packed.status_code == 304 and unchanged_packed.data == b""
    assert unchanged_packed.headers["ETag"] == packed.headers["ETag"]
    assert unchanged_plain.status_code == 304
    assert unchanged_plain.headers["ETag"] == tag

    seeded.post("/api/v2/assets", json=v2_asset(name="one more"))
    changed = seeded.get("/api/v2/assets",
                         headers={**GZIP, "If-None-Match": packed.headers["ETag"]})
    assert changed.status_code == 200
    assert b"one more" in gzip.decompress(changed.data)
    assert changed.headers["ETag"] != packed.headers["ETag"]


def test_head_answers_as_for_a_client_that_did_not_ask(seeded):
    plain = seeded.get("/api/v2/assets")
    head = seeded.head("/api/v2/assets", headers=GZIP)

    assert head.status_code == 200 and head.data == b""
    assert "Content-Encoding" not in head.headers
    assert head.headers["Content-Length"] == plain.headers["Content-Length"]
    assert "Accept-Encoding" in vary(head)


def test_an_answer_under_a_kilobyte_goes_out_as_it_is(client):
    response = client.get("/api/v2/assets", headers=GZIP)

    assert response.data == b"[]"
    assert "Content-Encoding" not in response.headers


Q_VALUES = [
    ("gzip", True), ("GZIP", True), ("x-gzip", True), ("deflate, gzip;q=0.5", True),
    ("*", True), ("*;q=0.1", True), ("gzip;q=0.001", True),
    ("gzip;q=0", False), ("gzip; q=0.000", False), ("*, gzip;q=0", False), ("*;q=0", False),
    ("identity", False), ("br, deflate", False), ("", False), ("gzip;q=high", False),
]


def test_accept_encoding_q_values_decide(seeded):
    for header, compressed in Q_VALUES:
        response = seeded.get("/api/v1.2/assets", headers={"Accept-Encoding": header})

        assert (response.headers.get("Content-Encoding") == "gzip") is compressed, header
        assert accepts_gzip(header) is compressed, header


def test_web_ui_files_are_compressed_and_keep_their_304(client):
    script = (WEB_STATIC / "js" / "assets.js").read_bytes()
    packed = client.get(SCRIPT, headers=GZIP)
    packed.get_data()
    packed.close()

    assert packed.status_code == 200
    assert packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.data) == script
    assert "Accept-Ranges" not in packed.headers  # ranges are served on the plain file only
    unchanged = client.get(SCRIPT, headers={**GZIP, "If-None-Match": packed.headers["ETag"]})
    unchanged.close()
    assert unchanged.status_code == 304
    assert unchanged.headers["ETag"] == packed.headers["ETag"]


def test_range_requests_pictures_and_backups_are_never_compressed(client):
    script = (WEB_STATIC / "js" / "assets.js").read_bytes()
    picture = (WEB_STATIC / "img" / "standby.png").read_bytes()

    part = client.get(SCRIPT, headers={**GZIP, "Range": "bytes=100-199"})
    image = client.get("/static/img/standby.png", headers=GZIP)
    name = client.post("/api/v2/backup").get_json()
    backup = client.get(f"/static_with_mime/{name}", headers=GZIP)
    for response in (part, image, backup):
        response.get_data()
        response.close()

    assert part.status_code == 206
    assert part.data == script[100:200]
    assert "Content-Encoding" not in part.headers
    assert image.data == picture and "Content-Encoding" not in image.headers
    assert backup.status_code == 200 and "Content-Encoding" not in backup.headers
    assert backup.headers["Content-Type"] == "application/x-tgz"


def test_over_http_a_browser_gets_gzip_and_a_player_seeking_gets_its_range(app):
    script = (WEB_STATIC / "js" / "assets.js").read_bytes()

    def get(path: str, **headers: str):
        with urllib.request.urlopen(urllib.request.Request(base + path, headers=headers),
                                    timeout=10) as response:
            return response.status, dict(response.headers), response.read()

    with serve_wsgi(app) as base:
        status, headers, body = get(SCRIPT, **GZIP)
        part = get(SCRIPT, Range="bytes=0-99", **GZIP)
        plain = get(SCRIPT)

    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == script
    assert part[0] == 206 and part[2] == script[:100]
    assert plain[2] == script and "Content-Encoding" not in plain[1]


def test_an_app_that_starts_its_answer_when_iterated_is_served_both_ways():
    def generator_app(environ, start_response):  # WSGI allows start_response this late
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2000")])
        yield b"a" * 1000
        yield b"b" * 1000

    client = Client(GzipMiddleware(generator_app))
    packed = client.get("/", headers=GZIP)
    plain = client.get("/")

    assert packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.data) == plain.data == b"a" * 1000 + b"b" * 1000
