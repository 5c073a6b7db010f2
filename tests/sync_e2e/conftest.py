"""Fixtures of the end-to-end tests: one cloud process per module, devices as processes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.sync_e2e.fault_proxy import FaultProxy
from tests.sync_e2e.harness import Cloud, Device, make_device, running_cloud


@pytest.fixture(scope="module")
def e2e_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sync-e2e")


@pytest.fixture(scope="module")
def logs(e2e_root: Path) -> Path:
    path = e2e_root / "logs"
    path.mkdir()
    return path


@pytest.fixture(scope="module")
def cloud(e2e_root: Path, logs: Path) -> Iterator[Cloud]:
    """The module's cloud (PostgreSQL), tenants ``alpha`` and ``beta``."""
    home = e2e_root / "cloud-home"
    home.mkdir()
    with running_cloud(home, logs) as running:
        yield running


@pytest.fixture(scope="module")
def proxy(cloud: Cloud) -> Iterator[FaultProxy]:
    """The fault-injecting proxy the devices reach the cloud through."""
    host, port = cloud.url.removeprefix("http://").split(":")
    running = FaultProxy(host, int(port))
    yield running
    running.close()


@pytest.fixture(scope="module")
def devices(e2e_root: Path, logs: Path) -> Iterator[Callable[..., Device]]:
    """``devices(name, cloud_url)``: a new device; every process stopped after the module."""
    made: list[Device] = []

    def make(name: str, cloud_url: str = "") -> Device:
        device = make_device(name, e2e_root, logs, cloud_url)
        made.append(device)
        return device

    yield make
    for device in made:
        device.stop_all()
