"""Lock the legacy error shape clients parse (STYLE.md "Errors", docs/legacy-api.md §1.4, Q0).

Failures are 500 ``{"error": "<text>"}``; validation errors are 400 ``{field: [messages]}``;
URLs that match no route are Django's HTML 404. All JSON is compact with
``Content-Type: application/json``.
"""

from __future__ import annotations

import json

import pytest
from flask.testing import FlaskClient

from tests.helpers import v1_model

UNKNOWN = "/api/v1/assets/0123456789abcdef0123456789abcdef"


def assert_error_shape(response, status: int) -> dict:
    """The body is one compact JSON object and the status is ``status``."""
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/json"
    text = response.get_data(as_text=True)
    assert text == json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=False)
    return json.loads(text)


@pytest.mark.parametrize(("method", "path", "kwargs", "message"), [
    ("GET", UNKNOWN, {}, "Asset matching query does not exist."),  # domain error
    ("PATCH", UNKNOWN, {}, 'Method "PATCH" not allowed.'),  # routing 405
    ("POST", "/api/v1/assets", {"data": {"model": "{bad"}},  # malformed request
     "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
    ("POST", "/api/v1/assets", {"data": "x", "content_type": "text/plain"},  # unparsable type
     'Unsupported media type "text/plain" in request.'),
])
def test_every_failure_is_a_500_with_only_an_error_string(
        client: FlaskClient, method: str, path: str, kwargs: dict, message: str) -> None:
    body = assert_error_shape(client.open(path, method=method, **kwargs), 500)
    assert body == {"error": message}


def test_a_validation_error_is_a_400_mapping_fields_to_message_lists(client: FlaskClient) -> None:
    body = assert_error_shape(
        client.post("/api/v1/assets", data=v1_model(is_enabled=2, name="")), 400)
    assert body == {"name": ["This field may not be blank."],
                    "is_enabled": ["Ensure this value is less than or equal to 1."]}


def test_an_unexpected_failure_is_a_500_that_tells_nothing_of_the_exception(
        client: FlaskClient) -> None:
    # Anthias answered the exception's text here; it named server paths and SQL errors.
    static_dir = client.application.extensions["anthias"].settings.static_dir
    static_dir.parent.mkdir(parents=True, exist_ok=True)
    static_dir.write_text("a file where the backups folder should be")
    body = assert_error_shape(client.post("/api/v1/backup"), 500)
    assert body == {"error": "Internal error."}


@pytest.mark.parametrize("path", ["/api/v1/assets/", "/api/v1/nothing", "/api/v1/assets/x/y/z"])
def test_an_unmatched_url_is_the_html_not_found_page(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("text/html")
    assert "<title>Not Found</title>" in response.get_data(as_text=True)
