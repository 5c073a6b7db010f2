"""Fail the session on any skipped test when ``ANTHIAS_FAIL_ON_SKIP=1`` (set by ``.ci/run``).

CI installs every package and service the suite needs, so a skip there means something is
missing, and a green run would hide the tests it skipped.
"""

from __future__ import annotations

import os

import pytest

ENV_VAR = "ANTHIAS_FAIL_ON_SKIP"


def _skip_reason(report: pytest.CollectReport | pytest.TestReport) -> str:
    # A skip's longrepr is (path, lineno, "Skipped: reason").
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


class SkipGuard:
    """Collects skips during the session and fails the session when there are any."""

    def __init__(self) -> None:
        self.skips: list[tuple[str, str]] = []

    def _record(self, report: pytest.CollectReport | pytest.TestReport) -> None:
        # An xfail is reported as skipped with `wasxfail`; it is not a skip.
        if report.skipped and not hasattr(report, "wasxfail"):
            self.skips.append((report.nodeid, _skip_reason(report)))

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        """Record a module skipped at collection, e.g. by ``pytest.importorskip``."""
        self._record(report)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Record a test skipped in setup or call."""
        self._record(report)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Turn an otherwise passing session with skips into a failing one."""
        if self.skips and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        """List every skip and its reason, above pytest's closing summary line."""
        if not self.skips:
            return
        terminalreporter.section(f"{ENV_VAR}=1: skipped tests fail this run", red=True)
        for nodeid, reason in self.skips:
            terminalreporter.line(f"SKIPPED {nodeid} - {reason}")


def pytest_configure(config: pytest.Config) -> None:
    """Register the guard when the environment asks for it."""
    if os.environ.get(ENV_VAR) == "1":
        config.pluginmanager.register(SkipGuard(), "anthias_ci_skip_guard")
