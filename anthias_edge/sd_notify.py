"""systemd's notify protocol over ``$NOTIFY_SOCKET``: ready, watchdog heartbeats, stopping.

Both the server and the player run as ``Type=notify`` units. Outside systemd
(no ``NOTIFY_SOCKET``) every call is a cheap no-op, so callers never check.
Only the standard library is used: one AF_UNIX datagram per message.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Mapping

logger = logging.getLogger(__name__)


def notify(state: str, environ: Mapping[str, str] | None = None) -> bool:
    """Send ``state`` (e.g. ``READY=1``) to systemd; return whether a socket was there to take it.

    An address starting with ``@`` is an abstract socket, as sd_notify(3) says.
    """
    address = (os.environ if environ is None else environ).get("NOTIFY_SOCKET", "")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.sendto(state.encode("utf-8"), address)
    except OSError as exc:
        logger.warning("Could not notify systemd (%s): %s", state, exc)
        return False
    return True


def ready(environ: Mapping[str, str] | None = None) -> bool:
    """Tell systemd start-up is complete."""
    return notify("READY=1", environ)


def stopping(environ: Mapping[str, str] | None = None) -> bool:
    """Tell systemd the service is shutting down."""
    return notify("STOPPING=1", environ)


def watchdog(environ: Mapping[str, str] | None = None) -> bool:
    """Send one watchdog heartbeat."""
    return notify("WATCHDOG=1", environ)


def heartbeat_interval(environ: Mapping[str, str] | None = None) -> float | None:
    """Half of ``$WATCHDOG_USEC`` in seconds, or None when no watchdog is asked for this process.

    ``$WATCHDOG_PID``, when set, must be our pid (sd_watchdog_enabled(3)).
    """
    env = os.environ if environ is None else environ
    usec, pid = env.get("WATCHDOG_USEC", ""), env.get("WATCHDOG_PID", "")
    if not usec.isdecimal() or int(usec) == 0:
        return None
    if pid and pid != str(os.getpid()):
        return None
    return int(usec) / 2_000_000


class Heartbeat:
    """A daemon thread sending ``WATCHDOG=1`` every ``interval_s`` while ``healthy()`` holds.

    When ``healthy`` turns false the heartbeats stop, and systemd restarts the service.
    """

    def __init__(self, interval_s: float, healthy: Callable[[], bool] = lambda: True,
                 environ: Mapping[str, str] | None = None) -> None:
        self.interval_s = interval_s
        self.healthy = healthy
        self.environ = environ
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sd-watchdog", daemon=True)

    def start(self) -> None:
        """Start sending heartbeats."""
        self._thread.start()

    def stop(self) -> None:
        """Stop sending heartbeats and wait for the thread."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)

    def _run(self) -> None:
        while not self._stop.is_set():
            if self.healthy():
                watchdog(self.environ)
            else:
                logger.error("Unhealthy: withholding the systemd watchdog heartbeat")
            self._stop.wait(self.interval_s)


def start_heartbeat(healthy: Callable[[], bool] = lambda: True,
                    environ: Mapping[str, str] | None = None) -> Heartbeat | None:
    """Start a Heartbeat at half ``$WATCHDOG_USEC``; None (nothing started) without a watchdog."""
    interval = heartbeat_interval(environ)
    if interval is None:
        return None
    beat = Heartbeat(interval, healthy, environ)
    beat.start()
    return beat
