"""image-build/: the rendered pi-gen stage, file by file, and the build host check.

``build.sh --dry-run DIR`` renders everything pi-gen would get (its config and the
stage-anthias folder with the wheel, the units, the first-boot script and the boot
partition's files) without pi-gen or root; these tests read what it wrote. ``build.sh
--check`` is compared with what this machine really has.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import stat
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from anthias_edge import __version__

pytestmark = pytest.mark.sqlite_only  # no database involved: one pass is enough

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "image-build" / "build.sh"
SYSTEMD = REPO / "systemd"
TOKEN = "aft_" + "Q" * 20 + "-_" + "7" * 21
CLOUD = "https://cloud.example.com"
CLOUD_UNITS = {"anthias-cloud.service", "anthias-keys-rotate.service",
               "anthias-keys-rotate.timer"}
# The device's units the image must start (each has an [Install] section).
DEVICE_UNITS = {"anthias-server.service", "anthias-player.service", "anthias-sync.service",
                "anthias-kiosk.service", "anthias-firstboot.service"}
# Commands pi-gen needs on the host and their Debian packages: the list build.sh checks.
HOST_TOOLS = {
    "quilt": "quilt", "parted": "parted", "realpath": "coreutils",
    "qemu-arm-static": "qemu-user-static", "debootstrap": "debootstrap", "zerofree": "zerofree",
    "zip": "zip", "mkdosfs": "dosfstools", "mke2fs": "e2fsprogs", "capsh": "libcap2-bin",
    "bsdtar": "libarchive-tools", "grep": "grep", "rsync": "rsync", "xz": "xz-utils",
    "curl": "curl", "xxd": "xxd", "file": "file", "git": "git", "lsmod": "kmod", "bc": "bc",
    "gpg": "gpg", "pigz": "pigz", "arch-test": "arch-test", "losetup": "mount",
}


def run_build(*args: str, config: str | None = None, tmp: Path,
              env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """build.sh with ``args``; ``config`` (text) is written to a file and given with -c."""
    argv = [str(BUILD), *args]
    if config is not None:
        path = tmp / "my-config"
        path.write_text(config)
        argv[1:1] = ["-c", str(path)]
    environ = {**os.environ, "PYTHON": sys.executable,
               "XDG_CACHE_HOME": str(tmp / "cache"), **(env or {})}
    return subprocess.run(argv, capture_output=True, text=True, env=environ, check=False)


def sourced(config: Path, *names: str) -> dict[str, str]:
    """The values bash gets for ``names`` after sourcing the rendered pi-gen config."""
    script = 'source "$1"; shift; for n; do printf "%s=%s\\0" "$n" "${!n-<unset>}"; done'
    out = subprocess.run(["bash", "-c", script, "-", str(config), *names],
                         capture_output=True, text=True, check=True).stdout
    return dict(item.split("=", 1) for item in out.split("\0") if item)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(scope="module")
def render(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """``render(config_text)``: the dry run's output folder for that config."""
    def rendered(config: str) -> Path:
        tmp = tmp_path_factory.mktemp("render")
        result = run_build("--dry-run", str(tmp / "out"), config=config, tmp=tmp)
        assert result.returncode == 0, result.stderr
        return tmp / "out"
    return rendered


@pytest.fixture(scope="module")
def with_token(render: Callable[[str], Path]) -> Path:
    """A render that builds the wheel from this checkout and bakes a fleet token in."""
    return render(f"ANTHIAS_FLEET_TOKEN={TOKEN}\nANTHIAS_CLOUD_URL={CLOUD}\n"
                  "TARGET_HOSTNAME=lobby\nWPA_COUNTRY=DE\nIMG_NAME=acme-signage\n"
                  'ADMIN_SSH_KEY="ssh-ed25519 AAAAC3Nza admin@example"\n')


@pytest.fixture(scope="module")
def without_token(render: Callable[[str], Path], with_token: Path) -> Path:
    """A render with the defaults, reusing the first render's wheel (ANTHIAS_WHEEL)."""
    (wheel,) = (with_token / "stage-anthias/00-anthias/files/install/wheelhouse").glob("*.whl")
    return render(f"ANTHIAS_WHEEL={wheel}\n")


def stage(out: Path) -> Path:
    return out / "stage-anthias" / "00-anthias"


