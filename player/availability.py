"""Whether an asset can be shown now (docs/legacy-api.md §8.4), decided fast and cached.

A local file must exist; a URL must answer within ``timeout_s``. Answers are kept for
``ttl_s`` so an unreachable page is skipped at once on the next lap, and ``warm`` starts the
check for the next asset while the current one plays.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from player.rotation import PlayItem

logger = logging.getLogger(__name__)

UNREACHABLE_TTL_S = 300.0
PROBE_TIMEOUT_S = 2.0


class Availability:
    """Whether an asset can be shown (docs/legacy-api.md §8.4): a local file that exists, a skipped
    check, or a URL that answers. URL results are cached for ``ttl_s``; ``warm`` checks one in the
    background.
    """

    def __init__(self, probe: Callable[[PlayItem], bool],
                 marked_unreachable: Callable[[str], bool] = lambda _asset_id: False, *,
                 ttl_s: float = UNREACHABLE_TTL_S, timeout_s: float = PROBE_TIMEOUT_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.probe = probe
        self.marked_unreachable = marked_unreachable
        self.ttl_s = ttl_s
        self.timeout_s = timeout_s
        self.clock = clock
        self._cache: dict[str, tuple[float, bool]] = {}
        self._pending: dict[str, Future[bool]] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="reachability")

    def _cached(self, uri: str) -> bool | None:
        hit = self._cache.get(uri)
        return hit[1] if hit and self.clock() - hit[0] < self.ttl_s else None

    def _future(self, item: PlayItem) -> Future[bool]:
        with self._lock:
            future = self._pending.get(item.uri)
            if future is None:
                future = self._pending[item.uri] = self._pool.submit(self._check, item)
            return future

    def _check(self, item: PlayItem) -> bool:
        try:
            result = bool(self.probe(item))
        except Exception:
            logger.warning("Checking %s failed", item.uri, exc_info=True)
            result = False
        with self._lock:
            self._cache[item.uri] = (self.clock(), result)
            self._pending.pop(item.uri, None)
        return result

    def warm(self, item: PlayItem) -> None:
        """Start checking ``item`` now, so ``is_available`` later finds the answer cached."""
        if not (item.skip_asset_check or item.uri.startswith("/")) and (
                self._cached(item.uri) is None):
            self._future(item)

    def is_available(self, item: PlayItem) -> bool:
        """Decide within ``timeout_s``; a check that takes longer counts as unreachable."""
        if item.skip_asset_check:
            return True
        if not item.uri:
            return False
        if item.uri.startswith("/"):
            return Path(item.uri).is_file()
        try:
            if self.marked_unreachable(item.asset_id):
                return False
        except Exception:
            logger.warning("Could not read the reachability of %s", item.asset_id, exc_info=True)
        cached = self._cached(item.uri)
        if cached is not None:
            return cached
        try:
            return self._future(item).result(timeout=self.timeout_s)
        except Exception:
            logger.info("No answer from %s within %.1f s", item.uri, self.timeout_s)
            return False

    def close(self) -> None:
        """Stop the background checks."""
        self._pool.shutdown(wait=False, cancel_futures=True)
