"""The OpenAPI 3.0.3 document of ``/api/v2``, generated from the routes (docs/legacy-api.md §3.0).

Nothing here lists paths. The generator walks ``app.url_map`` for the ``v2.`` endpoints and
reads what each view declares with :func:`openapi`: the field specs it validates (the same
dicts the route modules pass to ``validate``), the extension converters it applies, and
what it answers. A view nobody marked still appears, with its docstring and a 500 error.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Flask

from anthias_edge.api.asset_format import asset_schema, extension_schema
from anthias_edge.api.legacy.fields import (
    BooleanField,
    CharField,
    ChoiceField,
    DateTimeField,
    Field,
    IntegerField,
    RawField,
)
from anthias_edge.api.legacy.http import PARSES, view_name

logger = logging.getLogger(__name__)

OPENAPI_VERSION = "3.0.3"
TITLE = "Anthias API"
API_VERSION = "2.0.0"
ENDPOINT_PREFIX = "v2."
CONTENT_TYPE = "application/vnd.oai.openapi; charset=utf-8"
CACHE_KEY = "anthias_edge.openapi"
ATTRIBUTE = "openapi"
IGNORED_METHODS = {"HEAD", "OPTIONS"}
# Docstrings cite the contract, "(docs/legacy-api.md §3.18)" or "(docs/legacy-api.md §3.4, Q8)";
# readers of the API need not see that.
SECTION_REFERENCE = re.compile(
    r"\s*\((?:(?:docs/)?legacy-api\.md\s*)?§?[\dQ][\w.]*(?:,\s*§?[\dQ][\w.]*)*\)")

ERROR = {"type": "object", "required": ["error"],
         "properties": {"error": {"type": "string"}}}
FIELD_ERRORS = {"type": "object", "description": "Each invalid field with its messages.",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
                "example": {"name": ["This field is required."]}}


@dataclass(frozen=True)
class Body:
    """What a view reads: field specs, extension converters and uploaded files."""

    fields: Mapping[str, Field] = field(default_factory=dict)
    extensions: Mapping[str, Callable[[Any], Any]] = field(default_factory=dict)
    files: tuple[str, ...] = ()
    descriptions: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AssetOf:
    """The asset object a formatter (``asset_format.v2_asset``) returns."""

    formatter: Callable[..., dict[str, Any]]


@dataclass(frozen=True)
class ListOf:
    """A JSON array of ``item``."""

    item: Any


@dataclass(frozen=True)
class Operation:
    """A view's OpenAPI facts, set by :func:`openapi`."""

    request: Body | None = None
    status: int = 200
    returns: Any = None
    description: str = ""
    refuses: bool = False  # may also answer 400 ``{"error": text}`` (device_settings, 3.18)


