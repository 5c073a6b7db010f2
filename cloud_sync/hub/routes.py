"""The hub's HTTP face: ``/api/v3/sync/...`` (cloud mode only).

Views are thin: read the request, authenticate the device (``auth.authenticate``), call the
hub's services, answer. Errors are domain errors, which the app turns into the v3 error body
(the URL is under ``/api/v3/``). Each view carries an ``Operation`` so the v3 OpenAPI document
lists it; signed ones say so with the ``deviceSignature`` scheme.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, g, request
from werkzeug.exceptions import RequestEntityTooLarge

from anthias_edge.api.v3.errors import error_response
from anthias_edge.api.v3.fields import Obj, Str, validate
from anthias_edge.api.v3.routing import ATTRIBUTE, Operation, json_response, no_content, read_json
from anthias_edge.errors import ValidationError
from anthias_edge.timeutil import utcnow
from cloud_sync.hub import linking, schemas
from cloud_sync.hub.auth import DeviceRow, authenticate, sql
from cloud_sync.hub.errors import MediaOffsetMismatch
from cloud_sync.hub.hub import EXTENSION_KEY, Hub
from cloud_sync.hub.media import MAX_CHUNK, put_chunk, upload_state
from cloud_sync.hub.push import Pusher
from cloud_sync.hub.state import build_state, etag_matches, state_etag
from cloud_sync.protocol import load_public_key
from cloud_sync.protocol.messages import validate_push

bp = Blueprint("sync_hub", __name__, url_prefix="/api/v3/sync")
TAG = "sync"
SIGNED = "device_signed"

_REVOKE = ("UPDATE devices SET status = 'revoked', revoked_at = {p} "
           "WHERE device_id = {p} AND status = 'active'")
_TOUCH = "UPDATE devices SET last_seen_at = {p} WHERE device_id = {p}"


def current_hub() -> Hub:
    """This app's hub."""
    return current_app.extensions[EXTENSION_KEY]


def path_with_query() -> str:
    """The path and query exactly as the device signed them (``htu``)."""
    query = request.query_string.decode("latin-1")
    return f"{request.path}?{query}" if query else request.path


def signed_device(hub: Hub) -> DeviceRow:
    """Authenticate the request's device; the rest of the request sees its tenant only."""
    body = request.get_data(cache=True)
    device = authenticate(hub.database, request.headers.get("Authorization"), request.method,
                          path_with_query(), body, hub.keys, hub.clock())
    g.tenant_id = device.tenant_id
    hub.clean_if_due()
    return device


def hub_route(rule: str, method: str, *, signed: bool = True, status: int = 200,
              returns: Any = None, errors: tuple[int, ...] = (), body: Any = None,
              **extra: Any) -> Callable[[Callable[..., Any]], Any]:
    """Register a hub view; signed views get the authenticated device as ``device``."""
    operation = Operation(public=True, status=status, returns=returns, tag=TAG,
                          errors=(*errors, *((401,) if signed else (429,))),
                          body=body if isinstance(body, dict) and _is_specs(body) else None,
                          extra={SIGNED: signed, "request_schema": body
                                 if not _is_specs(body) else None, **extra})

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(**path_args: Any) -> Any:
            hub = current_hub()
            if signed:
                result = view(hub, signed_device(hub), **path_args)
            else:
                hub.check_unsigned(request.remote_addr)
                result = view(hub, **path_args)
            if isinstance(result, Response):
                return result
            if result is None:
                return no_content()
            return json_response(result, status)

        setattr(wrapper, ATTRIBUTE, operation)
        bp.add_url_rule(rule, endpoint=view.__name__, view_func=wrapper, methods=[method])
        return wrapper

    return decorate


def _is_specs(body: Any) -> bool:
    return isinstance(body, dict) and bool(body) and all(
        hasattr(value, "convert") for value in body.values())


def _public_key(text: Any) -> str:
    try:
        load_public_key(text)
    except (ValueError, TypeError) as exc:
        raise ValueError("Must be a raw Ed25519 public key, base64url without padding.") from exc
    return text


PUBLIC_KEY = Str(required=True, max_length=64,
                 description="The device's Ed25519 public key: 32 raw bytes, base64url.")
ENROLL = {
    "code": Str(max_length=64, description="A pairing code an admin made (or fleet_token)."),
    "fleet_token": Str(max_length=100, description="A fleet enrolment token (or code)."),
    "public_key": PUBLIC_KEY,
    "name": Str(required=True, min_length=1, max_length=100),
    "software_version": Str(max_length=100),
    "hardware": Obj(max_properties=30),
}
DEVICE_CODE_BODY = {"public_key": PUBLIC_KEY,
                    "name": Str(required=True, min_length=1, max_length=100),
                    "software_version": Str(max_length=100),
                    "hardware": Obj(max_properties=30)}
POLL_BODY = {"poll_token": Str(required=True, min_length=1, max_length=200)}


