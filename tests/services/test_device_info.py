"""Tests for the device facts behind /api/v1/info, /api/v2/info and /api/v2/integrations."""

from __future__ import annotations

import ipaddress
import socket
from importlib import metadata

import pytest

import anthias_edge
from anthias_edge.services.device import info as device_info
from anthias_edge.services.device.info import (
    anthias_version,
    device_model,
    format_free_space,
    info_v1,
    info_v2,
    integrations,
    ip_addresses,
    mac_address,
    memory,
    uptime,
)

MEMINFO = """\
MemTotal:        3884172 kB
MemFree:         2264056 kB
MemAvailable:    3212340 kB
Buffers:           81600 kB
Cached:           901424 kB
SwapCached:            0 kB
Shmem:             40960 kB
SReclaimable:      51200 kB
HugePages_Total:       0
"""

PI_CPUINFO = """\
processor\t: 0
BogoMIPS\t: 108.00
Features\t: fp asimd evtstrm crc32 cpuid

Hardware\t: BCM2835
Revision\t: c03114
Serial\t\t: 10000000deadbeef
Model\t\t: Raspberry Pi 4 Model B Rev 1.4
"""


@pytest.fixture
def proc(tmp_path):
    """A fake /proc with the files device_info reads."""
    folder = tmp_path / "proc"
    folder.mkdir()
    (folder / "loadavg").write_text("0.52 0.58 0.594 1/345 12345\n")
    (folder / "uptime").write_text("90061.50 170000.00\n")
    (folder / "meminfo").write_text(MEMINFO)
    (folder / "cpuinfo").write_text(PI_CPUINFO)
    return folder


@pytest.mark.parametrize(
    ("num_bytes", "text"),
    [
        (0, "0B"),
        (1, "1B"),
        (1023, "1023B"),
        (1024, "1K"),
        (1536, "1K"),
        (1024**2 - 1, "1023K"),
        (1024**2, "1M"),
        (1024**3 * 80 - 1, "79G"),
        (1024**3 * 79, "79G"),
        (1024**4 * 2, "2T"),
        (1024**5 * 3, "3P"),
        (1024**6, "1024P"),
    ],
)
def test_free_space_is_formatted_like_hurry_filesize_traditional(num_bytes, text):
    assert format_free_space(num_bytes) == text


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        ("0.00", {"days": 0, "hours": 0.0}),
        ("86400.00", {"days": 1, "hours": 0.0}),
        ("90061.50", {"days": 1, "hours": 1.02}),
        ("172799.99", {"days": 1, "hours": 24.0}),
        ("1800", {"days": 0, "hours": 0.5}),
    ],
)
def test_uptime_is_whole_days_and_the_remaining_hours(tmp_path, seconds, expected):
    (tmp_path / "uptime").write_text(f"{seconds} 12.00\n")

    assert uptime(tmp_path) == expected


def test_memory_is_in_mib_with_used_computed_like_free(proc):
    kib = {"total": 3884172, "free": 2264056, "buff": 81600, "cached": 901424 + 51200}

    assert memory(proc) == {
        "total": kib["total"] >> 10,
        "used": (kib["total"] - kib["free"] - kib["buff"] - kib["cached"]) >> 10,
        "free": kib["free"] >> 10,
        "shared": 40960 >> 10,
        "buff": kib["buff"] >> 10,
        "available": 3212340 >> 10,
    }


def test_info_v1_has_anthias_keys_in_order(proc, tmp_path):
    body = info_v1(tmp_path, proc=proc)

    assert list(body) == ["viewlog", "loadavg", "free_space", "display_power", "up_to_date"]
    assert body["viewlog"] == "Not yet implemented"
    assert body["loadavg"] == 0.59
    assert body["free_space"][-1] in "BKMGTP"
    assert body["free_space"][:-1].isdigit()
    assert body["display_power"] is None
    assert body["up_to_date"] is True


def test_info_v2_adds_the_v2_fields_in_contract_order(proc, tmp_path):
    net = tmp_path / "net"
    (net / "eth0" / "device").mkdir(parents=True)
    (net / "eth0" / "address").write_text("dc:a6:32:01:02:03\n")
    environ = {
        "GIT_BRANCH": "main",
        "GIT_SHORT_HASH": "a1b2c3d",
        "MY_IP": "192.168.1.20",
        "HOST_USER": "pi",
    }

    body = info_v2(environ, root=tmp_path, proc=proc, sys_class_net=net)

    assert list(body) == [
        "viewlog",
        "loadavg",
        "free_space",
        "display_power",
        "up_to_date",
        "anthias_version",
        "device_model",
        "uptime",
        "memory",
        "ip_addresses",
        "mac_address",
        "host_user",
    ]
    assert body["anthias_version"] == "main@a1b2c3d"
    assert body["device_model"] == "Raspberry Pi 4 Model B Rev 1.4"
    assert body["uptime"] == {"days": 1, "hours": 1.02}
    assert body["ip_addresses"] == ["http://192.168.1.20"]
    assert body["mac_address"] == "dc:a6:32:01:02:03"
    assert body["host_user"] == "pi"


def test_without_git_variables_the_version_names_anthias_edge():
    assert anthias_version({"GIT_BRANCH": "main"}) == f"edge@{metadata.version('anthias-edge')}"


