"""The cached asset list served before Flask is byte-identical to Flask's answer."""

from __future__ import annotations

import pytest

from anthias_edge.api.legacy.list_fast_path import LIST_PATHS, ListFastPath
from anthias_edge.db import is_sqlite
from tests.helpers import basic, v2_asset

SHA256_OF_SECRET = "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b"


def answer(app, path, **headers):
    """(status, headers, body, served by the fast path?) for one GET."""
    fast = app.wsgi_app.app  # inside the gzip middleware (anthias_edge/compression.py)
    assert isinstance(fast, ListFastPath)
    calls = []
    inner = fast._app

    def spy(environ, start_response):
        calls.append(environ["PATH_INFO"])
        return inner(environ, start_response)

    fast._app = spy
    try:
        response = app.test_client().get(path, headers=headers)
    finally:
        fast._app = inner
    return response.status_code, dict(response.headers), response.data, not calls


# The render cache needs SQLite's cheap change signal; on PostgreSQL every poll goes to Flask.
@pytest.mark.sqlite_only
@pytest.mark.parametrize("path", sorted(LIST_PATHS))
def test_the_second_poll_is_served_from_the_cache_with_the_same_bytes(client, app, path):
    client.post("/api/v2/assets", json=v2_asset(name="one"))
    first = answer(app, path)
    second = answer(app, path)
    assert first[3] is False and second[3] is True  # Flask built it, then the cache served it
    assert second[:3] == first[:3]


def test_without_a_change_signal_every_poll_is_answered_by_flask(client, app):
    """PostgreSQL (the cloud) has no cheap change signal, so nothing is served from memory."""
    client.post("/api/v2/assets", json=v2_asset(name="one"))
    first, second = answer(app, "/api/v2/assets"), answer(app, "/api/v2/assets")
    assert second[:3] == first[:3]
    assert second[3] is is_sqlite(app.extensions["anthias"].database)


def test_a_write_sends_the_next_poll_back_through_flask(client, app):
    client.post("/api/v2/assets", json=v2_asset(name="one"))
    answer(app, "/api/v2/assets")
    client.post("/api/v2/assets", json=v2_asset(name="two"))
    status, _headers, body, fast = answer(app, "/api/v2/assets")
    assert (status, fast) == (200, False)
    assert b'"two"' in body


def test_html_queries_conditionals_and_head_always_go_through_flask(client, app):
    client.post("/api/v2/assets", json=v2_asset(name="one"))
    _, headers, _, _ = answer(app, "/api/v2/assets")
    assert answer(app, "/api/v2/assets", Accept="text/html")[3] is False
    assert answer(app, "/api/v2/assets?format=json")[3] is False
    not_modified = answer(app, "/api/v2/assets", **{"If-None-Match": headers["ETag"]})
    assert not_modified[0] == 304 and not_modified[3] is False


@pytest.mark.sqlite_only
def test_with_authentication_on_only_good_credentials_are_served_fast(make_app):
    app = make_app(ANTHIAS_AUTH_BACKEND="auth_basic", ANTHIAS_USER="admin",
                   ANTHIAS_PASSWORD=SHA256_OF_SECRET)
    good = basic("admin", "secret")
    app.test_client().post("/api/v2/assets", json=v2_asset(name="one"), headers=good)
    through_flask = answer(app, "/api/v2/assets", **good)
    cached = answer(app, "/api/v2/assets", **good)
    assert (through_flask[3], cached[3]) == (False, True)
    assert cached[:3] == through_flask[:3] and cached[0] == 200
    refused = answer(app, "/api/v2/assets", **basic("admin", "wrong"))
    assert refused[0] == 401 and refused[3] is False
    assert refused[2] == b"Access denied"
    anonymous = answer(app, "/api/v2/assets")
    assert anonymous[0] == 401 and anonymous[3] is False
