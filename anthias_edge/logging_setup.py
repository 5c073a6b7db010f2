"""Process-wide logging: one line per event on stderr (a traceback below it), text or JSON.

Configured once by the CLI before the app exists. Under systemd, journald adds
the timestamp to text lines; JSON lines carry their own for log collectors, and a
traceback there stays inside its one JSON object (``exc_info``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import logging.config
from typing import IO, Any

LOG_FORMATS = ("text", "json")
TEXT_FORMAT = "%(levelname)s %(name)s: %(message)s"
# Libraries that are chatty at INFO (APScheduler logs every job start and end).
QUIET_LOGGERS = ("apscheduler", "urllib3", "werkzeug")


class OneLineFormatter(logging.Formatter):
    """Text lines: the event on one line, a traceback on indented lines below it.

    Line breaks in the message are escaped, so a value logged from a request cannot
    forge a line that reads as another event; a traceback keeps its own lines (as
    Python prints it) with every one indented, so none of them can pass for an event
    either and a person reads it as usual.
    """

    def format(self, record: logging.LogRecord) -> str:
        """The escaped event line, then the indented traceback and stack lines."""
        record.message = record.getMessage()
        if self.usesTime():
            record.asctime = self.formatTime(record, self.datefmt)
        line = self.formatMessage(record).replace("\r", "\\r").replace("\n", "\\n")
        extra: list[str] = []
        if record.exc_info and not record.exc_text:
            # Cached like logging.Formatter does, for other handlers of the same record.
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            extra.append(record.exc_text)
        if record.stack_info:
            extra.append(self.formatStack(record.stack_info))
        lines = "\n".join(extra).splitlines()
        return "\n".join([line, *(f"  {text}" for text in lines)])


class JsonFormatter(logging.Formatter):
    """One JSON object per event: ts, level, logger, message and exc_info when present."""

    def format(self, record: logging.LogRecord) -> str:
        """Serialise the record; JSON escapes any line breaks in the message."""
        entry: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC)
            .isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def logging_config(
    log_format: str = "text", debug: bool = False, stream: IO[str] | None = None
) -> dict[str, Any]:
    """The ``dictConfig`` dictionary ``configure_logging`` applies."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log format {log_format!r} is not one of {', '.join(LOG_FORMATS)}")
    handler: dict[str, Any] = {
        "class": "logging.StreamHandler",
        "formatter": log_format,
        "stream": stream if stream is not None else "ext://sys.stderr",
    }
    return {
        "version": 1,
        # Modules create their loggers at import, which may come before this call.
        "disable_existing_loggers": False,
        "formatters": {
            "text": {"()": OneLineFormatter, "format": TEXT_FORMAT},
            "json": {"()": JsonFormatter},
        },
        "handlers": {"stderr": handler},
        "loggers": {name: {"level": "DEBUG" if debug else "WARNING"} for name in QUIET_LOGGERS},
        "root": {"level": "DEBUG" if debug else "INFO", "handlers": ["stderr"]},
    }


def configure_logging(
    log_format: str = "text", debug: bool = False, *, stream: IO[str] | None = None
) -> None:
    """Send every log event to stderr (or ``stream``), one line each, text or JSON.

    :param debug: log at DEBUG, libraries included, instead of INFO.
    """
    logging.config.dictConfig(logging_config(log_format, debug, stream))
