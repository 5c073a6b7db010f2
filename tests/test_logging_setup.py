"""Logging configuration: one line per event on stderr, text or JSON."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from anthias_edge.logging_setup import QUIET_LOGGERS, configure_logging


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """configure_logging changes process-wide state; give the next test what it had."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    quiet_levels = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    yield
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    for handler in handlers:
        if handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(level)
    for name, quiet_level in quiet_levels.items():
        logging.getLogger(name).setLevel(quiet_level)


def fail() -> None:
    raise RuntimeError("boom")


def test_json_lines_go_to_stderr_and_parse_with_their_fields(capsys):
    configure_logging("json")

    logging.getLogger("anthias_edge.test").info("served %d requests", 3)

    line = capsys.readouterr().err.strip()
    entry = json.loads(line)
    assert entry["level"] == "INFO" and entry["logger"] == "anthias_edge.test"
    assert entry["message"] == "served 3 requests"
    assert entry["ts"].endswith("+00:00") and "T" in entry["ts"]
    assert "exc_info" not in entry


def test_json_line_carries_the_traceback_of_an_exception():
    stream = io.StringIO()
    configure_logging("json", stream=stream)

    try:
        fail()
    except RuntimeError:
        logging.getLogger("anthias_edge.test").exception("job failed")

    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["level"] == "ERROR" and entry["message"] == "job failed"
    assert "RuntimeError: boom" in entry["exc_info"]


def test_text_tracebacks_are_written_as_lines_a_person_can_read():
    stream = io.StringIO()
    configure_logging("text", stream=stream)

    try:
        fail()
    except RuntimeError:
        logging.getLogger("anthias_edge.test").exception("job failed")

    lines = stream.getvalue().splitlines()
    assert "\\n" not in stream.getvalue()
    assert lines[0] == "ERROR anthias_edge.test: job failed"
    # The traceback follows on lines of its own, indented so none can pass for an event.
    assert lines[1] == "  Traceback (most recent call last):"
    assert any(line.strip().startswith('File "') and "in fail" in line for line in lines)
    assert lines[-1] == "  RuntimeError: boom"
    assert all(line.startswith("  ") for line in lines[1:])


def test_a_line_break_in_a_message_cannot_forge_another_event():
    stream = io.StringIO()
    configure_logging("text", stream=stream)

    logging.getLogger("anthias_edge.test").info("name=%s", "x\nERROR anthias_edge.auth: forged")

    assert stream.getvalue().splitlines() == [
        "INFO anthias_edge.test: name=x\\nERROR anthias_edge.auth: forged"]


def test_info_is_the_default_level_and_debug_turns_on_debug():
    stream = io.StringIO()
    configure_logging(stream=stream)
    logging.getLogger("anthias_edge.test").debug("hidden")
    logging.getLogger("apscheduler.executors.default").info("Running job")

    configure_logging(debug=True, stream=stream)
    logging.getLogger("anthias_edge.test").debug("shown")

    assert stream.getvalue() == "DEBUG anthias_edge.test: shown\n"


def test_loggers_created_before_configuration_still_log():
    early = logging.getLogger("anthias_edge.created_early")
    stream = io.StringIO()
    configure_logging(stream=stream)

    early.warning("still here")

    assert stream.getvalue() == "WARNING anthias_edge.created_early: still here\n"


def test_an_unknown_log_format_is_refused():
    with pytest.raises(ValueError, match="xml"):
        configure_logging("xml")
