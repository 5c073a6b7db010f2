"""The v3 route decorator: authenticate, check the tenant and the permission, read the input.

Views receive a ``Call`` and return ``(data, status)`` or a Response; they never
parse headers or bodies themselves, and what the decorator knows about each view
(its permission, body and query specs, answer) is what ``openapi.py`` publishes.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Response, g, request

from anthias_edge.api import json_input
from anthias_edge.api.v3.auth import authenticate
from anthias_edge.api.v3.blueprint import bp
from anthias_edge.api.v3.dashboard_session import dashboard_principal
from anthias_edge.api.v3.fields import Spec, validate, validate_query
from anthias_edge.api.v3.tenancy import check_tenant, is_device_tenant
from anthias_edge.errors import (
    MalformedRequest,
    PathNotFound,
    TokenInvalid,
    UnsupportedMediaType,
)
from anthias_edge.permissions import Principal
from anthias_edge.runtime import Runtime, current_runtime

logger = logging.getLogger(__name__)

ATTRIBUTE = "v3_operation"
JSON_TYPE = "application/json"


@dataclass(frozen=True)
class Operation:
    """What one v3 view needs and answers (read by the OpenAPI generator and the tests)."""

    permission: str | None = None
    public: bool = False
    body: Mapping[str, Spec] | None = None
    partial: bool = False
    query: Mapping[str, Spec] | None = None
    status: int = 200
    returns: Any = None  # a JSON Schema, a callable building one, or None (empty body)
    errors: tuple[int, ...] = ()
    tag: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Call:
    """One request as a view sees it: who, for which tenant, with which validated input."""

    runtime: Runtime
    principal: Principal | None
    data: dict[str, Any]
    query: dict[str, Any]
    ip: str | None

    @property
    def tenant_id(self) -> str:
        """The caller's tenant (authenticated views only)."""
        assert self.principal is not None
        return self.principal.tenant_id

    @property
    def actor(self) -> str:
        """The audit log's actor."""
        return self.principal.actor if self.principal else "anonymous"


def json_response(data: Any, status: int = 200) -> Response:
    """Compact JSON."""
    return Response(json.dumps(data, separators=(",", ":"), ensure_ascii=False), status=status,
                    content_type=JSON_TYPE)


def no_content() -> Response:
    """204 with no body."""
    response = Response(b"", status=204)
    response.headers.pop("Content-Type", None)
    return response


def read_json() -> Any:
    """The JSON body; an empty body is ``{}``."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    if request.mimetype != JSON_TYPE and not request.mimetype.endswith("+json"):
        raise UnsupportedMediaType()
    try:
        data = json_input.loads(raw)
    except json_input.TooDeep as exc:
        raise MalformedRequest(str(exc)) from None
    except ValueError as exc:  # UnicodeDecodeError and NaN included
        raise MalformedRequest("The body is not valid JSON.") from exc
    if json_input.first_surrogate(data) is not None:
        raise MalformedRequest("The body holds a lone surrogate (\\ud800-\\udfff), which is "
                               "not text.")
    return data


def current_principal() -> Principal:
    """Authenticate the request and check the tenant it names; keep the tenant on ``g``."""
    dashboard = dashboard_principal(request, current_runtime())
    if dashboard is not None:  # a device's own dashboard answers on any host name
        g.tenant_id = dashboard.tenant_id
        return dashboard
    caller = authenticate(request, current_runtime().auth)
    if current_runtime().is_cloud and is_device_tenant(caller.tenant):
        raise TokenInvalid()  # the device's tenant is nobody's in the cloud (0009)
    check_tenant(request, caller.tenant)
    g.tenant_id = caller.principal.tenant_id
    return caller.principal


def route(rule: str, method: str, **facts: Any) -> Callable[[Callable[..., Any]], Any]:
    """Register ``view`` on the v3 blueprint for one method; ``facts`` fill an Operation."""
    operation = Operation(**facts)

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(**path_args: Any) -> Any:
            if any("\x00" in str(value) for value in path_args.values()):
                raise PathNotFound()  # no stored id holds NUL (PostgreSQL text cannot)
            principal = None
            if not operation.public:
                principal = current_principal()
                if operation.permission:
                    principal.require(operation.permission)
            data: dict[str, Any] = {}
            if operation.body is not None:
                data = validate(operation.body, read_json(), partial=operation.partial)
            query = validate_query(operation.query, request.args) if operation.query else {}
            call = Call(current_runtime(), principal, data, query, request.remote_addr)
            result = view(call, **path_args)
            if isinstance(result, Response):
                return result
            if result is None:
                return no_content()
            return json_response(result, operation.status)

        setattr(wrapper, ATTRIBUTE, operation)
        bp.add_url_rule(rule, endpoint=view.__name__, view_func=wrapper, methods=[method])
        return wrapper

    return decorate
