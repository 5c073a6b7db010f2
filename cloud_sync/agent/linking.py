"""Linking this device to a tenant and unlinking it (plan 15, B2's contract).

Three ways in: a pairing code an admin made (``link_with_code``), a fleet enrolment token
(``link_with_fleet_token``), or a code this device shows for an admin to claim
(``start_device_code`` + ``poll_device_code``). Each makes a fresh Ed25519 key pair, sends only
the public key, and once the hub has answered writes the private key (0600, atomically) and
the link row (``cloud_sync.device.link_store``). Callers hold no connection requirement: these
work in the server (a request's connection) and in the CLI (one opened here).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from anthias_edge import __version__
from anthias_edge.errors import ValidationError
from anthias_edge.settings import Settings, absolute_http_url_problem
from cloud_sync.agent import local_state
from cloud_sync.agent.database import connected, ensure_database
from cloud_sync.agent.errors import AlreadyLinked, CloudRefused, CloudUnreachable
from cloud_sync.agent.http import HubClient, Signer, Timeouts
from cloud_sync.agent.token_file import TOKEN
from cloud_sync.device import link_store
from cloud_sync.device.link_store import LinkState
from cloud_sync.protocol import load_private_key, new_key_pair, save_private_key

logger = logging.getLogger(__name__)

SYNC_PREFIX = "/api/v3/sync"
ENROLL = f"{SYNC_PREFIX}/enroll"
DEVICE_CODES = f"{SYNC_PREFIX}/device-codes"
DEVICE_CODE_POLL = f"{SYNC_PREFIX}/device-codes/poll"
UNLINK = f"{SYNC_PREFIX}/unlink"
# Someone is waiting at a screen or a terminal: fail in seconds rather than minutes.
LINK_TIMEOUTS = Timeouts(connect_s=10.0, read_s=20.0, total_s=30.0)
PAIRING_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
PAIRING_CODE = re.compile(f"^[{PAIRING_ALPHABET}]{{8}}$")
NAME_MAX = 100
DEFAULT_INTERVAL_S = 30
EXPIRY_MARGIN = dt.timedelta(seconds=30)
REPOLL_S = 1.0


@dataclass
class DeviceCodeTicket:
    """A code this device asked the hub for; an admin claims it at ``claim_url``.

    The private key stays in memory until the claim: written only once it belongs to a device.
    """

    code: str
    claim_url: str
    expires_at: dt.datetime
    cloud_url: str
    name: str
    poll_token: str = field(repr=False)
    settings: Settings = field(repr=False)
    private_key: Ed25519PrivateKey = field(repr=False)


@dataclass(frozen=True)
class DeviceCodePoll:
    """What a poll learnt: ``pending``, or ``claimed`` with the saved link."""

    status: str
    link: LinkState | None = None


@dataclass(frozen=True)
class UnlinkResult:
    """What ``unlink`` did: whether there was a link, and whether the cloud heard of it."""

    was_linked: bool
    told_cloud: bool
    problem: str | None = None


def check_cloud_url(value: str) -> str:
    """The cloud's base address without a trailing slash; ValidationError when it is not one."""
    text = (value or "").strip().rstrip("/")
    problem = "is empty" if not text else absolute_http_url_problem(text)
    if problem:
        raise ValidationError({"cloud_url": [f"The cloud address {problem}."]},
                              f"Check the cloud address {text!r}.")
    return text


def check_name(value: str) -> str:
    """The screen's name in the cloud: 1 to 100 characters."""
    name = (value or "").strip()
    if not name or len(name) > NAME_MAX:
        raise ValidationError({"name": [f"Use 1 to {NAME_MAX} characters."]},
                              "Check the screen's name.")
    return name


def normalize_pairing_code(value: str) -> str:
    """A code as typed (any case, spaces or dashes) in its canonical 8 characters."""
    code = "".join((value or "").split()).replace("-", "").upper()
    if not PAIRING_CODE.match(code):
        raise ValidationError(
            {"code": ["A pairing code has 8 letters and digits (no 0, O, 1 or I), "
                      "e.g. K7QH-MX4P."]}, "Check the pairing code.")
    return code


def check_fleet_token(value: str) -> str:
    """A fleet token (``aft_...``), stripped."""
    token = (value or "").strip()
    if not TOKEN.match(token):
        raise ValidationError({"fleet_token": ["Fleet tokens start with aft_."]},
                              "Check the fleet token.")
    return token


def link_with_code(settings: Settings, cloud_url: str, code: str, name: str) -> LinkState:
    """Link with a one-time pairing code made in the cloud console."""
    return _enroll(settings, check_cloud_url(cloud_url), check_name(name),
                   {"code": normalize_pairing_code(code)})


def link_with_fleet_token(settings: Settings, cloud_url: str, token: str, name: str
                          ) -> LinkState:
    """Link with a fleet enrolment token (multi-use, with an expiry and a device cap)."""
    return _enroll(settings, check_cloud_url(cloud_url), check_name(name),
                   {"fleet_token": check_fleet_token(token)})


def start_device_code(settings: Settings, cloud_url: str, name: str) -> DeviceCodeTicket:
    """Ask the hub for a code to show on this screen, for an admin to claim in the cloud."""
    url, device_name = check_cloud_url(cloud_url), check_name(name)
    _refuse_if_linked(settings)
    private, public = new_key_pair()
    with HubClient(url, timeouts=LINK_TIMEOUTS) as client:
        data = client.call("POST", DEVICE_CODES, signed=False, json_body={
            "public_key": public, "name": device_name, "software_version": __version__}).json()
    try:
        expires_at = dt.datetime.fromisoformat(str(data["expires_at"]).replace("Z", "+00:00"))
        if expires_at.tzinfo is None:
            expires_at = expires_at.replace(tzinfo=dt.UTC)
        return DeviceCodeTicket(code=_text(data, "code"), claim_url=_text(data, "claim_url"),
                                expires_at=expires_at, cloud_url=url, name=device_name,
                                poll_token=_text(data, "poll_token"), settings=settings,
                                private_key=private)
    except (KeyError, TypeError, ValueError):
        raise CloudUnreachable("its answer lacked the code") from None


