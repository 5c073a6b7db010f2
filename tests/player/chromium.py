"""The player's browser renderer on a real headless Chromium, for the tests that look at it."""

from __future__ import annotations

from collections.abc import Iterator

from player.renderers import find_chromium
from player.renderers.browser import BrowserRenderer


def headless_browser(size: tuple[int, int]) -> Iterator[BrowserRenderer]:
    """Yield a started headless renderer with a ``size`` window; close it afterwards.

    For a fixture to ``yield from``. No skip when Chromium is missing: CI installs it, and a
    skip would hide these tests.
    """
    executable = find_chromium()
    assert executable, "Chromium is not installed (apt-get install chromium)"
    renderer = BrowserRenderer(executable, headless=True, window_size=size)
    renderer.start()
    try:
        yield renderer
    finally:
        renderer.close()
