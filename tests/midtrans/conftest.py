"""Fixtures of the Midtrans tests: the emulator on loopback and a provider pointed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from anthias_edge.plugins.builtin.midtrans import build_provider
from anthias_edge.plugins.builtin.midtrans.provider import MidtransProvider

# The v3 tenants-and-users world, served for the webhook tests.
from tests.api.v3.conftest import cheap_passwords, make_world, world  # noqa: F401
from tests.midtrans_emulator import Emulator, running_emulator


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """A fresh Midtrans emulator on a free 127.0.0.1 port."""
    with running_emulator() as running:
        yield running


def emulator_settings(emulator: Emulator, **overrides: Any) -> dict[str, Any]:
    """The midtrans plugin's settings pointing at ``emulator``."""
    return {"server_key": emulator.server_key, "environment": "sandbox",
            "snap_url": emulator.snap_url(), "api_url": emulator.url,
            "notification_url": "", "timeout_seconds": 5, "retries": 2, **overrides}


@pytest.fixture
def make_provider(emulator: Emulator) -> Callable[..., MidtransProvider]:
    """Build a provider on the emulator; backoff sleeps are recorded, not slept."""
    def build(**overrides: Any) -> MidtransProvider:
        sleeps: list[float] = []
        provider = build_provider(emulator_settings(emulator, **overrides),
                                  sleep=sleeps.append)
        provider.sleeps = sleeps  # type: ignore[attr-defined]
        return provider

    return build
