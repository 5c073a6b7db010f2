"""The system Chromium under Playwright, launched the same way for every browser benchmark.

``benchmarks/web_ui.py`` (the device dashboard) and ``benchmarks/console.py`` (the cloud
console) measure pages in the same browser with the same switches, so that their figures
compare; a benchmark adds only what its server needs (a host resolver rule, say).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

CHROMIUM = "/usr/bin/chromium"
# Headless, no GPU, and none of Chromium's own traffic (updates, sync, first-run pages)
# competing with the page being measured.
CHROMIUM_ARGS = ("--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run")


@contextmanager
def chromium(*extra_args: str) -> Iterator[Any]:
    """Playwright's Browser for the system Chromium with ``CHROMIUM_ARGS`` and
    ``extra_args``; closed, with Playwright, when the block ends."""
    # Imported here so that ``--help`` works without Playwright installed.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                             args=[*CHROMIUM_ARGS, *extra_args])
        try:
            yield browser
        finally:
            browser.close()
