"""Videos and streams in one long-lived mpv, driven over its JSON IPC socket.

A video plays to its natural end (docs/legacy-api.md §8.4: the duration is not used); a
stream plays for the asset's duration. ``next`` stops playback at once. Audio goes to
the ALSA device chosen by ``audio_output`` (see ``audio_device``).

The video output is named (``--vo=gpu --gpu-api=opengl``) rather than probed: with
probing, every file after an idle spell re-probed the outputs, and the third probe on
an X server without a usable GPU context broke mpv's X connection, killing mpv (the
``mpv IPC failed: [Errno 32] Broken pipe`` restart loop). ``keep-open=always`` holds a
video's last frame on screen after its end, so the screen is never black while the next
asset is put in place; the end is seen through the ``eof-reached`` property.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
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
from player.qr_overlay import QrOverlay, bgra_bitmap, placement, plate_side
from player.renderers import OutputLogger, PlayableItem, end_process_group, kind_of
from player.stacking import WindowRaiser

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
# show() returns at the first frame, or after this long without one (a slow stream).
FIRST_FRAME_TIMEOUT_S = 3.0
# How much of a local video preload asks the kernel to read ahead.
PRELOAD_BYTES = 32 << 20
# mpv's id for the QR code overlay (overlay-add keeps one image per id).
QR_OVERLAY_ID = 0


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
                audio: str | None, screen_size: tuple[int, int] | None = None,
                title: str | None = None) -> list[str]:
    """The mpv command line: idle, IPC on ``socket_path``, no video/audio when headless.

    With ``screen_size`` (an X server, perhaps without a window manager to honour
    ``--fs``) the window is also placed at 0,0 with the screen's size and no border, and
    made once at start under ``title`` (``--force-window``), for the player to raise.
    Warnings and errors go to stderr, which the renderer logs.
    """
    command = [executable, "--idle=yes", f"--input-ipc-server={socket_path}", "--quiet",
               "--msg-level=all=warn", "--no-input-terminal", "--keep-open=always",
               "--no-input-default-bindings", "--osc=no", "--osd-level=0"]
    if headless:
        return [*command, "--vo=null", "--ao=null"]
    # --gpu-sw: accept a software OpenGL (Xvfb, some VMs) instead of falling through
    # the probe chain; a real GPU is used as before.
    command += ["--fs", "--vo=gpu,x11", "--gpu-api=opengl", "--gpu-sw", "--hwdec=auto",
                "--no-border", "--cursor-autohide=always"]
    if screen_size:
        command.append(f"--geometry={screen_size[0]}x{screen_size[1]}+0+0")
        if title:
            command += ["--force-window=yes", f"--title={title}"]
    return [*command, f"--audio-device={audio}"] if audio else command


class _Entry:
    """What mpv reported about one loaded file."""

    def __init__(self) -> None:
        self.settled = threading.Event()  # loaded or ended, whichever comes first
        self.playing = threading.Event()  # the first frame is out (or the file ended)
        self.ended = threading.Event()
        self.reason = ""


class MpvRenderer:
    """Plays videos and streams in mpv; one instance owns one mpv process."""

    def __init__(self, executable: str = "mpv", *, audio_output: str = "hdmi",
                 headless: bool = False, device_model: str | None = None,
                 load_timeout_s: float = LOAD_TIMEOUT_S,
                 screen_size: tuple[int, int] | None = None) -> None:
        self.executable = executable
        self.headless = headless
        self.screen_size = screen_size
        self._title = f"anthias-mpv-{os.getpid()}-{id(self):x}"
        self._raiser = WindowRaiser(os.environ.get("DISPLAY"), self._title) \
            if screen_size and not headless else None
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
        self._ipc_closed = threading.Event()
        self._observer_ids = 0
        self._eof_observer: int | None = None
        self._observers: dict[int, _Entry] = {}
        self._overlay: tuple[QrOverlay, tuple[int, int]] | None = None
        self._overlay_file: Path | None = None

    def start(self) -> None:
        """Launch mpv idle and connect to its IPC socket."""
        self._dir = Path(tempfile.mkdtemp(prefix="anthias-mpv-"))
        socket_path = self._dir / "ipc.sock"
        command = mpv_command(self.executable, socket_path, headless=self.headless,
                              audio=self.audio, screen_size=self.screen_size,
                              title=self._title)
        logger.info("Starting mpv: %s", " ".join(command))
        self._ipc_closed.clear()
        try:
            self._process = subprocess.Popen(command, stdin=subprocess.DEVNULL,
                                             stdout=subprocess.DEVNULL,
                                             stderr=subprocess.PIPE, start_new_session=True)
            OutputLogger("mpv").follow(self._process)
            self._sock = self._connect(socket_path)
            self._reader = threading.Thread(target=self._read_loop, name="mpv-ipc",
                                            daemon=True)
            self._reader.start()
        except (OSError, PlayerUnavailable) as ex:
            self.close()
            raise StartupError(f"mpv did not start: {ex}") from ex

    def keep_pixels_on_expose(self) -> None:
        """Let other windows keep the outgoing picture until they repaint (X11 only)."""
        if self._raiser is not None:
            self._raiser.keep_pixels_on_expose()

    def raise_window(self) -> bool:
        """Put mpv's window above Chromium's (X11 without a window manager too)."""
        return self._stack(on_top=True)

    def lower_window(self) -> bool:
        """Put mpv's window under Chromium's, which then shows (X11 only).

        Chromium sets its window's background to the page's colour as pages change (the
        stage page's is black), and the X server paints that background the moment the
        window is uncovered: it is taken away again first, so the last video frame stays
        until Chromium has drawn.
        """
        if self._raiser is not None:
            self._raiser.keep_pixels_on_expose()
        return self._stack(on_top=False)

    def _stack(self, *, on_top: bool) -> bool:
        # Not mpv's own ``ontop``: without a window manager mpv restacks its window on its
        # own thread, racing the request below, and with one a focused full-screen
        # Chromium stays above "on top" windows; the raiser handles both cases.
        if self._raiser is None:
            return False
        return self._raiser.raise_window() if on_top else self._raiser.lower_window()

    @property
    def alive(self) -> bool:
        """Whether the mpv process runs and its IPC connection is open."""
        return (self._process is not None and self._process.poll() is None
                and self._sock is not None and not self._ipc_closed.is_set())

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
        """Load ``item`` and return once its first frame is out (or it failed to open).

        Returning only then lets the caller keep the outgoing picture up until now. The
        asset's QR code is put up before the file loads, so its first frame has it.
        """
        self._show_overlay(item.qr_overlay)
        answer = self._command(["loadfile", item.uri, "replace"])
        # keep-open paused the player at the last file's end, and pause carries over.
        self._command(["set_property", "pause", False])
        entry_id = (answer or {}).get("playlist_entry_id")
        with self._lock:
            entry = self._entries.setdefault(entry_id, _Entry())
            self._entry, self._item = entry, item
        if not entry.settled.wait(self.load_timeout_s):
            logger.warning("mpv did not open %s in %.0f s", item.uri, self.load_timeout_s)
        elif entry.ended.is_set():
            logger.warning("mpv could not play %s (%s)", item.uri, entry.reason)
        else:
            self._watch_end(entry)
            if not entry.playing.wait(FIRST_FRAME_TIMEOUT_S):
                logger.debug("mpv showed no frame of %s within %.1f s", item.uri,
                             FIRST_FRAME_TIMEOUT_S)
            if item.qr_overlay is not None and self._overlay is None:
                # The window's size was unknown before the file opened (no screen size, as
                # on Wayland): the code comes with the window, a moment after the first frame.
                self._show_overlay(item.qr_overlay)

    def _show_overlay(self, overlay: QrOverlay | None) -> None:
        """Draw ``overlay`` over the video from now on, or take the drawn one away.

        ``overlay-add`` draws a raw BGRA image in window pixels on mpv's OSD layer; it
        stays through file changes until removed, and is drawn by the video output itself
        (no filter: switching files costs nothing more).
        """
        screen = self._window_size() if overlay is not None else None
        wanted = (overlay, screen) if overlay is not None and screen is not None else None
        if wanted == self._overlay:
            return
        previous = self._overlay_file
        if wanted is None:
            if self._overlay is not None:
                self._command(["overlay-remove", QR_OVERLAY_ID])
            self._overlay, self._overlay_file = None, None
        else:
            assert overlay is not None and screen is not None and self._dir is not None
            width, height = screen
            side, pixels = bgra_bitmap(overlay.url, plate_side(overlay.size_pct, height))
            x, y = placement(overlay.corner, side, width, height)
            name = hashlib.sha256(overlay.url.encode()).hexdigest()[:16]
            path = self._dir / f"qr-{name}-{side}.bgra"
            path.write_bytes(pixels)
            self._command(["overlay-add", QR_OVERLAY_ID, x, y, str(path), 0, "bgra",
                           side, side, side * 4])
            self._overlay, self._overlay_file = wanted, path
        if previous is not None and previous != self._overlay_file:
            # mpv has read or mapped it; the name can go (a mapping outlives the unlink).
            previous.unlink(missing_ok=True)

    def _window_size(self) -> tuple[int, int] | None:
        """The window's size in pixels: the screen's when known, else what mpv reports."""
        if self.headless:
            return None
        if self.screen_size:
            return self.screen_size
        width, height = self._property("osd-width"), self._property("osd-height")
        if isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0:
            return width, height
        return None

    def _watch_end(self, entry: _Entry) -> None:
        """Observe ``eof-reached`` for this file: with keep-open its end sends no end-file.

        One observer per file: mpv reports a property only when its value changes, so
        one long-lived observer misses the second of two videos that both end (true,
        then true again). A fresh observer first reports the loaded file's own value.
        """
        with self._lock:
            self._observer_ids += 1
            observer, previous = self._observer_ids, self._eof_observer
            self._observers = {observer: entry}
            self._eof_observer = observer
        if previous is not None:
            self._command(["unobserve_property", previous])
        self._command(["observe_property", observer, "eof-reached"])

    def preload(self, item: PlayableItem) -> None:
        """Ask the kernel to read a local file ahead, so its start does not wait on storage.

        A second mpv holding the next video would double the memory a Pi can ill spare;
        the page cache gives most of the gain (an SD card is the slow part). Handing mpv
        the next file ahead (``loadfile … append`` with ``--prefetch-playlist``, then
        ``playlist-next``) was measured no faster than ``loadfile … replace`` on a cached
        file: the decoder and video output start over either way. The item's QR code is
        drawn now too, so ``show`` only hands it to mpv.
        """
        if item.qr_overlay is not None and (screen := self._window_size()) is not None:
            bgra_bitmap(item.qr_overlay.url, plate_side(item.qr_overlay.size_pct, screen[1]))
        if not item.uri.startswith("/"):
            return
        try:
            fd = os.open(item.uri, os.O_RDONLY)
        except OSError:
            return
        try:
            os.posix_fadvise(fd, 0, PRELOAD_BYTES, os.POSIX_FADV_WILLNEED)
        except OSError:
            pass
        finally:
            os.close(fd)

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
        self._ipc_closed.set()  # from here on, a closing connection is expected
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
        self._eof_observer, self._observers = None, {}
        self._overlay, self._overlay_file = None, None
        if self._raiser is not None:
            self._raiser.close()

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
        if self._sock is None or self._ipc_closed.is_set():
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
        sock = self._sock
        assert sock is not None
        try:
            for line in sock.makefile("rb"):
                self._dispatch(json.loads(line))
        except (OSError, ValueError) as ex:
            logger.debug("mpv IPC closed: %s", ex)
        if self._sock is sock and not self._ipc_closed.is_set():
            # Not our close(): mpv went away by itself (its stderr, logged, says why).
            process = self._process
            logger.warning("mpv closed its IPC connection (exit code %s)",
                           process.poll() if process is not None else None)
            self._ipc_closed.set()
        with self._lock:
            for event, _ in self._replies.values():
                event.set()
            for entry in self._entries.values():
                entry.reason = entry.reason or "quit"
                entry.ended.set()
                entry.settled.set()
                entry.playing.set()

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
            elif event == "playback-restart":
                self._entries.setdefault(self._last_started, _Entry()).playing.set()
            elif event == "property-change" and message.get("id") in self._observers:
                if message.get("data") is True:
                    entry = self._observers[message["id"]]
                    entry.reason = entry.reason or "eof"
                    entry.ended.set()
                    entry.settled.set()
                    entry.playing.set()
            elif event == "end-file":
                entry = self._entries.setdefault(entry_id, _Entry())
                entry.reason = message.get("reason", "")
                if message.get("file_error"):
                    entry.reason += f": {message['file_error']}"
                entry.ended.set()
                entry.settled.set()
                entry.playing.set()
                # Forget old entries so a long-running player does not accumulate them.
                for old in [k for k in self._entries if k is not None and entry_id is not None
                            and k < entry_id - 16]:
                    del self._entries[old]
