"""schemathesis against ``/api/schema/`` (the v2 contract), in process, on SQLite and PostgreSQL.

Anthias answers 500 ``{"error": ...}`` for an unknown asset, a wrong method or a bad URL
(docs/legacy-api.md §1.4), and the schema documents it, so a 500 alone is no crash here: a crash
is a 500 the error handler had to invent (``"Internal error."``, logged as an unhandled
error). Every answer must also match the schema: status, content type and body.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import schemathesis
from flask import Flask
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from anthias_edge.services import media
from tests.fuzzing import OfflineChecker, fuzz_operation
from tests.helpers import v2_asset

CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance]
# A fixed budget, the same examples on every run (derandomize): the whole fuzz of v2 stays
# within a minute on a 2-core machine, per database.
EXAMPLES = {GenerationMode.POSITIVE: 50, GenerationMode.NEGATIVE: 30}
# Each creates a whole archive of HOME or replaces the database: a few examples say enough.
SLOW_PATHS = ("/api/v2/backup", "/api/v2/recover")


@pytest.fixture
def fuzzed(make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch) -> Flask:
    """A device with one asset, its URL probes and video measuring kept off the network."""
    app = make_app()
    monkeypatch.setattr(type(app.extensions["anthias"]), "checker",
                        lambda _self: OfflineChecker())
    monkeypatch.setattr(media, "video_duration", lambda _uri: 5)
    response = app.test_client().post("/api/v2/assets", json=v2_asset())
    assert response.status_code == 201
    return app


def _no_invented_error(response, case: schemathesis.Case) -> None:
    """A 5xx must be one of Anthias's own answers, never the handler's generic one."""
    if response.status_code < 500:
        return
    body = response.json()
    assert body != {"error": "Internal error."}, (
        f"{case.method} {case.formatted_path} crashed: {case.as_curl_command()}")


@pytest.mark.slow
def test_every_v2_operation_survives_generated_requests(
        fuzzed: Flask, caplog: pytest.LogCaptureFixture) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/schema/", fuzzed)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20

    def check(case: schemathesis.Case) -> None:
        # schemathesis asks for gzip (requests' defaults) but does not decode it over WSGI.
        response = case.call(headers={"Accept-Encoding": "identity"})
        _no_invented_error(response, case)
        case.validate_response(response, checks=CHECKS)

    for operation in operations:
        examples = (dict.fromkeys(EXAMPLES, 2) if operation.path in SLOW_PATHS else EXAMPLES)
        fuzz_operation(operation, examples, check)
    crashes = [r.getMessage() for r in caplog.records if r.getMessage().startswith("unhandled")]
    assert crashes == []
