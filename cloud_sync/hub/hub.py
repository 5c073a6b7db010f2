"""The hub's per-app state: parsed keys, the media store, rate limits, replay-store clean-up.

One ``Hub`` per app (``app.extensions["sync_hub"]``); nothing here imports Flask, so the WSGI
fast path and the blueprint share it.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from peewee import Database

from anthias_edge.runtime import Runtime
from anthias_edge.services.rate_limit import RateLimiter, share_of
from anthias_edge.timeutil import utcnow
from cloud_sync.hub.auth import KeyCache, forget_expired
from cloud_sync.hub.errors import RateLimited
from cloud_sync.hub.storage import LocalFolderStore, MediaStore

EXTENSION_KEY = "sync_hub"
# Unsigned requests (enroll, device codes and their polls) per client address per minute:
# a device polls its code every few seconds for up to 10 minutes, a person links a handful.
UNSIGNED_PER_MINUTE = 60
CLEAN_EVERY_S = 60.0
WORKERS_ENV = "WEB_CONCURRENCY"


@dataclass
class Hub:
    """What the hub's requests share within one worker process."""

    runtime: Runtime
    store: MediaStore
    unsigned_limit: RateLimiter
    keys: KeyCache = field(default_factory=KeyCache)
    clock: Callable[[], float] = time.time
    _next_clean: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def database(self) -> Database:
        """The app's database."""
        return self.runtime.database

    def check_unsigned(self, address: str | None) -> None:
        """Count one unsigned request from ``address``; RateLimited past the limit."""
        retry_after = self.unsigned_limit.hit(address or "")
        if retry_after is not None:
            raise RateLimited(retry_after)

    def clean_if_due(self) -> None:
        """Now and then (once a minute per worker), drop the replay store's expired jtis."""
        now = self.clock()
        with self._lock:
            if now < self._next_clean:
                return
            self._next_clean = now + CLEAN_EVERY_S
        forget_expired(self.database, utcnow())


def make_hub(runtime: Runtime, per_minute: int = UNSIGNED_PER_MINUTE,
             store: MediaStore | None = None) -> Hub:
    """A hub on ``runtime``'s asset folder (the default LocalFolderStore)."""
    workers = int(os.environ.get(WORKERS_ENV, "1") or 1)
    return Hub(runtime=runtime,
               store=store or LocalFolderStore(runtime.settings.asset_dir),
               unsigned_limit=RateLimiter(share_of(per_minute, workers)))
