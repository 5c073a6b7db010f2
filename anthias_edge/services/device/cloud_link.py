"""The device's link to a cloud tenant as its dashboard sees it: status, link, unlink.

The sync agent (``cloud_sync.agent``) does the work; this module adds what a web page needs on
top of it: one pending device-initiated code per device (the Cloud page shows it, the splash
page shows it on the screen, and whichever asks first learns when an admin claimed it), and
the agent's refusals as domain errors with a plain message and the hub's own code.

The pending code lives in the server's memory only: it is worth ten minutes, and a restart
simply means starting another one. The agent is imported late so the server starts (and the
dashboard answers) even where the agent's optional dependencies are missing.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from anthias_edge.errors import AnthiasError, Conflict, ValidationError
from anthias_edge.settings import Settings

logger = logging.getLogger(__name__)

# The page and the splash page may both ask; the hub hears at most one poll this often.
POLL_EVERY = dt.timedelta(seconds=2)
NAME_MAX = 100

# The hub's refusals (docs/sync-protocol.md), said for the person at the device.
PLAIN = {
    "pairing_code_invalid": "That pairing code is not valid: it may be mistyped, already used "
                            "or expired (codes last 10 minutes). Ask for a new one.",
    "fleet_token_invalid": "That fleet token is not valid (revoked, expired or used up).",
    "device_code_expired": "The code shown on this screen expired before anyone claimed it. "
                           "Show a new one.",
    "rate_limited": "Too many attempts from this device. Wait a minute, then try again.",
    "device_limit_reached": "The organisation's plan allows no more screens. Remove one in "
                            "the cloud console or upgrade the plan.",
    "device_revoked": "The cloud unlinked this device.",
}


class CloudLinkFailed(AnthiasError):
    """The cloud refused or could not be reached; ``code`` and ``status`` say which."""

    status = 502
    code = "cloud_unreachable"
    default_message = ("The cloud could not be reached. Check the address and this device's "
                       "network, then try again.")

    def __init__(self, message: str | None = None, *, code: str | None = None,
                 status: int | None = None, details: Any = None) -> None:
        super().__init__(message, details=details)
        if code:
            self.code = code
        if status:
            self.status = status


@dataclass
class PendingCode:
    """A code this device asked the hub for, waiting for an admin to claim it."""

    code: str
    claim_url: str
    expires_at: dt.datetime
    cloud_url: str
    name: str
    ticket: Any
    polled_at: dt.datetime | None = None

    def shown(self) -> dict[str, Any]:
        """What the pages show."""
        return {"code": self.code, "claim_url": self.claim_url, "cloud_url": self.cloud_url,
                "name": self.name, "expires_at": _iso(self.expires_at)}


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return str(value)


def _as_datetime(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _field(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def clean_cloud_url(value: str) -> str:
    """The cloud's base address, checked: http(s), a host, no trailing slash."""
    from urllib.parse import urlsplit

    text = (value or "").strip().rstrip("/")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError({"cloud_url": [
            "Enter the cloud's address, starting with https:// (e.g. https://acme.example.com)."]})
    if parts.query or parts.fragment:
        raise ValidationError({"cloud_url": ["Enter the address without ? or # parts."]})
    return text


def clean_name(value: str | None, fallback: str) -> str:
    """The screen's name in the cloud: given, or the player name, or "Screen"."""
    name = (value or "").strip() or (fallback or "").strip() or "Screen"
    if len(name) > NAME_MAX:
        raise ValidationError({"name": [f"Use at most {NAME_MAX} characters."]})
    return name


def as_domain_error(exc: Exception) -> AnthiasError:
    """An agent's exception as the error the dashboard answers, with plain words."""
    if isinstance(exc, AnthiasError):
        return exc
    code = _field(exc, "code")
    status = _field(exc, "status")
    if not isinstance(status, int) or status < 400:
        status = None
    message = PLAIN.get(code or "") or _field(exc, "message") or ""
    if not code:
        return CloudLinkFailed(str(exc) or None)
    if code in ("device_limit_reached",) or status in (402,):
        message = PLAIN["device_limit_reached"]
    return CloudLinkFailed(str(message) or str(exc), code=str(code), status=status or 502,
                           details=_field(exc, "details"))


