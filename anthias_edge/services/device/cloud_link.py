"""The device's link to a cloud tenant as its dashboard sees it: status, link, unlink.

The sync agent (``cloud_sync.agent``) does the work and checks the input; this module adds
what web pages need on top of it: one pending device-initiated code per device (the Cloud
page shows it, the splash page shows it on the screen, and whichever asks first learns when
an admin claimed it), times as ISO text, and the hub's refusals in plain words with the hub's
own code and status.

The pending code lives in the server's memory only: it is worth ten minutes, its private key
is written only once the code is claimed, and after a restart one simply shows a new code.
The agent is imported late so the server starts (and the dashboard answers) without it.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from anthias_edge.errors import AnthiasError
from anthias_edge.settings import Settings, printable_text

logger = logging.getLogger(__name__)

# The Cloud page and the splash page may both ask; the hub hears at most one poll this often.
POLL_EVERY = dt.timedelta(seconds=2)


class CloudLinkFailed(AnthiasError):
    """The cloud refused; ``code`` and ``status`` are the hub's, the message plain words."""

    status = 502
    code = "cloud_refused"
    default_message = "The cloud refused the request."

    def __init__(self, message: str, *, code: str, status: int, details: Any = None) -> None:
        super().__init__(message, details=details)
        self.code = code
        self.status = status


@dataclass(frozen=True)
class AgentFunctions:
    """The agent's calls this module makes (``cloud_sync.agent``, B2's contract)."""

    status: Callable[[Settings], dict[str, Any]]
    link_with_code: Callable[..., Any]
    start_device_code: Callable[..., Any]
    poll_device_code: Callable[[Any], Any]
    unlink: Callable[..., Any]
    problem_words: Callable[[BaseException], str]

    @classmethod
    def load(cls) -> AgentFunctions:
        """The real agent."""
        import cloud_sync.agent as agent
        from cloud_sync.agent.wording import problem_words

        return cls(status=agent.status, link_with_code=agent.link_with_code,
                   start_device_code=agent.start_device_code,
                   poll_device_code=agent.poll_device_code, unlink=agent.unlink,
                   problem_words=problem_words)


@dataclass
class PendingCode:
    """A code this device asked the hub for, waiting for an admin to claim it."""

    ticket: Any  # the agent's DeviceCodeTicket (holds the key pair until the claim)
    polled_at: dt.datetime | None = None
    asking: bool = False

    def shown(self) -> dict[str, Any]:
        """What the pages show (never the poll token or the key)."""
        ticket = self.ticket
        return {"code": ticket.code, "claim_url": ticket.claim_url,
                "cloud_url": ticket.cloud_url, "name": ticket.name,
                "expires_at": iso(ticket.expires_at)}


def iso(value: Any) -> Any:
    """A datetime as ISO-8601 UTC text ending in Z; anything else unchanged."""
    if not isinstance(value, dt.datetime):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


