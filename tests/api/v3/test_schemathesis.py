"""schemathesis against /api/v3/openapi.json, in process: no 5xx, every answer as documented."""

from __future__ import annotations

import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from anthias_edge.api.v3 import openapi
from anthias_edge.services import media
from tests.api.v3.conftest import World
from tests.fuzzing import OfflineChecker, fuzz_operation

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
# Examples per operation; about 15 s for all of v3 on a 2-core machine, per database.
EXAMPLES = {GenerationMode.POSITIVE: 40, GenerationMode.NEGATIVE: 25}


@pytest.fixture
def fuzzed(world: World, monkeypatch: pytest.MonkeyPatch) -> World:
    """The world with URL probes and video measuring kept off the network."""
    monkeypatch.setattr(type(world.runtime), "checker", lambda _self: OfflineChecker())
    monkeypatch.setattr(media, "video_duration", lambda _uri: 5)
    world.asset(world.a)
    return world


def test_the_document_is_openapi_3_1_and_covers_every_v3_route(world: World):
    document = world.client.get("/api/v3/openapi.json").get_json()
    rules = {openapi.openapi_path(rule.rule)[0] for rule in world.app.url_map.iter_rules()
             if rule.endpoint.startswith("v3.")}
    assert document["openapi"] == "3.1.0"
    assert set(document["paths"]) == rules
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


@pytest.mark.slow
def test_every_operation_survives_generated_requests(fuzzed: World,
                                                     caplog: pytest.LogCaptureFixture):
    schema = schemathesis.openapi.from_wsgi("/api/v3/openapi.json", fuzzed.app)
    # schemathesis asks for gzip (requests' defaults) but does not decode it when calling WSGI.
    headers = {**fuzzed.auth("owner"), "Accept-Encoding": "identity"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20

    def check(case: schemathesis.Case) -> None:
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS)

    for operation in operations:
        fuzz_operation(operation, EXAMPLES, check)
    crashes = [r.getMessage() for r in caplog.records if r.getMessage().startswith("unhandled")]
    assert crashes == []
