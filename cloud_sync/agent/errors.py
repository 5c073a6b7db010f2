"""Why linking or syncing failed, as domain errors with plain messages.

``CloudUnreachable`` is worth retrying later (network, timeout, 5xx, 429, a cut answer);
``CloudRefused`` is the hub saying no (a 4xx with its v3 error code), which a retry with the
same input will not change. The CLI prints either as one ``Error:`` line; the dashboard's
Cloud page answers them with their ``status`` and ``code``.
"""

from __future__ import annotations

from typing import Any

from anthias_edge.errors import AnthiasError


class CloudUnreachable(AnthiasError):
    """The hub did not answer usefully: no connection, too slow, a 5xx or 429, a cut answer."""

    status = 502
    code = "cloud_unreachable"
    default_message = "The cloud could not be reached."

    def __init__(self, reason: str, *, retry_after_s: float | None = None) -> None:
        """``reason`` in plain words (``connection refused``); ``retry_after_s`` from a 429."""
        super().__init__(f"The cloud could not be reached ({reason}).")
        self.reason = reason
        self.retry_after_s = retry_after_s


class CloudRefused(AnthiasError):
    """The hub answered a 4xx; ``code`` and ``http_status`` are the hub's own."""

    status = 400
    code = "cloud_refused"
    default_message = "The cloud refused the request."

    def __init__(self, http_status: int, code: str, message: str, details: Any = None) -> None:
        """Keep the hub's status, code and message (401 is passed on as 502: the device's own
        API must not answer 401 for a refusal that has nothing to do with its caller)."""
        super().__init__(message, details=details)
        self.http_status = http_status
        self.code = code
        self.status = 502 if http_status == 401 else http_status


class AlreadyLinked(AnthiasError):
    """A link was asked for while the device is linked; unlink first."""

    status = 409
    code = "already_linked"
    default_message = "This device is already linked to a cloud. Unlink it first."
