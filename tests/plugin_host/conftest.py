"""Fixtures of the plugin host tests: a site directory for test distributions, fresh managers."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pluggy
import pytest
from click.testing import CliRunner, Result

from anthias_edge.cli import main
from anthias_edge.plugins.manager import get_plugin_manager

# The v3 tenants-and-users world, for the tests of what v3 writes tell plugins.
from tests.api.v3.conftest import cheap_passwords, make_world  # noqa: F401


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A directory on ``sys.path`` where test distributions are installed; forgotten after."""
    path = tmp_path / "site"
    path.mkdir()
    monkeypatch.syspath_prepend(str(path))
    yield path
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", "") or "").startswith(str(path)):
            del sys.modules[name]


@pytest.fixture
def plugin_manager() -> pluggy.PluginManager:
    """A fresh pluggy manager with the hook specifications and no plugin (one per test)."""
    return get_plugin_manager()


@pytest.fixture
def cli(environ: dict[str, str]) -> Callable[..., Result]:
    """Run ``anthias-edge ARGS`` in-process on the test's HOME and database."""
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None, **env: str) -> Result:
        return runner.invoke(main, list(args), env={**environ, **env}, input=input)

    return invoke
