"""A thin HTTP client of Midtrans over ``requests``: URLs, auth, timeouts, retries, errors.

Only transport lives here; ``provider.py`` turns Midtrans's JSON into the typed values of
``plugins/payment.py``. Facts from docs.midtrans.com, summarised with sources in
integrations.md §1: HTTP Basic auth with the server key as user and no password; Snap and the
Core API on their own hosts; ``Idempotency-Key`` on POST (Midtrans replays the first
successful answer for a few minutes, and answers 202 while the first is still running);
``X-Override-Notification`` names this deployment's webhook per transaction.

A call is retried (with exponential backoff) after a connection error, a timeout, a 5xx or a
202; a POST is retried only when it carries an ``Idempotency-Key``, so a retry can never
charge twice. Base URLs are settings, so the tests point the client at a local emulator.
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests

from anthias_edge.errors import PaymentProviderError

logger = logging.getLogger("anthias_edge.plugins.midtrans")

# integrations.md 1.1
BASE_URLS = {
    "sandbox": ("https://app.sandbox.midtrans.com/snap/v1", "https://api.sandbox.midtrans.com"),
    "production": ("https://app.midtrans.com/snap/v1", "https://api.midtrans.com"),
}
SANDBOX_KEY_PREFIX = "SB-Mid-server-"
# Midtrans ignores longer keys (integrations.md 1.7).
MAX_IDEMPOTENCY_KEY = 46


@dataclass(frozen=True)
class Answer:
    """One HTTP answer of Midtrans: its status and JSON body (``{}`` when it had none)."""

    status: int
    body: Mapping[str, Any]


@dataclass(frozen=True)
class ClientConfig:
    """Where and how to call Midtrans."""

    server_key: str
    snap_url: str
    api_url: str
    notification_url: str | None = None
    timeout_s: float = 10.0
    retries: int = 2
    backoff_s: float = 0.5


class MidtransClient:
    """Sends requests to Snap and the Core API; raises ``PaymentProviderError`` on failure."""

    def __init__(self, config: ClientConfig, *, session: requests.Session | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        """``session``: a ``requests.Session`` to reuse (one is made otherwise)."""
        self.config = config
        self._session = session or requests.Session()
        self._sleep = sleep
        token = base64.b64encode(f"{config.server_key}:".encode()).decode("ascii")
        self._auth = f"Basic {token}"

    def snap(self, method: str, path: str, body: Any = None, *,
             idempotency_key: str | None = None, notify: bool = False) -> Answer:
        """Call Snap (``path`` below ``/snap/v1``)."""
        return self.request(method, self.config.snap_url + path, body,
                            idempotency_key=idempotency_key, notify=notify)

    def core(self, method: str, path: str, body: Any = None, *,
             idempotency_key: str | None = None, notify: bool = False) -> Answer:
        """Call the Core API (charge, status, subscriptions)."""
        return self.request(method, self.config.api_url + path, body,
                            idempotency_key=idempotency_key, notify=notify)

    def request(self, method: str, url: str, body: Any = None, *,
                idempotency_key: str | None = None, notify: bool = False) -> Answer:
        """Send one call, retried as the module docstring says; 4xx answers are returned.

        ``notify``: send ``X-Override-Notification`` (calls that create a transaction).
        """
        headers = {"Authorization": self._auth, "Accept": "application/json",
                   "Content-Type": "application/json", "User-Agent": "anthias-edge"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key[:MAX_IDEMPOTENCY_KEY]
        if notify and self.config.notification_url:
            headers["X-Override-Notification"] = self.config.notification_url
        retryable = method != "POST" or bool(idempotency_key)
        attempts = 1 + (max(0, self.config.retries) if retryable else 0)
        problem = "no answer"
        for attempt in range(attempts):
            if attempt:
                self._sleep(self.config.backoff_s * 2 ** (attempt - 1))
            try:
                response = self._session.request(method, url, json=body, headers=headers,
                                                 timeout=self.config.timeout_s,
                                                 allow_redirects=False)
            except requests.Timeout:
                problem = f"no answer within {self.config.timeout_s:g} s"
            except requests.RequestException as exc:
                problem = f"could not connect ({type(exc).__name__})"
            else:
                if response.status_code >= 500 or response.status_code == 202:
                    problem = f"HTTP {response.status_code}"
                else:
                    return Answer(response.status_code, _json(response))
            logger.warning("Midtrans %s %s: %s (attempt %d of %d)", method, _path(url),
                           problem, attempt + 1, attempts)
        raise PaymentProviderError(f"Midtrans {method} {_path(url)} failed: {problem}.")


def error_text(answer: Answer) -> str:
    """What Midtrans said was wrong, from its error body (Snap and Core differ)."""
    body = answer.body
    messages = body.get("error_messages") or body.get("validation_messages") or []
    parts = [str(m) for m in messages] if isinstance(messages, list) else [str(messages)]
    if body.get("status_message"):
        parts.insert(0, str(body["status_message"]))
    return "; ".join(parts) or f"HTTP {answer.status}"


def _json(response: requests.Response) -> Mapping[str, Any]:
    if not response.content:
        return {}
    try:
        data = response.json()
    except ValueError:
        raise PaymentProviderError(
            f"Midtrans answered HTTP {response.status_code} without JSON.") from None
    if not isinstance(data, dict):
        raise PaymentProviderError("Midtrans answered JSON that is not an object.")
    return data


def _path(url: str) -> str:
    # Logs and errors name the path only: order ids are ours, hosts are configuration.
    return "/" + url.split("://", 1)[-1].split("/", 1)[-1]
