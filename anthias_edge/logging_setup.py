"""Process-wide logging: one line per event on stderr, as text or JSON.

Configured once by the CLI before the app exists. Under systemd, journald adds
the timestamp to text lines; JSON lines carry their own for log collectors.
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
    """Text lines; a traceback's line breaks are escaped so an event stays one line."""

    def format(self, record: logging.LogRecord) -> str:
        """Format as usual, then escape line breaks."""
        return super().format(record).replace("\n", "\\n")


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
