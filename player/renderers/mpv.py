"""Videos and streams in one long-lived mpv, driven over its JSON IPC socket.

A video plays to its natural end (legacy-api.md 8.4: the duration is not used); a
stream plays for the asset's duration. ``next`` stops playback at once. Audio goes to
the ALSA device chosen by ``audio_output`` (see ``audio_device``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from anthias_edge.errors import PlayerUnavailable, StartupError
from player.renderers import PlayableItem, end_process_group, kind_of

logger = logging.getLogger(__name__)

LAUNCH_TIMEOUT_S = 10.0
LOAD_TIMEOUT_S = 15.0
CALL_TIMEOUT_S = 5.0
# A video that has not ended this long after its own length is treated as stuck.
VIDEO_GRACE_S = 30.0
# How often wait_until_done looks at the end-of-file flag while it waits on `interrupt`;
# the interrupt itself wakes it at once.
END_CHECK_S = 0.05
DEVICE_MODEL_FILE = Path("/proc/device-tree/model")


def audio_device(audio_output: str, device_model: str = "") -> str | None:
    """mpv's ``--audio-device`` for the ``audio_output`` setting, or None for mpv's default.

    ``local`` is the Pi's headphone jack; ``hdmi`` is the first HDMI port on a Pi 4
    (also Pi 400 and CM4); anything else keeps mpv's default device.
    """
    if audio_output == "local":
        return "alsa/plughw:CARD=Headphones"
    if audio_output == "hdmi" and re.search(r"Raspberry Pi (Compute Module )?4", device_model):
        return "alsa/default:CARD=vc4hdmi0"
    return None


def read_device_model(path: Path = DEVICE_MODEL_FILE) -> str:
    """The board name from the device tree ("" off a Pi)."""
    try:
        return path.read_bytes().rstrip(b"\0").decode(errors="replace")
    except OSError:
        return ""


def mpv_command(executable: str, socket_path: Path, *, headless: bool,
                audio: str | None) -> list[str]:
    """The mpv command line: idle, IPC on ``socket_path``, no video/audio when headless."""
    command = [executable, "--idle=yes", f"--input-ipc-server={socket_path}", "--really-quiet",
               "--no-terminal", "--keep-open=no", "--no-input-default-bindings", "--osc=no",
               "--osd-level=0"]
    if headless:
        return [*command, "--vo=null", "--ao=null"]
    command += ["--fs", "--hwdec=auto"]
    return [*command, f"--audio-device={audio}"] if audio else command


class _Entry:
    """What mpv reported about one loaded file."""

    def __init__(self) -> None:
        self.settled = threading.Event()  # loaded or ended, whichever comes first
        self.ended = threading.Event()
        self.reason = ""


class MpvRenderer:
    """Plays videos and streams in mpv; one instance owns one mpv process."""

    def __init__(self, executable: str = "mpv", *, audio_output: str = "hdmi",
                 headless: bool = False, device_model: str | None = None,
                 load_timeout_s: float = LOAD_TIMEOUT_S) -> None:
        self.executable = executable
        self.headless = headless
        self.load_timeout_s = load_timeout_s
        model = read_device_model() if device_model is None else device_model
        self.audio = audio_device(audio_output, model)
        self._process: subprocess.Popen[bytes] | None = None
        self._dir: Path | None = None
        self._sock: socket.socket | None = None
        self._reader: threading.Thread | None = None
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._request_ids = 0
        self._replies: dict[int, tuple[threading.Event, dict[str, Any]]] = {}
        self._entries: dict[int, _Entry] = {}
        self._last_started: int | None = None
        self._entry: _Entry | None = None
        self._item: PlayableItem | None = None

    def start(self) -> None:
        """Launch mpv idle and connect to its IPC socket."""
        self._dir = Path(tempfile.mkdtemp(prefix="anthias-mpv-"))
        socket_path = self._dir / "ipc.sock"
        command = mpv_command(self.executable, socket_path, headless=self.headless,
                              audio=self.audio)
        logger.info("Starting mpv: %s", " ".join(command))
        try:
            self._process = subprocess.Popen(command, stdin=subprocess.DEVNULL,
                                             stdout=subprocess.DEVNULL,
                                             stderr=subprocess.DEVNULL, start_new_session=True)
            self._sock = self._connect(socket_path)
        except (OSError, PlayerUnavailable) as ex:
            self.close()
            raise StartupError(f"mpv did not start: {ex}") from ex
        self._reader = threading.Thread(target=self._read_loop, name="mpv-ipc", daemon=True)
        self._reader.start()

    def _connect(self, socket_path: Path) -> socket.socket:
        assert self._process is not None
        deadline = time.monotonic() + LAUNCH_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise PlayerUnavailable(f"mpv exited with code {self._process.returncode}")
            if socket_path.exists():
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    sock.connect(str(socket_path))
                    return sock
                except OSError:
                    sock.close()
            time.sleep(0.02)
        raise PlayerUnavailable("mpv did not open its IPC socket in time.")

    def show(self, item: PlayableItem) -> None:
        """Load ``item`` and return once mpv has opened it (or failed to)."""
        answer = self._command(["loadfile", item.uri, "replace"])
        entry_id = (answer or {}).get("playlist_entry_id")
        with self._lock:
            entry = self._entries.setdefault(entry_id, _Entry())
            self._entry, self._item = entry, item
        if not entry.settled.wait(self.load_timeout_s):
            logger.warning("mpv did not open %s in %.0f s", item.uri, self.load_timeout_s)
        elif entry.ended.is_set():
            logger.warning("mpv could not play %s (%s)", item.uri, entry.reason)

    def preload(self, item: PlayableItem) -> None:
        """Nothing to do: mpv opens files fast enough, and a second mpv would cost memory."""

    def wait_until_done(self, timeout_s: float, interrupt: threading.Event) -> str:
        """Videos run to their end, streams for ``timeout_s``; an interrupt stops at once."""
        entry, item = self._entry, self._item
        if entry is None or item is None:
            return "ended"
        if kind_of(item) == "stream":
            limit = timeout_s
        else:
            length = self._property("duration")
            limit = max(timeout_s, float(length) + VIDEO_GRACE_S) if length else float("inf")
        deadline = time.monotonic() + limit
        while not entry.ended.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.stop()
                return "timeout"
            if interrupt.wait(min(END_CHECK_S, remaining)):
                self.stop()
                return "interrupted"
        self._clear(entry)
        return "ended"

    def stop(self) -> None:
        """Stop playback; mpv goes back to idle (no window)."""
        entry = self._entry
        if self._sock is not None:
            self._command(["stop"])
        if entry is not None:
            entry.ended.wait(CALL_TIMEOUT_S)
            self._clear(entry)

    def current(self) -> str | None:
        """The asset id playing, or None."""
        item, entry = self._item, self._entry
        return item.asset_id if item is not None and entry and not entry.ended.is_set() else None

    def close(self) -> None:
        """Quit mpv, kill its process group and remove the socket directory."""
        if self._sock is not None:
            with contextlib.suppress(PlayerUnavailable):
                self._command(["quit"], timeout=1)
            self._sock.close()
            self._sock = None
        if self._process is not None:
            end_process_group(self._process)
            self._process = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
        self._entry, self._item = None, None

    # -- IPC -------------------------------------------------------------------------------

    def _clear(self, entry: _Entry) -> None:
        with self._lock:
            if self._entry is entry:
                self._entry, self._item = None, None

    def _property(self, name: str) -> Any:
        try:
            return self._command(["get_property", name])
        except PlayerUnavailable:
            return None

    def _command(self, command: list[Any], timeout: float = CALL_TIMEOUT_S) -> Any:
        if self._sock is None:
            raise PlayerUnavailable("mpv is not running.")
        with self._lock:
            self._request_ids += 1
            request_id = self._request_ids
            done: tuple[threading.Event, dict[str, Any]] = (threading.Event(), {})
            self._replies[request_id] = done
        line = json.dumps({"command": command, "request_id": request_id}) + "\n"
        try:
            with self._send_lock:
                self._sock.sendall(line.encode())
            if not done[0].wait(timeout):
                raise PlayerUnavailable(f"mpv did not answer {command[0]} in time.")
        except OSError as ex:
            raise PlayerUnavailable(f"mpv IPC failed: {ex}") from ex
        finally:
            with self._lock:
                self._replies.pop(request_id, None)
        reply = done[1]
        if reply.get("error") != "success":
            raise PlayerUnavailable(f"mpv {command[0]} failed: {reply.get('error')}")
        return reply.get("data")

    def _read_loop(self) -> None:
        assert self._sock is not None
        try:
            for line in self._sock.makefile("rb"):
                self._dispatch(json.loads(line))
        except (OSError, ValueError) as ex:
            logger.debug("mpv IPC closed: %s", ex)
        with self._lock:
            for event, _ in self._replies.values():
                event.set()
            for entry in self._entries.values():
                entry.reason = entry.reason or "quit"
                entry.ended.set()
                entry.settled.set()

    def _dispatch(self, message: dict[str, Any]) -> None:
        with self._lock:
            if "request_id" in message and "event" not in message:
                if pending := self._replies.get(message["request_id"]):
                    pending[1].update(message)
                    pending[0].set()
                return
            event = message.get("event")
            entry_id = message.get("playlist_entry_id", self._last_started)
            if event == "start-file":
                self._last_started = entry_id
                self._entries.setdefault(entry_id, _Entry())
            elif event == "file-loaded":
                self._entries.setdefault(self._last_started, _Entry()).settled.set()
            elif event == "end-file":
                entry = self._entries.setdefault(entry_id, _Entry())
                entry.reason = message.get("reason", "")
                if message.get("file_error"):
                    entry.reason += f": {message['file_error']}"
                entry.ended.set()
                entry.settled.set()
                # Forget old entries so a long-running player does not accumulate them.
                for old in [k for k in self._entries if k is not None and entry_id is not None
                            and k < entry_id - 16]:
                    del self._entries[old]