def test_the_version_falls_back_when_the_package_is_not_installed(monkeypatch):
    def not_installed(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(device_info.metadata, "version", not_installed)

    assert anthias_version({}) == f"edge@{anthias_edge.__version__}"


@pytest.mark.parametrize(
    ("cpuinfo", "machine", "expected"),
    [
        (PI_CPUINFO, "aarch64", "Raspberry Pi 4 Model B Rev 1.4"),
        ("processor\t: 0\nmodel name\t: Intel(R) Core(TM)\n", "x86_64", "Generic x86_64 Device"),
        ("processor\t: 0\n", "aarch64", "aarch64"),
        (None, "x86_64", "Generic x86_64 Device"),
        ("processor\t: 0\n", "", None),
    ],
)
def test_the_device_model_comes_from_cpuinfo_else_the_machine(tmp_path, cpuinfo, machine, expected):
    if cpuinfo is not None:
        (tmp_path / "cpuinfo").write_text(cpuinfo)

    assert device_model(tmp_path, machine) == expected


def test_my_ip_lists_the_addresses_as_links_without_loopback():
    environ = {"MY_IP": "192.168.1.5 127.0.0.1 ::1 2001:db8::5 not-an-ip 192.168.1.5"}

    assert ip_addresses(environ) == ["http://192.168.1.5", "http://[2001:db8::5]"]


def test_discovered_addresses_never_include_loopback():
    links = ip_addresses({})

    for link in links:
        host = link.removeprefix("http://").strip("[]")
        assert not ipaddress.ip_address(host).is_loopback
    assert len(set(links)) == len(links)


def test_no_address_at_all_gives_an_empty_list(monkeypatch):
    class NoRoute:
        def __init__(self, *args):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def connect(self, address):
            raise OSError("Network is unreachable")

    monkeypatch.setattr(
        device_info.socket,
        "getaddrinfo",
        lambda *a: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.1.1", 0))],
    )
    monkeypatch.setattr(device_info.socket, "socket", NoRoute)

    assert ip_addresses({}) == []


def test_the_mac_address_is_a_physical_interface_before_virtual_ones(tmp_path):
    for name, address, physical in [
        ("lo", "00:00:00:00:00:00", False),
        ("docker0", "02:42:ac:11:00:01", False),
        ("eth0", "dc:a6:32:01:02:03", True),
    ]:
        (tmp_path / name).mkdir()
        (tmp_path / name / "address").write_text(address + "\n")
        if physical:
            (tmp_path / name / "device").mkdir()

    assert mac_address(tmp_path) == "dc:a6:32:01:02:03"


def test_without_a_usable_interface_the_mac_address_says_so(tmp_path):
    (tmp_path / "lo").mkdir()
    (tmp_path / "lo" / "address").write_text("00:00:00:00:00:00\n")
    (tmp_path / "tun0").mkdir()
    (tmp_path / "tun0" / "address").write_text("\n")

    assert mac_address(tmp_path) == "Unable to retrieve MAC address."
    assert mac_address(tmp_path / "missing") == "Unable to retrieve MAC address."


def test_off_balena_every_integration_field_is_null():
    assert integrations({"HOST_USER": "pi"}) == {
        "is_balena": False,
        "balena_device_id": None,
        "balena_app_id": None,
        "balena_app_name": None,
        "balena_supervisor_version": None,
        "balena_host_os_version": None,
        "balena_device_name_at_init": None,
    }


def test_on_balena_the_integration_fields_come_from_the_environment():
    environ = {
        "BALENA_DEVICE_UUID": "a1b2c3",
        "BALENA_APP_ID": "42",
        "BALENA_APP_NAME": "anthias",
        "BALENA_SUPERVISOR_VERSION": "16.1.0",
        "BALENA_HOST_OS_VERSION": "balenaOS 5.3.0",
        "BALENA_DEVICE_NAME_AT_INIT": "shop-window",
    }

    body = integrations(environ)

    assert list(body) == [
        "is_balena",
        "balena_device_id",
        "balena_app_id",
        "balena_app_name",
        "balena_supervisor_version",
        "balena_host_os_version",
        "balena_device_name_at_init",
    ]
    assert body == {
        "is_balena": True,
        "balena_device_id": "a1b2c3",
        "balena_app_id": "42",
        "balena_app_name": "anthias",
        "balena_supervisor_version": "16.1.0",
        "balena_host_os_version": "balenaOS 5.3.0",
        "balena_device_name_at_init": "shop-window",
    }


def test_the_real_system_answers_every_v2_field():
    body = info_v2({})

    assert isinstance(body["loadavg"], float)
    assert set(body["memory"]) == {"total", "used", "free", "shared", "buff", "available"}
    assert body["memory"]["total"] > 0
    assert body["uptime"]["days"] >= 0
    assert body["free_space"][-1] in "BKMGTP"


@pytest.mark.parametrize(("listen", "urls", "loopback_only"), [
    ("0.0.0.0:8080", ["http://192.0.2.2:8080"], False),
    ("[::]:8080", ["http://192.0.2.2:8080", "http://[2001:db8::7]:8080"], False),
    ("0.0.0.0:80", ["http://192.0.2.2"], False),
    ("192.0.2.9:8080", ["http://192.0.2.9:8080"], False),
    ("127.0.0.1:8080", [], True),
    ("[::1]:8080", [], True),
    ("localhost:8080", [], True),
])
def test_dashboard_addresses_carry_the_port_and_know_loopback(listen, urls, loopback_only):
    found = device_info.dashboard_addresses({"MY_IP": "192.0.2.2 2001:db8::7"}, listen)
    assert (found.urls, found.loopback_only) == (urls, loopback_only)


def test_dashboard_addresses_take_the_served_port_when_listen_says_0():
    found = device_info.dashboard_addresses({"MY_IP": "192.0.2.2"}, "0.0.0.0:0", served_port=41234)
    assert found.urls == ["http://192.0.2.2:41234"]
