"""Helpers the commands share: settings, option parsing, driver checks, progress bars."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from anthias_edge.errors import AnthiasError
    from anthias_edge.settings import Settings

LISTEN_HINT = "must be HOST:PORT, e.g. 127.0.0.1:8080"


class BadUsage(click.ClickException):
    """A wrong option value: one ``Error:`` line and exit code 2, without the usage block.

    ``click.UsageError`` raised inside a command gets the usage text prepended by click.
    """

    exit_code = 2


def error_message(exc: AnthiasError) -> str:
    """One line for a domain error, field errors included."""
    field_errors = getattr(exc, "field_errors", None)
    if field_errors:
        fields = "; ".join(f"{name}: {' '.join(messages)}"
                           for name, messages in field_errors.items())
        return f"{exc.message} {fields}"
    return exc.message


def load_settings() -> Settings:
    """The settings of ``$HOME`` and the environment (a broken value raises InvalidSetting)."""
    from anthias_edge.settings import Settings

    return Settings.load(Path(os.environ.get("HOME") or Path.home()))


def configure_logging(settings: Settings) -> None:
    """Configure logging once, before the app exists, from the log settings."""
    from anthias_edge.logging_setup import configure_logging as configure

    configure(settings["log_format"], bool(settings["debug_logging"]))


def parse_listen(value: str) -> tuple[str, int]:
    """Split ``HOST:PORT`` (``[::1]:8080`` for IPv6); raise ValueError when it is not one."""
    host, sep, port = value.strip().rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not sep or not host or not port.isdecimal() or int(port) > 65535:
        raise ValueError(value)
    return host, int(port)


@contextlib.contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int, int], None]]:
    """A ``progress(done, total)`` callback drawing a click progress bar on stderr.

    The bar is created on the first call, when the total is known.
    """
    with contextlib.ExitStack() as stack:
        bars: list[Any] = []

        def update(done: int, total: int) -> None:
            if not bars:
                bars.append(stack.enter_context(click.progressbar(
                    length=total, label=label, file=sys.stderr)))
            bars[0].update(done - bars[0].pos)

        yield update
