"""The image's first boot, run in a Debian 12 tree against a real cloud on loopback.

The tree is the shared debootstrap fixture (tests/provisioning/debootstrap.py) with the
image stage applied the way pi-gen applies it: the rendered ``01-run.sh`` copies the stage's
files in (units, first-boot script, boot partition files) and ``01-run-chroot.sh`` runs inside
it (the anthias user from the sysusers file, the release venv from the wheelhouse, the units
enabled). Only apt's packages (Chromium, mpv, cage) and the arm64 wheels differ: the tree
runs on this host, so its wheelhouse holds this host's wheels.

The cloud is the cloud app on a PostgreSQL database of its own, served on 127.0.0.1 by a
process of its own (tests/web/cloud_process.py). A plain chroot shares the host's network
namespace, so ``anthias-edge link`` inside the tree reaches it at its loopback address.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from cloud_sync.protocol import load_private_key, public_key_b64
from tests.provisioning.debootstrap import chroot_run, debootstrap_gap, fresh_root
from tests.web.cloud_process import CloudProcess, cloud_process

# The cloud's database: PostgreSQL is needed, so this runs in the PostgreSQL pass only.
pytestmark = [pytest.mark.postgres, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "image-build" / "build.sh"
BOOT = "boot/firmware"
FIRSTBOOT = "/usr/local/sbin/anthias-firstboot"
BOOT_BOUND_S = 300


@pytest.fixture(scope="module")
def image_root(debian_tree: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A Debian 12 root with the image stage applied (read-only: use ``device_root``)."""
    gap = debootstrap_gap()
    if gap:
        pytest.skip(gap)
    tmp = tmp_path_factory.mktemp("image")
    rendered = subprocess.run(
        [str(BUILD), "--dry-run", str(tmp / "out")], capture_output=True, text=True,
        env={**os.environ, "PYTHON": sys.executable, "XDG_CACHE_HOME": str(tmp / "cache")},
        check=False)
    assert rendered.returncode == 0, rendered.stderr
    stage = tmp / "out/stage-anthias/00-anthias"
    wheelhouse = stage / "files/install/wheelhouse"
    (wheel,) = wheelhouse.glob("anthias_edge-*.whl")
    # The wheels of the dependencies for this host (the image's build fetches arm64 ones).
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:",
                    "--dest", str(wheelhouse), str(wheel)], check=True)
    with fresh_root(debian_tree, tmp / "tree") as root:
        env = {"PATH": os.environ["PATH"], "ROOTFS_DIR": str(root), "LC_ALL": "C.UTF-8"}
        subprocess.run([str(stage / "01-run.sh")], cwd=stage, env=env, check=True)
        script = (stage / "01-run-chroot.sh").read_text()
        done = subprocess.run(
            ["chroot", str(root), "bash", "-e"], input=script, capture_output=True, text=True,
            env={"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                 "LC_ALL": "C.UTF-8", "HOME": "/root"}, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        yield root


@pytest.fixture
def device_root(image_root: Path, tmp_path: Path) -> Iterator[Path]:
    """This test's own writable copy of the image's root."""
    with fresh_root(image_root, tmp_path / "device") as root:
        yield root


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudProcess]:
    """The cloud app on PostgreSQL, served on 127.0.0.1, with tenant acme."""
    base = urlparse(os.environ.get("ANTHIAS_TEST_DATABASE_URL", "")).path.strip("/")
    name = f"{base or 'anthias'}_firstboot".replace("-", "_")
    with cloud_process(tmp_path_factory.mktemp("cloud-home"), name) as served:
        yield served


def fleet_token(cloud: CloudProcess, name: str, *, revoked: bool = False) -> dict[str, Any]:
    """A new fleet token of acme (up to 5 devices, a day): {"secret", "token_id"}."""
    return cloud.run(f"""
        import datetime as dt
        from anthias_edge.services.fleet.enrolment import EnrolmentService
        from anthias_edge.timeutil import utcnow
        service = EnrolmentService(TENANT, actor="test")
        made = service.create_fleet_token({name!r}, 5, utcnow() + dt.timedelta(days=1))
        if {revoked!r}:
            service.revoke_fleet_token(made.row.token_id)
        result = {{"secret": made.secret, "token_id": made.row.token_id}}
    """)


def devices_of(cloud: CloudProcess, token_id: str) -> list[dict[str, Any]]:
    """The cloud's devices enrolled with ``token_id``, and the token's use count."""
    return cloud.run(f"""
        from anthias_edge.models import Device, FleetToken
        token = FleetToken.get_by_id({token_id!r})
        result = [{{"device_id": d.device_id, "name": d.name, "status": d.status,
                    "linked_via": d.linked_via, "public_key": d.public_key,
                    "used_count": token.used_count}}
                  for d in Device.select().where(Device.fleet_token_id == {token_id!r})]
    """)


def first_boot(root: Path) -> subprocess.CompletedProcess[str]:
    """Run the first-boot script in the tree as its unit does (root, a bare environment).

    ``link --wait`` retries for as long as the cloud does not answer; the bound turns a cloud
    that never answers into a failure instead of a hung run (it is not a speed check).
    """
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
           "LC_ALL": "C.UTF-8", "HOME": "/root"}
    return subprocess.run(["chroot", str(root), FIRSTBOOT], capture_output=True, text=True,
                          env=env, timeout=BOOT_BOUND_S, check=False)


