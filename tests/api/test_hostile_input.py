"""Hostile input on every API version: a clear 4xx in that version's shape, nothing stored.

Each family of inputs an attacker's fuzzer sent goes to every route that
reads it: the legacy versions v1 to v2, the device settings, v3 and v3's legacy proxy. The
answer is a 4xx in the version's error shape, whose body names no server path and no database
message, and the stored assets and settings stay as they were. Valid Anthias input is covered
by the tests of each version, which must keep passing unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.api.v3 import conftest as v3_fixtures
from tests.api.v3.conftest import World
from tests.helpers import ACTIVE, v1_model, v2_asset

# v3's two-tenant world, so one test reaches every version on one server.
cheap_passwords = v3_fixtures.cheap_passwords
make_world = v3_fixtures.make_world
world = v3_fixtures.world

# Words of Python, SQLite and PostgreSQL errors: an answer holding one leaks internals.
LEAK_WORDS = ("Traceback", "Errno", "sqlite", "SQLite", "psycopg", "codec", "recursion",
              "LIKE", "GLOB", "out of range for", "File \"", "/tmp/", ".py")
SURROGATE = "\ud800"


def _v3_asset(**fields: Any) -> dict[str, Any]:
    body = {"name": "hostile", "uri": "https://example.com/", "mimetype": "webpage",
            "duration": 10, "skip_asset_check": True, **ACTIVE}
    body.update(fields)
    return body


def _v12_asset(**fields: Any) -> dict[str, Any]:
    return v2_asset(**{"is_enabled": 1, "nocache": 0, "skip_asset_check": 1, **fields})


@dataclass(frozen=True)
class Route:
    """One route that reads asset fields, and how to send it fields as that version expects."""

    version: str  # "legacy", "v3" or "settings"
    method: str
    path: str  # {id} is replaced by an existing asset's id
    body: Callable[[dict[str, Any]], dict[str, Any]]  # overrides -> test-client kwargs

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _model(**fields: Any) -> dict[str, Any]:
    return {"data": v1_model(**fields)}


ASSET_ROUTES = [
    Route("legacy", "POST", "/api/v1/assets", lambda f: _model(**f)),
    Route("legacy", "PUT", "/api/v1/assets/{id}", lambda f: _model(**f)),
    Route("legacy", "POST", "/api/v1.1/assets", lambda f: _model(**f)),
    Route("legacy", "PUT", "/api/v1.1/assets/{id}", lambda f: _model(**f)),
    Route("legacy", "POST", "/api/v1.2/assets", lambda f: {"json": _v12_asset(**f)}),
    Route("legacy", "PUT", "/api/v1.2/assets/{id}", lambda f: {"json": _v12_asset(**f)}),
    Route("legacy", "PATCH", "/api/v1.2/assets/{id}", lambda f: {"json": f}),
    Route("legacy", "POST", "/api/v2/assets", lambda f: {"json": v2_asset(**f)}),
    Route("legacy", "PUT", "/api/v2/assets/{id}", lambda f: {"json": v2_asset(**f)}),
    Route("legacy", "PATCH", "/api/v2/assets/{id}", lambda f: {"json": f}),
    Route("v3", "POST", "/api/v3/assets", lambda f: {"json": _v3_asset(**f)}),
    Route("v3", "PATCH", "/api/v3/assets/{v3id}", lambda f: {"json": f}),
    Route("v3", "POST", "/api/v3/legacy/assets", lambda f: {"json": v2_asset(**f)}),
]
CREATE_ROUTES = [r for r in ASSET_ROUTES if r.method == "POST"]
ORDER_ROUTES = [
    Route("legacy", "POST", "/api/v1/assets/order", lambda f: {"json": f}),
    Route("legacy", "POST", "/api/v2/assets/order", lambda f: {"json": f}),
    Route("v3", "POST", "/api/v3/legacy/assets/order", lambda f: {"json": f}),
]
SETTINGS_ROUTE = Route("settings", "PATCH", "/api/v2/device_settings", lambda f: {"json": f})
PAGES = ("/", "/settings", "/system-info", "/splash-page")


@dataclass
class Device:
    """The server with one legacy asset and one v3 asset, and what it had stored at the start."""

    world: World
    legacy_id: str
    v3_id: str

    @property
    def client(self) -> FlaskClient:
        return self.world.client

    @property
    def app(self) -> Flask:
        return self.world.app

    def stored(self) -> tuple[Any, ...]:
        """Everything an accepted hostile request could change."""
        settings = self.world.runtime.settings
        return (self.client.get("/api/v2/assets").get_json(),
                self.client.get("/api/v3/assets?limit=200", headers=self.world.auth()).get_json(),
                settings.conf_path.read_text(encoding="utf-8"))

    def send(self, route: Route, *, raw: str | None = None, **fields: Any) -> TestResponse:
        """Send ``fields`` (or a ``raw`` JSON text) to ``route`` as its version expects."""
        path = route.path.replace("{id}", self.legacy_id).replace("{v3id}", self.v3_id)
        headers = self.world.auth() if route.version == "v3" else {}
        if raw is not None:
            kwargs: dict[str, Any] = {"data": raw, "content_type": "application/json"}
        else:
            kwargs = route.body(fields)
        return self.client.open(path, method=route.method, headers=headers, **kwargs)


@pytest.fixture
def device(world: World) -> Device:
    """The v3 world's server, with an asset in the device's library and one in tenant alpha."""
    response = world.client.post("/api/v2/assets", json=v2_asset(name="kept"))
    assert response.status_code == 201, response.get_data(as_text=True)
    return Device(world, response.get_json()["asset_id"], world.asset(world.a, name="kept v3"))


def assert_refused(response: TestResponse, route: Route, device: Device) -> dict[str, Any]:
    """A 4xx in the route's version's error shape, without internals; returns the body."""
    text = response.get_data(as_text=True)
    assert 400 <= response.status_code < 500, f"{route}: {response.status_code} {text[:300]}"
    assert response.mimetype == "application/json", f"{route}: {response.mimetype}"
    body = response.get_json()
    if route.version == "v3":
        assert set(body) == {"error"}, body
        assert set(body["error"]) == {"code", "message", "details"}, body
    elif route.version == "settings" and "error" in body:
        assert isinstance(body["error"], str), body
    else:  # DRF's field errors: each field maps to a list of messages
        assert body and all(isinstance(v, list) and all(isinstance(m, str) for m in v)
                            for v in body.values()), body
    for word in (*LEAK_WORDS, str(Path(device.world.runtime.settings.home))):
        assert word not in text, f"{route} leaks {word!r}: {text[:300]}"
    return body


def assert_each_refused(device: Device, routes: list[Route], **send: Any) -> None:
    """Send the same hostile fields to every route; each refuses it and nothing changes."""
    for route in routes:
        before = device.stored()
        assert_refused(device.send(route, **send), route, device)
        assert device.stored() == before, f"{route} changed stored data"


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", [100_000, 5_000, 100])
def test_json_nested_deeply_is_refused_everywhere(device: Device, depth: int) -> None:
    raw = '{"name":' + _nested(depth) + ',"ids":' + _nested(depth) + "}"
    routes = [*ASSET_ROUTES, *ORDER_ROUTES, SETTINGS_ROUTE,
              Route("v3", "POST", "/api/v3/auth/token", lambda f: {"json": f})]
    assert_each_refused(device, routes, raw=raw)
    # The v1 wrapper: the model is a JSON string inside a form field.
    for path in ("/api/v1/assets", "/api/v1.1/assets"):
        route = Route("legacy", "POST", path, lambda f: f)
        before = device.stored()
        assert_refused(device.client.post(path, data={"model": raw}), route, device)
        assert device.stored() == before


@pytest.mark.parametrize("field", ["name", "uri", "mimetype"])
def test_a_lone_surrogate_in_a_text_field_is_refused_everywhere(device: Device, field: str
                                                               ) -> None:
    routes = CREATE_ROUTES if field != "name" else ASSET_ROUTES
    assert_each_refused(device, routes, **{field: "bad " + SURROGATE})


EXTENSION_ROUTES = [r for r in ASSET_ROUTES if "/api/v2/" in r.path or "/api/v3/" in r.path]


@pytest.mark.parametrize("fields", [
    {"custom_headers": {"X-Screen": SURROGATE}},
    {"custom_headers": {SURROGATE: "x"}},
    {"play_time_from": SURROGATE, "play_time_to": "10:00:00"},
    {"play_days": [SURROGATE]},
], ids=["header value", "header name", "play_time", "play_days"])
def test_a_lone_surrogate_in_an_extension_field_is_refused_everywhere(
        device: Device, fields: dict[str, Any]) -> None:
    assert_each_refused(device, EXTENSION_ROUTES, **fields)


@pytest.mark.parametrize("field", ["play_days", "custom_headers"])
def test_deep_json_text_in_a_form_field_is_refused(device: Device, field: str) -> None:
    route = Route("legacy", "PATCH", "/api/v2/assets/{id}", lambda f: {"data": f})
    before = device.stored()
    assert_refused(device.send(route, **{field: _nested(5_000)}), route, device)
    assert device.stored() == before


def test_a_lone_surrogate_in_player_name_is_refused_and_the_pages_keep_working(
        device: Device) -> None:
    assert_each_refused(device, [SETTINGS_ROUTE], player_name="screen " + SURROGATE)
    assert device.client.get("/api/v2/device_settings").status_code == 200
    for page in PAGES:
        assert device.client.get(page).status_code == 200, page


def test_a_player_name_with_invalid_bytes_from_the_environment_does_not_break_the_pages(
        make_world: Callable[..., World]) -> None:
    # os.environ decodes undecodable bytes to lone surrogates (surrogateescape).
    world = make_world(ANTHIAS_PLAYER_NAME=b"screen \xff".decode("utf-8", "surrogateescape"))
    for page in (*PAGES, "/api/v2/device_settings"):
        response = world.client.get(page)
        assert response.status_code == 200, page
        assert "screen \ufffd" in response.get_data(as_text=True), page


@pytest.mark.parametrize("value", [2**63, 2**64 + 1, -(2**63) - 1, 10**30])
@pytest.mark.parametrize("field", ["duration", "play_order"])
def test_integers_beyond_64_bits_are_refused_everywhere(device: Device, field: str, value: int
                                                       ) -> None:
    # v1 and v1.1 creates ignore play_order (the new asset always gets 0), as Anthias did.
    ignored = {"POST /api/v1/assets", "POST /api/v1.1/assets"} if field == "play_order" else set()
    routes = [r for r in ASSET_ROUTES if str(r) not in ignored]
    assert_each_refused(device, routes, **{field: value})


@pytest.mark.parametrize("value", [-1, -10**9, 2**31])
def test_durations_below_zero_or_absurdly_long_are_refused_everywhere(device: Device, value: int
                                                                      ) -> None:
    assert_each_refused(device, ASSET_ROUTES, duration=value)


@pytest.mark.parametrize("value", [-1, 10**30, 2**63])
@pytest.mark.parametrize("field", ["default_duration", "default_streaming_duration"])
def test_default_durations_out_of_range_are_refused(device: Device, field: str, value: int
                                                    ) -> None:
    assert_each_refused(device, [SETTINGS_ROUTE], **{field: value})


CALENDAR_ENDS = [
    ("0001-01-01T00:00:00+14:00", "2099-01-01T00:00:00Z"),
    ("2019-01-01T00:00:00Z", "9999-12-31T23:59:59-14:00"),
    ("0001-01-01T00:00:00+00:01", "9999-12-31T23:59:59.999999-00:01"),
]


@pytest.mark.parametrize(("start", "end"), CALENDAR_ENDS)
def test_dates_past_the_ends_of_the_calendar_are_refused_everywhere(device: Device, start: str,
                                                                    end: str) -> None:
    assert_each_refused(device, ASSET_ROUTES, start_date=start, end_date=end)


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Niue", "America/St_Johns"])
def test_dates_at_the_ends_of_the_calendar_still_list_in_any_zone(device: Device, zone: str,
                                                                  tmp_path: Path) -> None:
    for start, end in (("9999-12-31T23:59:59+14:00", "9999-12-31T23:59:59Z"),
                       ("0001-01-01T00:00:00-14:00", "0001-01-01T00:00:00Z")):
        for route in CREATE_ROUTES:
            response = device.send(route, start_date=start, end_date=end)
            assert response.status_code == 201, (route, response.get_data(as_text=True))
    (tmp_path / "zone").write_text(zone + "\n")
    device.world.runtime.zone_file = str(tmp_path / "zone")
    for path in ("/api/v1/assets", "/api/v1.2/assets", "/api/v2/assets"):
        response = device.client.get(path)
        assert response.status_code == 200, (path, response.get_data(as_text=True)[:300])
        assert len(response.get_json()) >= 6
    response = device.client.get("/api/v3/assets?limit=200", headers=device.world.auth())
    assert response.status_code == 200
    for page in PAGES:
        assert device.client.get(page).status_code == 200, page


@pytest.mark.parametrize("name", ["a" * 50_000, "%_" * 25_000, "\U0001f600" * 20_000])
def test_a_name_of_fifty_thousand_characters_is_refused_everywhere(device: Device, name: str
                                                                   ) -> None:
    assert_each_refused(device, ASSET_ROUTES, name=name)


@pytest.mark.parametrize("ids", [5, ["a"], {"a": 1}, True, 1.5, "a\x00b", SURROGATE])
def test_order_ids_that_are_not_a_string_of_ids_are_refused(device: Device, ids: Any) -> None:
    assert_each_refused(device, ORDER_ROUTES, ids=ids)


@pytest.mark.parametrize("ext", ["x" * 300, "/../../x", ".png/../../../x", "..", ".p\x00g",
                                 ".png\\..\\x", ".a/b"])
def test_a_file_extension_that_is_not_one_is_refused(device: Device, ext: str) -> None:
    folder = device.world.runtime.settings.asset_dir
    folder.mkdir(parents=True, exist_ok=True)
    upload = folder / "upload.tmp"
    upload.write_bytes(b"\x89PNG\r\n\x1a\n")
    legacy_creates = [r for r in CREATE_ROUTES if r.version == "legacy"]
    assert_each_refused(device, legacy_creates, uri=str(upload), mimetype="image", ext=ext,
                        duration=10)
    assert upload.read_bytes() == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in folder.iterdir()) == ["upload.tmp"]
    assert not (folder.parent.parent / "x").exists()


def test_an_unexpected_failure_answers_a_generic_500_and_logs_the_traceback(
        app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    secret = str(app.extensions["anthias"].settings.home / "secret.db")

    def explode() -> Any:
        raise OSError(f"[Errno 13] Permission denied: '{secret}'")

    # A view that fails the way a full disk or a broken file does, on each version's URLs.
    for rule in ("/api/v2/_explode", "/api/v3/_explode", "/_explode"):
        app.add_url_rule(rule, rule, explode)
    client = app.test_client()
    with caplog.at_level("ERROR"):
        legacy = client.get("/api/v2/_explode")
        v3 = client.get("/api/v3/_explode")
        other = client.get("/_explode")
    assert (legacy.status_code, legacy.get_json()) == (500, {"error": "Internal error."})
    assert v3.status_code == 500
    assert v3.get_json()["error"]["code"] == "internal_error"
    assert other.status_code == 500
    for response in (legacy, v3, other):
        assert secret not in response.get_data(as_text=True)
    tracebacks = [r for r in caplog.records if r.exc_info and secret in str(r.exc_info[1])]
    assert len(tracebacks) == 3


def test_a_broken_settings_file_is_reported_without_its_path(device: Device) -> None:
    settings = device.world.runtime.settings
    settings.conf_path.write_text("[viewer]\ndefault_duration = abc\n", encoding="utf-8")
    home = str(settings.home)

    shown = device.client.get("/api/v2/device_settings")
    saved = device.client.patch("/api/v2/device_settings", json={"player_name": "x"})

    assert shown.status_code == 500
    assert saved.status_code == 400
    for response in (shown, saved):
        message = response.get_json()["error"]
        assert "default_duration: 'abc' is not a whole number." in message
        assert home not in message
