"""The one error an upgrade or rollback reports: what failed, and what was left as it was."""

from __future__ import annotations

from anthias_edge.errors import AnthiasError


class UpgradeError(AnthiasError):
    """An upgrade or rollback stopped; the message says what is still running."""

    code = "upgrade_failed"
    default_message = "The upgrade failed; the current release was left as it was."