def test_the_stage_scripts_are_rendered_as_pi_gen_runs_them(with_token: Path) -> None:
    sources = REPO / "image-build" / "stage-anthias"
    for name in ("prerun.sh", "EXPORT_IMAGE", "00-anthias/00-packages",
                 "00-anthias/01-run.sh", "00-anthias/01-run-chroot.sh"):
        assert (with_token / "stage-anthias" / name).read_bytes() == (sources / name).read_bytes()
    # pi-gen runs prerun.sh and NN-run.sh only when executable; NN-run-chroot.sh is piped in.
    assert mode(with_token / "stage-anthias/prerun.sh") & 0o111
    assert mode(stage(with_token) / "01-run.sh") & 0o111
    assert 'IMG_SUFFIX="-anthias"' in (with_token / "stage-anthias/EXPORT_IMAGE").read_text()
    packages = re.sub(r"#.*", "", (stage(with_token) / "00-packages").read_text()).split()
    assert {"python3-venv", "chromium", "mpv", "cage", "ffmpeg"} <= set(packages)


def test_the_wheel_is_built_from_this_checkout(with_token: Path) -> None:
    wheelhouse = stage(with_token) / "files/install/wheelhouse"
    (wheel,) = wheelhouse.iterdir()
    assert wheel.name == f"anthias_edge-{__version__}-py3-none-any.whl"
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "anthias_edge/cli/__init__.py" in names
    assert any(n.startswith("anthias_edge/migrations/0001_") for n in names)
    assert any(n.startswith("web_ui/templates/") for n in names)
    assert any(n.startswith("cloud_sync/") for n in names)
    installer = stage(with_token) / "files/install/install-release.sh"
    assert installer.read_bytes() == (REPO / "image-build/files/install-release.sh").read_bytes()
    assert mode(installer) == 0o755


def unit_destinations() -> dict[str, str | None]:
    """Each file of systemd/ and where the image should have it (None: not on a device)."""
    where: dict[str, str | None] = {}
    for path in sorted(SYSTEMD.iterdir()):
        name = path.name
        if name in CLOUD_UNITS or name.endswith(".desktop"):
            where[name] = None
        elif name == "anthias.sysusers.conf":
            where[name] = "usr/lib/sysusers.d/anthias-edge.conf"
        elif name == "anthias.tmpfiles.conf":
            where[name] = "usr/lib/tmpfiles.d/anthias-edge.conf"
        elif name.endswith(".rules"):
            where[name] = f"etc/polkit-1/rules.d/{name}"
        elif name == "README.md":
            where[name] = "opt/anthias-edge/systemd/README.md"
        else:
            where[name] = f"etc/systemd/system/{name}"
    return where


def test_every_device_file_of_systemd_is_copied_unchanged(with_token: Path) -> None:
    rootfs = stage(with_token) / "files/rootfs"
    for name, target in unit_destinations().items():
        if target is None:
            assert not list(rootfs.rglob(name)), f"{name} is not a device's"
            continue
        copied = rootfs / target
        assert copied.read_bytes() == (SYSTEMD / name).read_bytes(), name
        assert mode(copied) == 0o644
    assert not (rootfs / "etc/systemd/system/anthias-cloud.service").exists()


def test_the_device_units_are_enabled(with_token: Path) -> None:
    enabled = (stage(with_token) / "files/install/enable-units").read_text().split()
    assert set(enabled) >= DEVICE_UNITS
    assert not CLOUD_UNITS & set(enabled)
    for name in enabled:
        assert "[Install]" in (SYSTEMD / name).read_text()


def test_the_first_boot_script_is_installed_executable(with_token: Path) -> None:
    script = stage(with_token) / "files/rootfs/usr/local/sbin/anthias-firstboot"
    assert script.read_bytes() == (REPO / "image-build/files/anthias-firstboot.sh").read_bytes()
    assert mode(script) == 0o755
    # The image's drop-in makes the first-boot unit run it.
    name = "anthias-firstboot.service.d/50-image.conf"
    drop_in = stage(with_token) / "files/rootfs/etc/systemd/system" / name
    assert drop_in.read_bytes() == (REPO / "image-build/files" / name).read_bytes()
    assert mode(drop_in) == 0o644
    assert "\nExecStart=\nExecStart=/usr/local/sbin/anthias-firstboot\n" in drop_in.read_text()