class CloudLink:
    """One device's link, for its web pages (thread-safe: waitress serves in threads)."""

    def __init__(self, settings: Settings, clock: Callable[[], dt.datetime],
                 agent: AgentFunctions | None = None) -> None:
        self._settings = settings
        self._clock = clock
        self._agent = agent
        self._pending: PendingCode | None = None
        self._lock = threading.Lock()

    @property
    def agent(self) -> AgentFunctions:
        """The sync agent's functions (imported on first use)."""
        if self._agent is None:
            self._agent = AgentFunctions.load()
        return self._agent

    def status(self) -> dict[str, Any]:
        """The agent's status plus the pending code (asking the hub about it on the way)."""
        self.poll()
        status = {key: iso(value) for key, value in self.agent.status(self._settings).items()}
        if status.get("linked"):
            self.cancel_device_code()  # claimed (or linked another way): nothing to show
        status["device_code"] = self._shown_pending()
        return status

    def pending_code(self) -> dict[str, Any] | None:
        """The code waiting to be claimed, for the splash page (None: nothing to show)."""
        self.poll()
        return self._shown_pending()

    def link_with_code(self, cloud_url: str, code: str, name: str | None) -> dict[str, Any]:
        """Link with a pairing code an admin created in the cloud."""
        self._call(self.agent.link_with_code, self._settings, cloud_url, code,
                   self._name(name))
        self.cancel_device_code()
        return self.status()

    def start_device_code(self, cloud_url: str, name: str | None) -> dict[str, Any]:
        """Ask the hub for a code to show on this screen; an admin claims it in the cloud."""
        ticket = self._call(self.agent.start_device_code, self._settings, cloud_url,
                            self._name(name))
        with self._lock:
            self._pending = PendingCode(ticket)
        return self.status()

    def cancel_device_code(self) -> None:
        """Stop showing the pending code (it expires on the hub by itself)."""
        with self._lock:
            self._pending = None

    def unlink(self) -> dict[str, Any]:
        """Unlink: tell the cloud when it answers, always forget locally."""
        self.cancel_device_code()
        result = self._call(self.agent.unlink, self._settings, remote=True)
        status = self.status()
        problem = getattr(result, "problem", None)
        if getattr(result, "was_linked", False) and not getattr(result, "told_cloud", True):
            status["unlink_note"] = ("Unlinked here, but the cloud could not be told "
                                     f"({problem or 'no answer'}); it shows this screen as "
                                     "offline until an admin revokes it.")
        return status

    def poll(self, *, wait: bool = False) -> None:
        """Ask the hub whether the pending code was claimed: at most every POLL_EVERY and one
        question at a time. Pages do not wait for the answer (a slow or absent hub must not
        hold up the splash page the screen shows): it shows on their next read."""
        pending = self._due()
        if pending is None:
            return
        if wait:
            self._ask(pending)
            return
        threading.Thread(target=self._ask, args=(pending,), name="device-code-poll",
                         daemon=True).start()

    def _due(self) -> PendingCode | None:
        now = self._now()
        with self._lock:
            pending = self._pending
            if pending is None or pending.asking:
                return None
            if now >= _aware(pending.ticket.expires_at):
                self._pending = None
                return None
            if pending.polled_at and now - pending.polled_at < POLL_EVERY:
                return None
            pending.polled_at = now
            pending.asking = True
            return pending

    def _ask(self, pending: PendingCode) -> None:
        try:
            result = self.agent.poll_device_code(pending.ticket)
        except AnthiasError as exc:
            if exc.code == "device_code_expired":
                self._drop(pending)
            else:  # the hub is away for now: keep showing the code and ask again later
                logger.info("Asking whether the code was claimed failed: %s", exc.message)
            return
        except Exception:  # a thread of its own: log it, the page goes on
            logger.exception("Asking whether the code was claimed failed")
            return
        finally:
            pending.asking = False
        if getattr(result, "status", None) == "claimed":
            self._drop(pending)

    def _drop(self, pending: PendingCode) -> None:
        with self._lock:
            if self._pending is pending:
                self._pending = None

    def _shown_pending(self) -> dict[str, Any] | None:
        with self._lock:
            return self._pending.shown() if self._pending else None

    def _name(self, name: str | None) -> str:
        # The screen's own name unless another is given: what an admin recognises.
        given = (name or "").strip()
        return given or printable_text(self._settings["player_name"]).strip() or "Screen"

    def _now(self) -> dt.datetime:
        return _aware(self._clock())

    def _call(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call the agent; a hub refusal comes out in the agent's plain words."""
        try:
            return function(*args, **kwargs)
        except AnthiasError as exc:
            if hasattr(exc, "http_status"):  # the hub said no (CloudRefused)
                words = self.agent.problem_words(exc)
                raise CloudLinkFailed(f"{words}.", code=exc.code, status=exc.status,
                                      details=exc.details) from exc
            raise


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