class CloudLink:
    """One device's link, for its web pages (thread-safe: waitress serves in threads)."""

    def __init__(self, settings: Settings, clock: Callable[[], dt.datetime],
                 agent: Any = None) -> None:
        self._settings = settings
        self._clock = clock
        self._agent = agent
        self._pending: PendingCode | None = None
        self._lock = threading.Lock()

    @property
    def agent(self) -> Any:
        """``cloud_sync.agent`` (imported on first use)."""
        if self._agent is None:
            from cloud_sync import agent

            self._agent = agent
        return self._agent

    def _now(self) -> dt.datetime:
        now = self._clock()
        return now if now.tzinfo else now.replace(tzinfo=dt.UTC)

    def status(self) -> dict[str, Any]:
        """The agent's status plus the pending code (polled, so a claim shows at once)."""
        self.poll()
        status = dict(self.agent.status(self._settings))
        for key in ("last_success_at", "next_attempt_at", "last_error_at", "linked_at"):
            if key in status:
                status[key] = _iso(status[key])
        status.setdefault("cloud_url", str(self._settings["cloud_url"] or "") or None)
        with self._lock:
            status["device_code"] = self._pending.shown() if self._pending else None
        return status

    def pending_code(self) -> dict[str, Any] | None:
        """The code waiting to be claimed, for the splash page (None: nothing to show)."""
        self.poll()
        with self._lock:
            return self._pending.shown() if self._pending else None

    def link_with_code(self, cloud_url: str, code: str, name: str | None) -> dict[str, Any]:
        """Link with a pairing code an admin created in the cloud."""
        url = clean_cloud_url(cloud_url)
        plain = "".join((code or "").split()).replace("-", "").upper()
        if not plain:
            raise ValidationError({"code": ["Enter the pairing code from the cloud console."]})
        if len(plain) != 8:
            raise ValidationError({"code": ["A pairing code has 8 characters."]})
        self._refuse_if_linked()
        try:
            self.agent.link_with_code(self._settings, url, plain,
                                      clean_name(name, self._settings["player_name"]))
        except Exception as exc:  # the agent's refusals carry the hub's code
            raise as_domain_error(exc) from exc
        with self._lock:
            self._pending = None
        return self.status()

    def start_device_code(self, cloud_url: str, name: str | None) -> dict[str, Any]:
        """Ask the hub for a code to show on this screen; an admin claims it in the cloud."""
        url = clean_cloud_url(cloud_url)
        self._refuse_if_linked()
        device_name = clean_name(name, self._settings["player_name"])
        try:
            ticket = self.agent.start_device_code(self._settings, url, device_name)
        except Exception as exc:
            raise as_domain_error(exc) from exc
        with self._lock:
            self._pending = PendingCode(
                code=str(_field(ticket, "code")), claim_url=str(_field(ticket, "claim_url")),
                expires_at=_as_datetime(_field(ticket, "expires_at")), cloud_url=url,
                name=device_name, ticket=ticket)
        return self.status()

    def cancel_device_code(self) -> None:
        """Stop showing the pending code (it expires on the hub by itself)."""
        with self._lock:
            self._pending = None

    def unlink(self) -> dict[str, Any]:
        """Unlink: tell the cloud when it answers, always forget locally."""
        with self._lock:
            self._pending = None
        try:
            self.agent.unlink(self._settings, remote=True)
        except Exception as exc:
            raise as_domain_error(exc) from exc
        return self.status()

    def poll(self) -> None:
        """Ask the hub once (at most every POLL_EVERY) whether the pending code was claimed."""
        with self._lock:
            pending = self._pending
            now = self._now()
            if pending is None:
                return
            if now >= pending.expires_at:
                self._pending = None
                return
            if pending.polled_at and now - pending.polled_at < POLL_EVERY:
                return
            pending.polled_at = now
        try:
            result = self.agent.poll_device_code(pending.ticket)
        except Exception as exc:
            error = as_domain_error(exc)
            if error.code == "device_code_expired":
                with self._lock:
                    if self._pending is pending:
                        self._pending = None
            else:  # the hub is away for now: keep showing the code, ask again later
                logger.info("polling the device code failed: %s", error.message)
            return
        if _claimed(result):
            with self._lock:
                if self._pending is pending:
                    self._pending = None

    def _refuse_if_linked(self) -> None:
        if self.agent.status(self._settings).get("linked"):
            raise Conflict("This device is already linked. Unlink it first.")


def _claimed(result: Any) -> bool:
    """Whether a poll's answer means the code was claimed (the agent saved the link)."""
    if result is None or result is False:
        return False
    status = _field(result, "status")
    if status is not None:
        return status == "claimed"
    return True  # a LinkState