def write_card(root: Path, *, token: str | None, device_conf: str) -> None:
    """Write the boot partition's files as an admin does after flashing."""
    boot = root / BOOT
    if token is not None:
        (boot / "anthias-fleet.token").write_text(token + "\n")
    (boot / "anthias-device.conf").write_text(device_conf)


def sync_link(root: Path) -> dict[str, Any] | None:
    """The device's link record (its SQLite database inside the tree)."""
    database = root / "home/anthias/.screenly/screenly.db"
    # Closed at once: an open file would keep the tree's overlay mount busy at teardown.
    with contextlib.closing(sqlite3.connect(database)) as conn:
        conn.row_factory = sqlite3.Row
        row = conn.execute("SELECT * FROM sync_link").fetchone()
    return dict(row) if row else None


def test_the_stage_installs_the_release_layout_and_the_units(image_root: Path) -> None:
    version = chroot_run(image_root, "anthias-edge", "--version").stdout.split()[-1]
    assert os.readlink(image_root / "opt/anthias-edge/venv") == f"releases/{version}"
    assert (os.readlink(image_root / "usr/local/bin/anthias-edge")
            == "/opt/anthias-edge/venv/bin/anthias-edge")
    assert chroot_run(image_root, "getent", "passwd", "anthias").stdout.split(":")[5] \
        == "/home/anthias"
    wants = image_root / "etc/systemd/system/multi-user.target.wants"
    assert (wants / "anthias-firstboot.service").is_symlink()
    assert os.readlink(image_root / "etc/systemd/system/default.target").endswith(
        "graphical.target")
    assert not (image_root / "var/tmp/anthias-edge-install").exists()
    assert (image_root / FIRSTBOOT.lstrip("/")).stat().st_mode & 0o777 == 0o755
    assert (image_root / BOOT / "anthias-device.conf").is_file()
    assert not (image_root / BOOT / "anthias-fleet.token").exists()  # none configured


# The drop-in gives the script root, /etc, the card and Wi-Fi's capabilities: the unit is
# looser than systemd/'s link-only one (1.3) and this holds it where it was measured.
FIRSTBOOT_EXPOSURE_CEILING = 3.0


def test_the_first_boot_unit_with_the_image_drop_in_verifies(image_root: Path) -> None:
    verify = subprocess.run(["systemd-analyze", "verify", f"--root={image_root}", "--man=no",
                             "anthias-firstboot.service"], capture_output=True, text=True,
                            check=False)
    assert verify.returncode == 0, verify.stderr
    assert "anthias-firstboot" not in verify.stderr
    security = subprocess.run(["systemd-analyze", "security", "--offline=true",
                               f"--root={image_root}", "anthias-firstboot.service"],
                              capture_output=True, text=True, check=False)
    assert security.returncode == 0, security.stderr
    (line,) = [ln for ln in security.stdout.splitlines() if "Overall exposure level" in ln]
    exposure = float(line.split(":", 1)[1].split()[0])
    print(f"anthias-firstboot.service with the image's drop-in: exposure {exposure}")
    # The drop-in is applied: the unit runs as root, holding only the capabilities it names.
    marks = {ln.split()[1]: ln.split()[0] for ln in security.stdout.splitlines()
             if ln[:1] in ("✓", "✗")}
    assert marks["User=/DynamicUser="] == "✗"
    assert marks["CapabilityBoundingSet=~CAP_NET_ADMIN"] == "✗"
    assert marks["CapabilityBoundingSet=~CAP_SYS_ADMIN"] == "✓"
    assert exposure <= FIRSTBOOT_EXPOSURE_CEILING