def poll_device_code(ticket: DeviceCodeTicket) -> DeviceCodePoll:
    """Ask once whether an admin claimed the code; on a claim, save the link.

    Raises CloudRefused with code ``device_code_expired`` once the code is past its life.
    """
    with HubClient(ticket.cloud_url, timeouts=LINK_TIMEOUTS) as client:
        try:
            data = _poll(client, ticket)
        except CloudRefused as exc:
            early = dt.datetime.now(dt.UTC) < ticket.expires_at - EXPIRY_MARGIN
            if exc.code != "device_code_expired" or not early:
                raise
            # Expired long before its time: a poll that met the claim half-way may be told so
            # (the hub answers "expired" for a code it cannot see). Ask once more.
            time.sleep(REPOLL_S)
            data = _poll(client, ticket)
    if not isinstance(data, dict) or data.get("status") != "claimed":
        return DeviceCodePoll("pending")
    with _linked_database(ticket.settings):
        current = link_store.load()
        if current is not None:
            # Linked another way meanwhile: the claimed device stays unused in the cloud.
            logger.warning("The device code was claimed, but this device is already linked "
                           "as %s; keeping that link", current.device_id)
            return DeviceCodePoll("claimed", current)
        return DeviceCodePoll("claimed", _save(ticket.settings, ticket.cloud_url,
                                               ticket.private_key, data))


def _poll(client: HubClient, ticket: DeviceCodeTicket) -> Any:
    return client.call("POST", DEVICE_CODE_POLL, signed=False,
                       json_body={"poll_token": ticket.poll_token}).json()


def unlink(settings: Settings, remote: bool = True) -> UnlinkResult:
    """Unlink: tell the hub when it answers (``remote``), always forget the link locally.

    The device's assets, codes and play log stay; only the link, the outbox and the key go.
    """
    with _linked_database(settings):
        link = link_store.load()
    if link is None:
        local_state.forget(settings)
        return UnlinkResult(was_linked=False, told_cloud=False)
    told, problem = False, None
    if remote:
        told, problem = _tell_hub(link)
    with _linked_database(settings):
        link_store.clear_link()
    local_state.forget(settings)
    logger.info("Unlinked from %s (%s)", link.cloud_url,
                "the cloud was told" if told else f"the cloud was not told: {problem}")
    return UnlinkResult(was_linked=True, told_cloud=told, problem=problem)


def signer_of(link: LinkState) -> Signer:
    """The signer of a linked device (its key file must be readable)."""
    return Signer(link.device_id, load_private_key(link.key_path))


def _tell_hub(link: LinkState) -> tuple[bool, str | None]:
    try:
        signer = signer_of(link)
    except (OSError, ValueError) as exc:
        return False, f"the device key could not be read ({exc})"
    try:
        with HubClient(link.cloud_url, signer, LINK_TIMEOUTS) as client:
            client.call("POST", UNLINK)
    except CloudRefused as exc:
        if exc.code == "device_revoked":
            return True, None  # already unlinked there
        return False, exc.message
    except CloudUnreachable as exc:
        return False, exc.message
    return True, None


def _enroll(settings: Settings, cloud_url: str, name: str, credential: dict[str, str]
            ) -> LinkState:
    _refuse_if_linked(settings)
    private, public = new_key_pair()
    body = {**credential, "public_key": public, "name": name, "software_version": __version__}
    with HubClient(cloud_url, timeouts=LINK_TIMEOUTS) as client:
        data = client.call("POST", ENROLL, json_body=body, signed=False).json()
    with _linked_database(settings):
        return _save(settings, cloud_url, private, data)


def _save(settings: Settings, cloud_url: str, private: Ed25519PrivateKey, data: Any
          ) -> LinkState:
    try:
        device_id, tenant_id = _text(data, "device_id"), _text(data, "tenant_id")
    except (KeyError, TypeError):
        raise CloudUnreachable("its answer lacked the device or tenant id") from None
    interval = data.get("interval_s")
    if isinstance(interval, bool) or not isinstance(interval, int) or not 5 <= interval <= 3600:
        interval = DEFAULT_INTERVAL_S
    local_state.forget(settings)
    path = local_state.key_path(settings)
    save_private_key(private, path)
    link = link_store.save_link(
        cloud_url=cloud_url, device_id=device_id, tenant_id=tenant_id, key_path=path,
        tenant_name=str(data.get("tenant_name") or ""),
        device_name=str(data.get("name") or ""), interval_s=interval)
    logger.info("Linked to %s as device %s of tenant %s", cloud_url, device_id, tenant_id)
    return link


def _refuse_if_linked(settings: Settings) -> None:
    with _linked_database(settings):
        link = link_store.load()
    if link is not None:
        raise AlreadyLinked(f"This device is already linked to {link.cloud_url}"
                            f"{' (' + link.tenant_name + ')' if link.tenant_name else ''}. "
                            "Unlink it first.")


def _text(data: Any, key: str) -> str:
    value = data[key]
    if not isinstance(value, str) or not value:
        raise TypeError(key)
    return value


def _linked_database(settings: Settings) -> contextlib.AbstractContextManager[None]:
    ensure_database(settings)
    return connected()
