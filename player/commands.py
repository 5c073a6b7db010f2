"""The player's command thread: ZeroMQ ``viewer`` messages from the server
(docs/legacy-api.md §7.2).

Each command only sets state on the ``PlayLoop`` and wakes it, so it takes effect
within milliseconds whatever is playing. ``current_asset_id`` is answered from
this thread on the PUSH socket (docs/legacy-api.md §3.13).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable

from anthias_edge.messaging import CURRENT_ASSET_ID, ViewerCommand, ViewerEndpoint
from player.loop import PlayLoop
from player.pages import HOTSPOT_FIELDS, hotspot_item

logger = logging.getLogger(__name__)

# receive() blocks in zmq_poll; this bound only lets the thread notice a stop request.
RECEIVE_TIMEOUT_S = 1.0


class CommandHandler:
    """Turns one ``ViewerCommand`` into a ``PlayLoop`` call.

    ``reload`` calls ``on_reload`` (re-read settings, set the log level) and passes the
    shuffle setting it returns to the loop. ``reply`` sends the current asset id. ``listen``
    is the server's address, whose pages (Wi-Fi set-up) the screen shows.
    """

    def __init__(self, loop: PlayLoop, reply: Callable[[str | None], None],
                 on_reload: Callable[[], bool | None] = lambda: None,
                 listen: str = "127.0.0.1:8080") -> None:
        self.loop = loop
        self.reply = reply
        self.on_reload = on_reload
        self.listen = listen

    def handle(self, command: ViewerCommand) -> bool:
        """Act on ``command``; return False for a command this player does not know."""
        name, parameter = command.command, command.parameter
        logger.debug("Command %s (%s)", name, parameter)
        if name == "next":
            self.loop.skip()
        elif name == "previous":
            self.loop.previous()
        elif name == "asset" and parameter:
            self.loop.jump(parameter)
        elif name == "stop":
            self.loop.pause()
        elif name == "play":
            self.loop.resume()
        elif name == "refresh":
            self.loop.refresh()
        elif name == "reload":
            self.loop.refresh(shuffle=self._reload())
        elif name == CURRENT_ASSET_ID:
            self.reply(self.loop.current_asset_id)
        elif name == "show_splash":
            self.loop.splash_now()
        elif name == "setup_wifi":
            return self._setup_wifi(parameter)
        else:
            logger.warning("Command not found: %s", name)
            return False
        return True

    def _setup_wifi(self, parameter: str | None) -> bool:
        """Show the hotspot page from ``{"network","ssid_pswd","address"}`` until ``play``."""
        try:
            details = json.loads(parameter or "")
        except ValueError:
            details = None
        if not isinstance(details, dict) or not all(
                isinstance(details.get(key, ""), str) for key in HOTSPOT_FIELDS):
            # Not the text itself: it may hold the hotspot's password.
            logger.warning("setup_wifi needs a JSON object of strings %s; got %d characters "
                           "that are not one", "/".join(HOTSPOT_FIELDS), len(parameter or ""))
            return False
        self.loop.show_page(hotspot_item(self.listen, details))
        return True

    def _reload(self) -> bool | None:
        try:
            return self.on_reload()
        except Exception:
            logger.exception("Could not reload the settings; keeping the current ones")
            return None


class CommandListener:
    """A thread receiving ``viewer`` messages on ``endpoint`` and handing them to ``handler``."""

    def __init__(self, endpoint: ViewerEndpoint, handler: CommandHandler) -> None:
        self.endpoint = endpoint
        self.handler = handler
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="player-commands", daemon=True)

    def start(self) -> None:
        """Start listening (the endpoint must be started)."""
        self._thread.start()

    def stop(self) -> None:
        """Stop listening and wait for the thread (at most about ``RECEIVE_TIMEOUT_S``)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=RECEIVE_TIMEOUT_S + 2)

    def is_alive(self) -> bool:
        """Whether the thread still runs."""
        return self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                command = self.endpoint.receive(timeout_s=RECEIVE_TIMEOUT_S)
            except Exception:
                if self._stop.is_set():
                    return
                logger.exception("Receiving a command failed")
                self._stop.wait(RECEIVE_TIMEOUT_S)
                continue
            if command is None:
                continue
            try:
                self.handler.handle(command)
            except Exception:
                logger.exception("Command %s failed", command.command)