def test_the_config_reaches_pi_gen_and_the_boot_partition(with_token: Path) -> None:
    config = with_token / "config"
    assert mode(config) == 0o600  # it may hold a password
    values = sourced(config, "IMG_NAME", "RELEASE", "TARGET_HOSTNAME", "WPA_COUNTRY",
                     "ENABLE_SSH", "PUBKEY_ONLY_SSH", "PUBKEY_SSH_FIRST_USER",
                     "DISABLE_FIRST_BOOT_USER_RENAME", "FIRST_USER_NAME", "FIRST_USER_PASS",
                     "ANTHIAS_LOCK_FIRST_USER", "STAGE_LIST", "TIMEZONE_DEFAULT")
    assert values["IMG_NAME"] == "acme-signage"
    assert values["RELEASE"] == "bookworm"
    assert values["TARGET_HOSTNAME"] == "lobby"
    assert values["WPA_COUNTRY"] == "DE"
    assert values["TIMEZONE_DEFAULT"] == "Etc/UTC"
    assert (values["ENABLE_SSH"], values["PUBKEY_ONLY_SSH"]) == ("1", "1")
    assert values["PUBKEY_SSH_FIRST_USER"] == "ssh-ed25519 AAAAC3Nza admin@example"
    # No password configured: pi-gen gets a throwaway one and the stage locks the account.
    assert values["DISABLE_FIRST_BOOT_USER_RENAME"] == "1"
    assert len(values["FIRST_USER_PASS"]) >= 20
    assert values["ANTHIAS_LOCK_FIRST_USER"] == "1"
    stages = values["STAGE_LIST"].split()
    assert [Path(s).name for s in stages] == ["stage0", "stage1", "stage2", "stage-anthias"]
    assert Path(stages[-1]) == (with_token / "stage-anthias").resolve()
    # Every line of the rendered config exports, so the stage scripts see the values.
    lines = [ln for ln in config.read_text().splitlines() if ln and not ln.startswith("#")]
    assert all(ln.startswith("export ") for ln in lines)

    boot = stage(with_token) / "files/rootfs/boot/firmware"
    conf = dict(ln.split("=", 1) for ln in (boot / "anthias-device.conf").read_text().splitlines()
                if ln and not ln.startswith("#"))
    assert conf == {"name": "", "cloud": CLOUD, "hostname": "", "wifi_ssid": "",
                    "wifi_psk": "", "wifi_country": "DE"}
    token = boot / "anthias-fleet.token"
    assert token.read_text() == TOKEN + "\n"
    assert mode(token) == 0o600


def files_holding_a_token(out: Path) -> list[str]:
    """The rendered files (relative paths) in which a fleet token appears."""
    token = re.compile(r"aft_[A-Za-z0-9_-]{43}")
    return sorted(str(path.relative_to(out)) for path in out.rglob("*")
                  if path.is_file() and token.search(path.read_bytes().decode("latin-1")))


def test_a_baked_token_is_only_in_the_boot_partition_file(with_token: Path) -> None:
    assert files_holding_a_token(with_token) == [
        "stage-anthias/00-anthias/files/rootfs/boot/firmware/anthias-fleet.token"]


def test_without_a_token_none_is_anywhere_in_the_render(without_token: Path) -> None:
    assert not list(without_token.rglob("anthias-fleet.token"))
    assert files_holding_a_token(without_token) == []
    boot = stage(without_token) / "files/rootfs/boot/firmware"
    assert "\ncloud=\n" in (boot / "anthias-device.conf").read_text()
    values = sourced(without_token / "config", "ENABLE_SSH", "PUBKEY_SSH_FIRST_USER",
                     "WPA_COUNTRY", "IMG_NAME")
    assert values == {"ENABLE_SSH": "0", "PUBKEY_SSH_FIRST_USER": "<unset>",
                      "WPA_COUNTRY": "<unset>", "IMG_NAME": "anthias-edge"}


def test_a_configured_password_is_kept_and_not_locked(render: Callable[[str], Path],
                                                      with_token: Path) -> None:
    (wheel,) = (stage(with_token) / "files/install/wheelhouse").glob("*.whl")
    out = render(f"ANTHIAS_WHEEL={wheel}\nFIRST_USER_PASS='s3cret pass'\n")
    values = sourced(out / "config", "FIRST_USER_PASS", "ANTHIAS_LOCK_FIRST_USER")
    assert values == {"FIRST_USER_PASS": "s3cret pass", "ANTHIAS_LOCK_FIRST_USER": "0"}


def arm64_platforms() -> list[str]:
    """pip's --platform options for the Pi's glibc 2.36 (pip widens none of them)."""
    names = [f"manylinux_2_{glibc}_aarch64" for glibc in range(36, 16, -1)]
    return [option for name in [*names, "manylinux2014_aarch64"]
            for option in ("--platform", name)]


