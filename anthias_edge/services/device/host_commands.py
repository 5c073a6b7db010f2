"""Run the configured reboot and shutdown commands on the host (docs/legacy-api.md §3.15).

Anthias went through a host agent and ``sudo -n systemctl reboot``; here the command
line comes from the settings and is started directly, without a shell, and not
waited for: the API answers at once and the machine goes down behind it.
"""

from __future__ import annotations

import logging
import shlex
import subprocess
import threading

from anthias_edge.errors import HostCommandFailed

logger = logging.getLogger(__name__)


def run_host_command(command: str) -> None:
    """Start ``command`` (split as a shell would, run without one) in a new session.

    Return as soon as it has started; raise HostCommandFailed when the command is
    empty, cannot be split, or its program cannot be started.
    """
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise HostCommandFailed(f"Host command {command!r} cannot be read: {exc}.") from exc
    if not argv:
        raise HostCommandFailed(f"No host command is configured (got {command!r}).")
    logger.info("Running host command: %s", command)
    try:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # Its own session, so a server restart cannot take a shutdown down with it.
            start_new_session=True,
        )
    except OSError as exc:
        raise HostCommandFailed(
            f"Host command {command!r} could not be started: {exc.strerror or exc}."
        ) from exc
    # Reap it in the background: the caller must not wait, but an unreaped child
    # would linger as a zombie and Popen would warn when collected.
    threading.Thread(target=process.wait, name=f"host-command-{process.pid}", daemon=True).start()
