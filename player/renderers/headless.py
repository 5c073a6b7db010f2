"""No screen: each shown asset becomes one JSON line in a file.

For servers without a display, and the test double for screens in player tests (the
browser and mpv renderers have their own tests against the real programs). A line is
written when the asset leaves the screen::

    {"asset_id", "uri", "mimetype", "shown_at", "ended_at", "outcome"}

plus ``"qr_code"``, the URL of the code drawn over the asset, when it has one.

``outcome`` is what ``wait_until_done`` returned, or ``replaced``/``stopped``/``closed``
when the asset left the screen another way.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from player.renderers import PlayableItem, wait_or_timeout

logger = logging.getLogger(__name__)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class HeadlessRenderer:
    """Records shown assets with timestamps to a JSON-lines file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._shown: dict[str, Any] | None = None
        self.preloaded: str | None = None

    def start(self) -> None:
        """Create the record file's folder."""
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def show(self, item: PlayableItem) -> None:
        """Record the previous asset as replaced and remember this one as on screen."""
        with self._lock:
            self._finish("replaced")
            self._shown = {"asset_id": item.asset_id, "uri": item.uri,
                           "mimetype": item.mimetype, "shown_at": _now()}
            if item.qr_overlay is not None:
                self._shown["qr_code"] = item.qr_overlay.url
            self.preloaded = None

    def preload(self, item: PlayableItem) -> None:
        """Remember which asset was preloaded (nothing is recorded)."""
        self.preloaded = item.asset_id

    def wait_until_done(self, timeout_s: float, interrupt: threading.Event) -> str:
        """Wait on the event for the duration; record the outcome."""
        outcome = wait_or_timeout(timeout_s, interrupt)
        with self._lock:
            self._finish(outcome)
        return outcome

    def stop(self) -> None:
        """Record the asset on screen as stopped."""
        with self._lock:
            self._finish("stopped")

    def current(self) -> str | None:
        """The asset id on the (imaginary) screen."""
        shown = self._shown
        return shown["asset_id"] if shown else None

    def close(self) -> None:
        """Record the asset on screen as closed."""
        with self._lock:
            self._finish("closed")

    def _finish(self, outcome: str) -> None:
        if self._shown is None:
            return
        record = {**self._shown, "ended_at": _now(), "outcome": outcome}
        self._shown = None
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
        logger.debug("Shown %s until %s (%s)", record["asset_id"], record["ended_at"], outcome)