def _checked_key(data: dict[str, Any]) -> None:
    try:
        _public_key(data["public_key"])
    except ValueError as exc:
        raise ValidationError({"public_key": [str(exc)]}) from None


@hub_route("/enroll", "POST", signed=False, status=201, body=ENROLL, returns=schemas.LINKED,
           errors=(400, 402, 403, 404, 409, 415))
def enroll(hub: Hub) -> Any:
    """Link a device with a pairing code or a fleet token (unsigned; rate-limited).

    Exactly one of ``code`` and ``fleet_token``. Registers the device's public key; every
    later request of the device is signed with the matching private key.
    """
    data = validate(ENROLL, read_json())
    _checked_key(data)
    if bool(data.get("code")) == bool(data.get("fleet_token")):
        raise ValidationError({"code": ["Send exactly one of code and fleet_token."]})
    return linking.enroll(data, utcnow())


@hub_route("/device-codes", "POST", signed=False, status=201, body=DEVICE_CODE_BODY,
           returns=schemas.DEVICE_CODE, errors=(400, 415))
def create_device_code(hub: Hub) -> Any:
    """Ask for a code this device shows, for an admin to claim (unsigned; rate-limited)."""
    data = validate(DEVICE_CODE_BODY, read_json())
    _checked_key(data)
    return linking.create_device_code(data, request.host_url, utcnow())


@hub_route("/device-codes/poll", "POST", signed=False, body=POLL_BODY, returns=schemas.POLL,
           errors=(400, 410, 415))
def poll_device_code(hub: Hub) -> Any:
    """Whether an admin has claimed this device's code yet (unsigned; rate-limited)."""
    data = validate(POLL_BODY, read_json())
    return linking.poll_device_code(data["poll_token"], utcnow())


@hub_route("/push", "POST", body=schemas.PUSH, returns=schemas.PUSHED, errors=(400, 415))
def push(hub: Hub, device: DeviceRow) -> Any:
    """Push outbox entries (in seq order) and health; each entry takes effect once.

    A bad entry or an unknown kind refuses the whole batch (400) and nothing is applied.
    """
    batch = validate_push(read_json())
    return Pusher(hub.database, device, utcnow()).apply(batch).as_dict()


@hub_route("/state", "GET", returns=schemas.STATE, conditional=True)
def state(hub: Hub, device: DeviceRow) -> Any:
    """The device's state: its QR content, plan limits (with a validity), commands.

    Send ``If-None-Match`` with the last ETag: 304 (no body) while nothing changed.
    """
    now = utcnow()
    etag = state_etag(device.device_id, device.sync_version, device.command_version,
                      hub.clock())
    hub.database.execute_sql(sql(hub.database, _TOUCH), (now, device.device_id))
    if etag_matches(request.headers.get("If-None-Match"), etag):
        response = Response(status=304)
    else:
        response = json_response(build_state(hub.database, device, now, request.host_url))
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = "no-cache"
    return response


def _upload_headers(response: Response, size: int, received: int, complete: bool) -> Response:
    response.headers["Upload-Offset"] = str(received)
    response.headers["Upload-Length"] = str(size)
    response.headers["Upload-Complete"] = "?1" if complete else "?0"
    return response


@hub_route("/media/<sha256>", "HEAD", errors=(404,), media=True)
def media_status(hub: Hub, device: DeviceRow, sha256: str) -> Any:
    """Where the upload of this file stands: Upload-Offset, Upload-Length, Upload-Complete."""
    upload = upload_state(device, sha256, hub.store)
    return _upload_headers(Response(status=200), upload.size, upload.received, upload.complete)


@hub_route("/media/<sha256>", "PUT", returns=schemas.UPLOADED, errors=(400, 409, 413, 416),
           media=True)
def media_put(hub: Hub, device: DeviceRow, sha256: str) -> Any:
    """Upload one chunk (``Content-Range``; at most 8 MiB); 201 once whole and checked."""
    try:
        upload = put_chunk(device, sha256, request.headers.get("Content-Range"),
                           request.get_data(cache=True), hub.store,
                           hub.runtime.media_dir(device.tenant_id), utcnow())
    except MediaOffsetMismatch as exc:  # the error body, and the header a client resumes by
        return error_response(exc.status, exc.code, exc.message, exc.details,
                              {"Upload-Offset": str(exc.offset)})
    response = json_response({"received": upload.received, "complete": upload.complete},
                             201 if upload.complete else 200)
    return _upload_headers(response, upload.size, upload.received, upload.complete)


@bp.before_request
def _bounded_body() -> None:
    # A signed body is read whole to check its hash: refuse an oversized one before reading.
    length = request.content_length
    if length is not None and length > MAX_CHUNK:
        raise RequestEntityTooLarge()


@hub_route("/unlink", "POST", status=204)
def unlink(hub: Hub, device: DeviceRow) -> Any:
    """Unlink this device: it is revoked at once, and every later request of it refused."""
    hub.database.execute_sql(sql(hub.database, _REVOKE), (utcnow(), device.device_id))
    return None