def openapi(
    *, request: Body | None = None, status: int = 200, returns: Any = None, description: str = "",
    refuses: bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a view with its request body and success answer for the generated schema.

    ``returns`` is None (empty body), ``str`` (a JSON string), a JSON-schema dict,
    an :class:`AssetOf` or a :class:`ListOf`. ``refuses``: besides field errors, a 400
    may carry Anthias's ``{"error": text}``.
    """
    operation = Operation(request=request, status=status, returns=returns,
                          description=description, refuses=refuses)

    def mark(func: Callable[..., Any]) -> Callable[..., Any]:
        setattr(func, ATTRIBUTE, operation)
        return func

    return mark


def fields_object(fields: Mapping[str, Field]) -> dict[str, Any]:
    """A response object with these fields' types, none required."""
    return {"type": "object", "properties": {n: field_schema(f) for n, f in fields.items()}}


def field_schema(spec: Field) -> dict[str, Any]:
    """The JSON schema of one DRF-like field spec."""
    if isinstance(spec, CharField):
        schema: dict[str, Any] = {"type": "string"}
        if not spec.allow_blank:
            schema["minLength"] = 1
    elif isinstance(spec, IntegerField):
        schema = {"type": "integer"}
        if spec.min_value is not None:
            schema["minimum"] = spec.min_value
        if spec.max_value is not None:
            schema["maximum"] = spec.max_value
    elif isinstance(spec, BooleanField):
        schema = {"type": "boolean"}
    elif isinstance(spec, DateTimeField):
        schema = {"type": "string", "format": "date-time"}
    elif isinstance(spec, ChoiceField):
        schema = {"type": "string", "enum": list(spec.choices)}
    elif isinstance(spec, RawField):
        schema = {"anyOf": [{"type": "integer"}, {"type": "string"}]}
    else:
        schema = {}
    if spec.allow_null and "type" in schema:
        schema["nullable"] = True
    if spec.default is not Field.default:  # the class default is the "no default" sentinel
        schema["default"] = spec.default
    return schema


def request_schema(body: Body, *, partial: bool) -> dict[str, Any]:
    """The object schema of a request body; PATCH (``partial``) requires nothing."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, spec in body.fields.items():
        properties[name] = field_schema(spec)
        if spec.required:
            required.append(name)
    for name in body.extensions:
        properties[name] = extension_schema(name)
    for name in body.files:
        properties[name] = {"type": "string", "format": "binary"}
        required.append(name)
    for name, text in body.descriptions.items():
        properties[name]["description"] = text
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required and not partial:
        schema["required"] = required
    return schema


class _Builder:
    """Collects paths and shared components while walking the routes."""

    def __init__(self) -> None:
        self.paths: dict[str, dict[str, Any]] = {}
        self.components: dict[str, Any] = {"Error": ERROR, "FieldErrors": FIELD_ERRORS}

    def ref(self, name: str, schema: Callable[[], dict[str, Any]]) -> dict[str, str]:
        """A ``$ref`` to component ``name``, built by ``schema()`` the first time."""
        if name not in self.components:
            self.components[name] = schema()
        return {"$ref": f"#/components/schemas/{name}"}

    def reply_schema(self, returns: Any) -> dict[str, Any] | None:
        """The schema of what :func:`openapi`'s ``returns`` names; None for an empty body."""
        if returns is None:
            return None
        if returns is str:
            return {"type": "string"}
        if isinstance(returns, AssetOf):
            return self.ref("Asset", lambda: asset_schema(returns.formatter))
        if isinstance(returns, ListOf):
            return {"type": "array", "items": self.reply_schema(returns.item)}
        return dict(returns)

    def operation(self, view: Callable[..., Any], method: str, path: str) -> dict[str, Any]:
        """One method of one path, from the view's mark, name and docstring."""
        marked: Operation = getattr(view, ATTRIBUTE, None) or Operation(status=500)
        name = view_name(view)
        op_id = f"{name.replace(' ', '')}_{method.lower()}"
        doc = SECTION_REFERENCE.sub("", (view.__doc__ or "").strip())
        summary, _, rest = doc.partition("\n")
        result: dict[str, Any] = {"operationId": op_id, "summary": summary.strip() or name,
                                  "tags": [name]}
        description = "\n".join(p for p in (rest.strip(), marked.description) if p)
        if description:
            result["description"] = description
        parameters = [{"name": arg, "in": "path", "required": True, "schema": {"type": "string"}}
                      for arg in re.findall(r"{([^}]+)}", path)]
        if parameters:
            result["parameters"] = parameters
        responses: dict[str, Any] = {}
        if marked.status < 400:
            responses[str(marked.status)] = self.response(marked)
        if marked.request is not None:
            result["requestBody"] = self.request_body(marked.request, op_id, method)
            invalid, text = self.ref("FieldErrors", dict), "Invalid fields."
            if marked.refuses:
                invalid = {"anyOf": [invalid, self.ref("Error", dict)]}
                text = "Invalid fields, or the change was refused."
            responses["400"] = _json_response(text, invalid)
        responses["401"] = {"description": "Access denied (when Basic auth is on).",
                            "content": {"text/html": {"schema": {"type": "string"}}}}
        responses["500"] = _json_response("Anthias's error body: an unknown asset, an "
                                          "unsupported method or another failure.",
                                          self.ref("Error", dict))
        result["responses"] = responses
        return result

    def response(self, marked: Operation) -> dict[str, Any]:
        """The success response."""
        schema = self.reply_schema(marked.returns)
        if schema is None:
            return {"description": "Empty body."}
        return _json_response("Success.", schema)

    def request_body(self, body: Body, op_id: str, method: str) -> dict[str, Any]:
        """The body in each content type the view parses, sharing one component."""
        partial = method == "PATCH"
        ref = self.ref(f"{op_id.split('_')[0]}{method.title()}Request",
                       lambda: request_schema(body, partial=partial))
        types = ["multipart/form-data"] if body.files else PARSES
        return {"required": not partial, "content": {t: {"schema": dict(ref)} for t in types}}


def _json_response(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def openapi_path(rule: str) -> str:
    """``/api/v2/assets/<asset_id>`` → ``/api/v2/assets/{asset_id}`` (converters dropped)."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def build_document(app: Flask) -> dict[str, Any]:
    """The whole OpenAPI document, from the app's ``v2.`` routes in registration order."""
    builder = _Builder()
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith(ENDPOINT_PREFIX):
            continue
        view = app.view_functions[rule.endpoint]
        path = openapi_path(rule.rule)
        item = builder.paths.setdefault(path, {})
        for method in sorted((rule.methods or set()) - IGNORED_METHODS):
            item[method.lower()] = builder.operation(view, method, path)
    document = {
        "openapi": OPENAPI_VERSION,
        "info": {"title": TITLE, "version": API_VERSION,
                 "description": "The Anthias v2 API, served by Anthias Edge."},
        "paths": builder.paths,
        "components": {
            "schemas": builder.components,
            "securitySchemes": {"basicAuth": {"type": "http", "scheme": "basic"}},
        },
        # Basic auth applies only when the device has it on; an empty entry makes it optional.
        "security": [{"basicAuth": []}, {}],
    }
    # A JSON round trip unshares repeated sub-schemas, so the YAML has no anchors or aliases.
    return json.loads(json.dumps(document))


def schema_yaml(app: Flask) -> str:
    """The document as YAML, built at the first request and kept on the app."""
    cached = app.extensions.get(CACHE_KEY)
    if cached is None:
        import yaml  # loaded on the first /api/schema/ request, not at start-up

        cached = yaml.safe_dump(build_document(app), sort_keys=False, allow_unicode=True)
        app.extensions[CACHE_KEY] = cached
        logger.info("generated the OpenAPI document (%d bytes)", len(cached))
    return cached