def test_first_boot_enrols_with_the_fleet_token_once(device_root: Path,
                                                     cloud: CloudProcess) -> None:
    token = fleet_token(cloud, "lobby screens")
    write_card(device_root, token=token["secret"], device_conf=(
        "# written on a PC\r\nname = \"Lobby screen 1\"\r\ncloud=" + cloud.url + "\r\n"
        "hostname=Lobby-1\r\nwifi_ssid=Shop Wi-Fi\r\nwifi_psk=correct horse\r\n"
        "wifi_country=de\r\n"))

    boot = first_boot(device_root)

    assert boot.returncode == 0, boot.stderr
    assert not (device_root / BOOT / "anthias-fleet.token").exists()
    (device,) = devices_of(cloud, token["token_id"])
    assert device["name"] == "Lobby screen 1"
    assert (device["status"], device["linked_via"], device["used_count"]) == (
        "active", "fleet_token", 1)
    link = sync_link(device_root)
    assert link is not None
    assert (link["device_id"], link["device_name"]) == (device["device_id"], "Lobby screen 1")
    assert link["cloud_url"] == cloud.url
    # The device signs with the key the cloud holds; only the anthias user can read it.
    key = device_root / link["key_path"].lstrip("/")
    assert public_key_b64(load_private_key(key)) == device["public_key"]
    anthias_uid = int(chroot_run(device_root, "id", "-u", "anthias").stdout)
    assert (key.stat().st_uid, key.stat().st_mode & 0o777) == (anthias_uid, 0o600)
    # The rest of the card's settings.
    assert (device_root / "etc/hostname").read_text() == "lobby-1\n"
    assert "127.0.1.1\tlobby-1" in (device_root / "etc/hosts").read_text()
    wifi = device_root / "etc/NetworkManager/system-connections/anthias-wifi.nmconnection"
    assert wifi.stat().st_mode & 0o777 == 0o600
    assert "ssid=Shop Wi-Fi\n" in wifi.read_text()
    assert "psk=correct horse\n" in wifi.read_text()
    assert "ieee80211_regdom=DE" in (
        device_root / "etc/modprobe.d/anthias-wifi-country.conf").read_text()
    conf = (device_root / BOOT / "anthias-device.conf").read_text()
    assert "correct horse" not in conf
    assert "wifi_" not in conf.replace("# Wi-Fi", "")
    assert 'name = "Lobby screen 1"' in conf

    hostname_written = (device_root / "etc/hostname").stat().st_mtime_ns
    second = first_boot(device_root)

    assert second.returncode == 0, second.stderr
    assert "nothing to do" in second.stderr
    assert len(devices_of(cloud, token["token_id"])) == 1
    assert sync_link(device_root)["device_id"] == device["device_id"]
    assert (device_root / "etc/hostname").stat().st_mtime_ns == hostname_written


def test_a_refused_token_stays_on_the_card_for_the_next_boot(device_root: Path,
                                                            cloud: CloudProcess) -> None:
    token = fleet_token(cloud, "revoked at once", revoked=True)
    write_card(device_root, token=token["secret"],
               device_conf=f"name=Kiosk\ncloud={cloud.url}\n")

    boot = first_boot(device_root)

    assert boot.returncode == 2, boot.stderr
    assert "refused" in boot.stderr
    assert (device_root / BOOT / "anthias-fleet.token").read_text() == token["secret"] + "\n"
    assert devices_of(cloud, token["token_id"]) == []
    assert sync_link(device_root) is None
    assert not (device_root / "var/lib/anthias-edge/firstboot.applied").exists()


def test_without_a_token_only_the_device_settings_apply(device_root: Path) -> None:
    write_card(device_root, token=None, device_conf=(
        "hostname=hall\nwifi_ssid=Hall\nwifi_psk=short\nwifi_country=GB\nmystery=1\n"))

    boot = first_boot(device_root)

    assert boot.returncode == 0, boot.stderr
    assert (device_root / "etc/hostname").read_text() == "hall\n"
    # A password shorter than WPA allows is refused by name, and no Wi-Fi is set up (not an
    # open network in place of the protected one meant); the lines stay to be fixed.
    assert "wifi_psk ignored" in boot.stderr
    assert not (device_root / "etc/NetworkManager/system-connections").exists()
    assert not (device_root / "etc/modprobe.d/anthias-wifi-country.conf").exists()
    assert "wifi_psk=short" in (device_root / BOOT / "anthias-device.conf").read_text()
    assert "unknown setting 'mystery'" in boot.stderr
    assert "nothing to enrol" in boot.stderr
    assert not (device_root / "home/anthias/.screenly/screenly.db").exists()
