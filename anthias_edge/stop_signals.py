"""SIGTERM and SIGINT as a request to stop, for a process whose main thread only waits.

The handler records the signal and does nothing else. It must not set a ``threading.Event``:
Python runs a handler in the main thread between two bytecodes, and if that thread is inside
``Event.wait`` at a moment it holds the event's lock, ``Event.set`` in the handler waits for
that lock forever (seen: the player hung after Ctrl-C about once in 300 stops under load).
The main thread instead wakes every ``check_s`` to look at the record, which also catches a
signal the kernel handed to another thread (Python runs the handler only when the main
thread next runs bytecode).
"""

from __future__ import annotations

import logging
import signal
import threading
from types import TracebackType

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StopSignals:
    """Install the handlers on enter, restore the previous ones on exit."""

    def __init__(self, logger: logging.Logger, check_s: float = 0.25) -> None:
        self.logger = logger
        self.check_s = check_s
        self.received: signal.Signals | None = None
        self._previous: dict[int, object] = {}

    def __enter__(self) -> StopSignals:
        self._previous = {sig: signal.signal(sig, self._record) for sig in STOP_SIGNALS}
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def _record(self, signum: int, _frame: object) -> None:
        if self.received is None:
            self.received = signal.Signals(signum)

    def wait(self, done: threading.Event) -> None:
        """Return once a stop signal arrived or ``done`` is set (by another thread)."""
        while self.received is None and not done.wait(self.check_s):
            pass
        if self.received is not None:
            self.logger.info("Received %s; stopping", self.received.name)