@pytest.mark.slow
def test_the_arm64_wheelhouse_installs_offline(with_token: Path, tmp_path: Path) -> None:
    (wheel,) = (stage(with_token) / "files/install/wheelhouse").glob("*.whl")
    result = run_build("--dry-run", str(tmp_path / "out"), "--with-dependencies",
                       config=f"ANTHIAS_WHEEL={wheel}\n", tmp=tmp_path)
    assert result.returncode == 0, result.stderr
    wheelhouse = stage(tmp_path / "out") / "files/install/wheelhouse"

    names = sorted(path.name for path in wheelhouse.iterdir())
    # Nothing built for this host slipped in: each wheel is pure or for aarch64 CPython 3.11.
    for name in names:
        tags = name.removesuffix(".whl").split("-")[-3:]
        assert tags[2] == "any" or ("aarch64" in tags[2] and tags[0] in ("cp311", "cp310",
                                    "cp39", "cp38", "cp37") and tags[1] in ("cp311", "abi3")), name
    assert any(name.startswith("cryptography-") for name in names)
    assert any(name.startswith("pyzmq-") for name in names)
    # What install-release.sh does on the Pi: pip with no index resolves everything.
    target = tmp_path / "target"
    offline = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--no-index",
         "--find-links", str(wheelhouse), "--only-binary=:all:", *arm64_platforms(),
         "--python-version", "3.11", "--implementation", "cp", "--abi", "cp311",
         "--target", str(target), str(wheelhouse / wheel.name)],
        capture_output=True, text=True, check=False)
    assert offline.returncode == 0, offline.stderr


@pytest.mark.parametrize(("config", "problem"), [
    ("ANTHIAS_FLEET_TOKEN=aft_short\nANTHIAS_CLOUD_URL=https://c.example\n",
     "ANTHIAS_FLEET_TOKEN is not a fleet token"),
    (f"ANTHIAS_FLEET_TOKEN={TOKEN}\n", "ANTHIAS_CLOUD_URL is not"),
    ("ANTHIAS_CLOUD_URL=ftp://cloud.example\n", "is not an http(s) address"),
    ("TARGET_HOSTNAME=Not_A_Host\n", "TARGET_HOSTNAME='Not_A_Host' is not a host name"),
    ("RELEASE=trixie\n", "only bookworm is supported"),
    ("FIRST_USER_NAME=anthias\n", "the service's own account"),
])
def test_a_wrong_config_is_refused_before_anything_is_rendered(
        tmp_path: Path, config: str, problem: str) -> None:
    result = run_build("--dry-run", str(tmp_path / "out"), config=config, tmp=tmp_path)

    assert result.returncode == 1
    assert problem in result.stderr
    assert not (tmp_path / "out").exists()


def expected_host_gaps(cache: Path) -> list[str]:
    """What this machine lacks for pi-gen, found here independently of build.sh."""
    gaps = []
    if os.geteuid() != 0:
        gaps.append("not root")
    if platform.machine() not in ("aarch64", "arm64"):
        mounts = Path("/proc/mounts").read_text()
        if " /proc/sys/fs/binfmt_misc " not in mounts:
            gaps.append("binfmt_misc is not mounted")
        entry = Path("/proc/sys/fs/binfmt_misc/qemu-aarch64")
        if not (entry.exists() and entry.read_text().splitlines()[0] == "enabled"):
            gaps.append("no qemu-aarch64 interpreter is registered")
    missing = [tool for tool in HOST_TOOLS if shutil.which(tool) is None]
    if missing:
        gaps.append("missing commands: " + " ".join(missing))
    if (os.geteuid() == 0 and shutil.which("losetup")
            and subprocess.run(["losetup", "-f"], capture_output=True, check=False).returncode):
        gaps.append("no free loop device")
    where = cache
    while not where.exists():
        where = where.parent
    if shutil.disk_usage(where).free < 20 * 1024**3:
        gaps.append("GiB free in")
    return gaps


def test_the_host_check_names_exactly_what_this_machine_lacks(tmp_path: Path) -> None:
    result = run_build("--check", tmp=tmp_path)
    expected = expected_host_gaps(tmp_path / "cache")

    listed = [ln[4:] for ln in result.stderr.splitlines() if ln.startswith("  - ")]
    if not expected:
        assert result.returncode == 0
        assert "this host can run pi-gen" in result.stdout
        return
    assert result.returncode == 1
    assert "this host cannot build the image yet; missing:" in result.stderr
    assert len(listed) == len(expected), result.stderr
    for gap in expected:
        assert any(gap in line for line in listed), (gap, result.stderr)
    # The missing commands are named with the packages that install them.
    missing = [tool for tool in HOST_TOOLS if shutil.which(tool) is None]
    if missing:
        (line,) = [ln for ln in listed if ln.startswith("missing commands:")]
        packages = line.split("apt-get install ", 1)[1].rstrip(")").split()
        assert sorted(packages) == sorted({HOST_TOOLS[t] for t in missing})

    # A real build stops at the same check, before it downloads or builds anything.
    build = run_build(tmp=tmp_path)
    assert build.returncode == 1
    assert "this host cannot build the image yet" in build.stderr
    assert not (tmp_path / "cache").exists()

