"""What the device tells about itself: ``/api/v1/info``, ``/api/v2/info`` and integrations.

Plain functions reading ``/proc``, ``/sys`` and the environment; every path and the environment
can be passed in, so tests run them on files they write (docs/legacy-api.md §3.14 and §3.18).
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import platform
import shutil
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from anthias_edge import __version__

logger = logging.getLogger(__name__)

PROC = Path("/proc")
SYS_CLASS_NET = Path("/sys/class/net")
NO_MAC_ADDRESS = "Unable to retrieve MAC address."
FALLBACK_VERSION = __version__  # the source tree's, when no package metadata is installed
# hurry.filesize's "traditional" system: 1024-based, one letter, largest unit first.
_TRADITIONAL_UNITS = ((1024**5, "P"), (1024**4, "T"), (1024**3, "G"), (1024**2, "M"), (1024, "K"))
# Documentation-only addresses (RFC 5737, RFC 3849): connecting a UDP socket sends nothing.
_PROBE_TARGETS = ((socket.AF_INET, "192.0.2.1"), (socket.AF_INET6, "2001:db8::1"))
_BALENA_FIELDS = (
    ("balena_device_id", "BALENA_DEVICE_UUID"),
    ("balena_app_id", "BALENA_APP_ID"),
    ("balena_app_name", "BALENA_APP_NAME"),
    ("balena_supervisor_version", "BALENA_SUPERVISOR_VERSION"),
    ("balena_host_os_version", "BALENA_HOST_OS_VERSION"),
    ("balena_device_name_at_init", "BALENA_DEVICE_NAME_AT_INIT"),
)


def format_free_space(num_bytes: int) -> str:
    """Format a byte count as hurry.filesize "traditional" does: ``79G``, ``1023B``, ``0B``."""
    for factor, suffix in _TRADITIONAL_UNITS:
        if num_bytes >= factor:
            return f"{num_bytes // factor}{suffix}"
    return f"{num_bytes}B"


def load_average(proc: Path = PROC) -> float:
    """The 15-minute load average, rounded to 2 decimals."""
    return round(float((proc / "loadavg").read_text().split()[2]), 2)


def info_v1(root: Path = Path("/"), *, proc: Path = PROC, display_power: str | None = None) -> dict:
    """The body of ``GET /api/v1/info``, keys in Anthias's order.

    :param display_power: the display's power state once CEC is supported; ``None`` until then.
    """
    return {
        "viewlog": "Not yet implemented",
        "loadavg": load_average(proc),
        "free_space": format_free_space(shutil.disk_usage(root).free),
        "display_power": display_power,
        # Anthias says true whenever it cannot tell; we have no remote version to compare with.
        "up_to_date": True,
    }


def anthias_version(environ: Mapping[str, str]) -> str:
    """``<GIT_BRANCH>@<GIT_SHORT_HASH>`` when both are set, else ``edge@<our version>``."""
    branch, short_hash = environ.get("GIT_BRANCH"), environ.get("GIT_SHORT_HASH")
    if branch and short_hash:
        return f"{branch}@{short_hash}"
    try:
        version = metadata.version("anthias-edge")
    except metadata.PackageNotFoundError:
        version = FALLBACK_VERSION
    return f"edge@{version}"


def device_model(proc: Path = PROC, machine: str | None = None) -> str | None:
    """The ``Model`` line of ``/proc/cpuinfo`` (Raspberry Pi), else a name from the machine type."""
    with contextlib.suppress(OSError):
        for line in (proc / "cpuinfo").read_text(errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "Model" and value.strip():
                return value.strip()
    machine = platform.machine() if machine is None else machine
    if machine == "x86_64":
        return "Generic x86_64 Device"
    return machine or None


def uptime(proc: Path = PROC) -> dict[str, int | float]:
    """Whole days and the remaining hours (2 decimals) since boot: 86400 s is 1 day, 0.0 hours."""
    seconds = float((proc / "uptime").read_text().split()[0])
    return {"days": int(seconds // 86400), "hours": round(seconds % 86400 / 3600, 2)}


def memory(proc: Path = PROC) -> dict[str, int]:
    """Memory in MiB from ``/proc/meminfo``, computed the way ``free`` and psutil do."""
    fields: dict[str, int] = {}
    for line in (proc / "meminfo").read_text().splitlines():
        key, _, value = line.partition(":")
        with contextlib.suppress(ValueError, IndexError):
            fields[key.strip()] = int(value.split()[0]) * 1024
    total, free = fields.get("MemTotal", 0), fields.get("MemFree", 0)
    buffers = fields.get("Buffers", 0)
    cached = fields.get("Cached", 0) + fields.get("SReclaimable", 0)
    used = total - free - buffers - cached
    if used < 0:  # as psutil: some kernels (containers) report odd cache sizes
        used = total - free
    available = fields.get("MemAvailable", free + buffers + cached)
    shared = fields.get("Shmem", fields.get("MemShared", 0))
    values = (total, used, free, shared, buffers, available)
    names = ("total", "used", "free", "shared", "buff", "available")
    return {name: value >> 20 for name, value in zip(names, values, strict=True)}


def _usable(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return None
    if ip.is_loopback or ip.is_unspecified or (ip.version == 6 and ip.is_link_local):
        return None
    return ip


def _discover_addresses() -> list[str]:
    """The host's addresses: its name's, plus the source address a route out would use."""
    found: list[str] = []
    with contextlib.suppress(OSError):
        for *_, sockaddr in socket.getaddrinfo(socket.gethostname(), None):
            found.append(str(sockaddr[0]))
    for family, target in _PROBE_TARGETS:
        with contextlib.suppress(OSError), socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.connect((target, 9))  # UDP connect only picks a route; no packet leaves
            found.append(probe.getsockname()[0])
    return found


def ip_addresses(environ: Mapping[str, str]) -> list[str]:
    """The device's non-loopback addresses as ``http://a.b.c.d`` / ``http://[v6]`` links.

    ``MY_IP`` (space-separated) wins when set; otherwise the addresses are discovered.
    """
    candidates = environ.get("MY_IP", "").split() or _discover_addresses()
    links: list[str] = []
    for candidate in candidates:
        ip = _usable(candidate)
        if ip is None:
            continue
        link = f"http://{ip}" if ip.version == 4 else f"http://[{ip}]"
        if link not in links:
            links.append(link)
    return links


@dataclass(frozen=True)
class DashboardAddresses:
    """Where another machine opens the dashboard, given the address the server listens on.

    ``urls`` are ``http://a.b.c.d:port`` / ``http://[v6]:port`` (no port for 80); they are empty
    when ``loopback_only``: a server bound to 127.0.0.1 cannot be reached from elsewhere, and
    offering the device's LAN address would send people to a page that never opens.
    """

    urls: list[str]
    listen: str
    loopback_only: bool


def _split_listen(listen: str) -> tuple[str, int]:
    host, _, port = listen.strip().rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port) if port.isdecimal() else 0


def _link(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}" if port == 80 else f"http://{shown}:{port}"


def dashboard_addresses(environ: Mapping[str, str], listen: str,
                        served_port: int | None = None) -> DashboardAddresses:
    """The URLs that open the dashboard from another machine, port included.

    :param listen: the server's ``HOST:PORT`` (the ``listen`` setting).
    :param served_port: the port the request came in on, used when ``listen`` says port 0.
    """
    host, port = _split_listen(listen)
    if port == 0 and served_port:
        port = served_port
        listen = f"{listen.rpartition(':')[0]}:{port}"
    if host == "localhost" or (_is_ip(host) and ipaddress.ip_address(host).is_loopback):
        return DashboardAddresses([], listen, loopback_only=True)
    if host in ("", "0.0.0.0", "::"):
        # 0.0.0.0 binds IPv4 only; :: takes both on Linux (IPV6_V6ONLY off by default).
        links = [link for link in ip_addresses(environ)
                 if host == "::" or not link.startswith("http://[")]
        urls = [_link(link.removeprefix("http://").strip("[]"), port) for link in links]
        return DashboardAddresses(urls, listen, loopback_only=False)
    return DashboardAddresses([_link(host, port)], listen, loopback_only=False)


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def mac_address(sys_class_net: Path = SYS_CLASS_NET) -> str:
    """The MAC address of the first network interface, physical ones first, loopback never."""
    try:
        interfaces = sorted(
            sys_class_net.iterdir(), key=lambda p: (not (p / "device").exists(), p.name)
        )
    except OSError:
        return NO_MAC_ADDRESS
    for interface in interfaces:
        if interface.name == "lo":
            continue
        with contextlib.suppress(OSError):
            address = (interface / "address").read_text().strip()
            if address and address.strip("0:"):
                return address
    return NO_MAC_ADDRESS


def info_v2(
    environ: Mapping[str, str] | None = None,
    *,
    root: Path = Path("/"),
    proc: Path = PROC,
    sys_class_net: Path = SYS_CLASS_NET,
    machine: str | None = None,
    display_power: str | None = None,
) -> dict[str, Any]:
    """The body of ``GET /api/v2/info``: the v1 fields, then the v2 ones, in Anthias's order."""
    environ = os.environ if environ is None else environ
    return {
        **info_v1(root, proc=proc, display_power=display_power),
        "anthias_version": anthias_version(environ),
        "device_model": device_model(proc, machine),
        "uptime": uptime(proc),
        "memory": memory(proc),
        "ip_addresses": ip_addresses(environ),
        "mac_address": mac_address(sys_class_net),
        "host_user": environ.get("HOST_USER"),
    }


def integrations(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The body of ``GET /api/v2/integrations``: balena details, all null off balena."""
    environ = os.environ if environ is None else environ
    on_balena = bool(environ.get("BALENA_DEVICE_UUID"))
    body: dict[str, Any] = {"is_balena": on_balena}
    for field, variable in _BALENA_FIELDS:
        body[field] = environ.get(variable) if on_balena else None
    return body
