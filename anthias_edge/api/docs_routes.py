"""``/api/schema/`` (generated OpenAPI document) and ``/api/docs/`` (Redoc),
docs/legacy-api.md §3.0."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, render_template, url_for

from anthias_edge.api.schema import CONTENT_TYPE, TITLE, schema_yaml
from anthias_edge.auth.guard import basic_auth_challenge
from anthias_edge.runtime import current_runtime

bp = Blueprint("api_docs", __name__)

REDOC_SCRIPT = "vendor/redoc/redoc.standalone.js"


@bp.route("/api/schema/", methods=["GET"])
def schema() -> Response:
    """The OpenAPI 3.0.3 YAML of ``/api/v2``; open to all, as Anthias's was
    (docs/legacy-api.md §6.1)."""
    return Response(schema_yaml(current_app), content_type=CONTENT_TYPE)


@bp.route("/api/docs/", methods=["GET"])
def docs() -> Any:
    """Redoc rendering ``/api/schema/``, behind the API's auth, from the bundled copy."""
    challenge = basic_auth_challenge(current_runtime().settings)
    if challenge is not None:
        return challenge
    return render_template(
        "redoc.html",
        title=TITLE,
        schema_url=url_for("api_docs.schema"),
        redoc_url=url_for("unversioned.static_file", filename=REDOC_SCRIPT),
    )
