"""Renderer processes' stderr reaches the log, rate-limited."""

from __future__ import annotations

import logging
import subprocess
import sys

from player.renderers import OutputLogger


def test_a_chatty_process_is_logged_up_to_the_budget_then_counted(caplog):
    now = [0.0]
    output = OutputLogger("mpv", burst=3, window_s=60, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING):
        for n in range(10):
            output.line(f"line {n}\n")
        now[0] = 61.0
        output.line("after the window")
    messages = [r.getMessage() for r in caplog.records]
    assert messages == ["line 0", "line 1", "line 2",
                        "(7 more lines from mpv were not logged)", "after the window"]


def test_a_real_process_stderr_is_followed_to_its_end(caplog):
    process = subprocess.Popen([sys.executable, "-c", "import sys; sys.stderr.write('boom\\n')"],
                               stderr=subprocess.PIPE)
    with caplog.at_level(logging.WARNING):
        OutputLogger("chromium").follow(process).join(10)
    process.wait(10)
    assert "boom" in [r.getMessage() for r in caplog.records]
