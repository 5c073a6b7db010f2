"""A Debian 12 root filesystem built once with debootstrap, and a fresh copy of it per test.

Building a tree takes minutes (debootstrap, then apt for any extra packages), so it is built once
per (suite, package list) and kept under ``$XDG_CACHE_HOME/anthias-edge-tests/debootstrap/<key>``
(``~/.cache/...`` by default). That folder outlives the test session, so scripts/test's second
pass and later runs reuse it; a tree is built into a temporary folder and renamed into place, so
an interrupted build never leaves a half tree behind that a later run would trust.

Tests must not write into the cached tree: :func:`fresh_root` gives each one its own writable
view. An overlayfs mount (lower = the cached tree, upper = the test's tmp_path) costs
milliseconds where ``cp -a`` of the ~300 MB minbase tree takes about two seconds on this machine
(ext4 has no reflinks), so overlayfs is used where it can be mounted and the copy is the fallback.

Everything here needs root (debootstrap, chroot, mount). :func:`debootstrap_gap` names what is
missing on a machine that cannot build a tree, so a test can say so instead of failing obscurely.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import pytest

SUITE = "bookworm"
MIRROR = os.environ.get("DEBOOTSTRAP_MIRROR", "http://deb.debian.org/debian")
SECURITY_MIRROR = os.environ.get("DEBOOTSTRAP_SECURITY_MIRROR",
                                 "http://deb.debian.org/debian-security")

# What a Raspberry Pi OS Lite / Debian 12 server already has that the provisioning code relies on:
# python3 runs Ansible's modules over the chroot connection, python3-apt is what
# ansible.builtin.apt imports, python3-venv builds the release venv, systemd provides systemctl,
# systemd-sysusers and systemd-tmpfiles (and the units' targets that `systemd-analyze verify`
# resolves), ca-certificates for pip and the enrolment's HTTPS.
BASE_PACKAGES: tuple[str, ...] = (
    "ca-certificates",
    "python3",
    "python3-apt",
    "python3-venv",
    "systemd",
)

# Bumped when the build recipe below changes, so trees built by an older recipe are not reused.
RECIPE_VERSION = 1


def cache_dir() -> Path:
    """Where the built trees live; survives between pytest passes and runs."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "anthias-edge-tests" / "debootstrap"


def tree_key(suite: str, packages: Iterable[str], apt_packages: Iterable[str] = ()) -> str:
    """A short name for one (suite, package list) tree; the packages' order does not matter."""
    spec = {
        "recipe": RECIPE_VERSION,
        "suite": suite,
        "mirror": MIRROR,
        "packages": sorted(set(packages)),
        "apt_packages": sorted(set(apt_packages)),
    }
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]
    return f"{suite}-{digest}"


def debootstrap_gap() -> str | None:
    """What this machine lacks to build and enter a tree, or None when it has all of it."""
    if os.geteuid() != 0:
        return f"debootstrap, chroot and mount need root; these tests run as uid {os.geteuid()}"
    for tool in ("debootstrap", "chroot", "mount", "umount"):
        if shutil.which(tool) is None:
            return f"`{tool}` is not installed (apt-get install debootstrap; .ci/run does)"
    return None


def _run(argv: Sequence[str | os.PathLike[str]], log: Path) -> None:
    """Run a build step, its output appended to the build log; a failure quotes the log's tail."""
    with log.open("ab") as out:
        out.write(f"\n$ {' '.join(map(str, argv))}\n".encode())
        out.flush()
        result = subprocess.run(list(argv), stdout=out, stderr=subprocess.STDOUT, check=False)
    rc = result.returncode
    if rc != 0:
        tail = log.read_text(errors="replace").splitlines()[-30:]
        raise RuntimeError(f"{argv[0]} exited {rc}; last lines of {log}:\n" + "\n".join(tail))


@contextlib.contextmanager
def _mounted_proc(root: Path) -> Iterator[None]:
    """/proc inside the tree while maintainer scripts run (some read /proc/self or /proc/1)."""
    proc = root / "proc"
    subprocess.run(["mount", "-t", "proc", "proc", proc], check=True)
    try:
        yield
    finally:
        subprocess.run(["umount", proc], check=True)


def _install_apt_packages(root: Path, packages: Sequence[str], debs: Path, log: Path) -> None:
    """apt-get install extra packages into a debootstrapped tree, with no daemon started.

    The suite's updates and security archives are added first, as on an installed system (and
    chromium is only current there). Downloaded .debs go to ``debs`` (bind-mounted as apt's
    archive folder), so a rebuild with another package list downloads only what is new.
    """
    suite = _suite_of(root)
    (root / "etc/apt/sources.list").write_text(
        f"deb {MIRROR} {suite} main\n"
        f"deb {MIRROR} {suite}-updates main\n"
        f"deb {SECURITY_MIRROR} {suite}-security main\n")
    policy = root / "usr/sbin/policy-rc.d"
    # policy-rc.d exit 101 = "action forbidden": maintainer scripts must not start services.
    policy.write_text("#!/bin/sh\nexit 101\n")
    policy.chmod(0o755)
    archives = root / "var/cache/apt/archives"
    env = ["env", "DEBIAN_FRONTEND=noninteractive", "LC_ALL=C"]
    try:
        with _mounted_proc(root):
            subprocess.run(["mount", "--bind", debs, archives], check=True)
            try:
                _run(["chroot", root, *env, "apt-get", "update", "-q"], log)
                _run(["chroot", root, *env, "apt-get", "install", "-y", "-q",
                      "--no-install-recommends", *packages], log)
            finally:
                subprocess.run(["umount", archives], check=True)
    finally:
        policy.unlink()


def _suite_of(root: Path) -> str:
    for line in (root / "etc/os-release").read_text().splitlines():
        if line.startswith("VERSION_CODENAME="):
            return line.partition("=")[2].strip('"')
    raise RuntimeError(f"no VERSION_CODENAME in {root}/etc/os-release")


def build_tree(
    suite: str = SUITE,
    packages: Sequence[str] = BASE_PACKAGES,
    apt_packages: Sequence[str] = (),
) -> Path:
    """Return the cached tree for this package list, building it first if no earlier run did.

    ``packages`` go to debootstrap's ``--include`` (minbase variant); ``apt_packages`` are
    installed afterwards with apt inside the tree, which resolves what debootstrap's simple
    resolver cannot (alternatives, virtual packages: chromium, mpv and the like). Two pytest
    processes asking for the same tree at once build it once: the second waits on a lock file.
    """
    gap = debootstrap_gap()
    if gap:
        raise RuntimeError(f"cannot build a debootstrap tree here: {gap}")
    key = tree_key(suite, packages, apt_packages)
    base = cache_dir()
    base.mkdir(parents=True, exist_ok=True)
    final = base / key
    with (base / f"{key}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (final / "root/usr/bin/python3").exists():
            return final / "root"
        work = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=base))
        log = work / "build.log"
        debs = base / "debs"  # downloaded .debs, shared by every tree's debootstrap run
        debs.mkdir(exist_ok=True)
        try:
            _run(["debootstrap", "--variant=minbase", f"--cache-dir={debs}",
                  f"--include={','.join(sorted(set(packages)))}",
                  suite, work / "root", MIRROR], log)
            if apt_packages:
                _install_apt_packages(work / "root", sorted(set(apt_packages)), debs, log)
        except BaseException:
            if not _mounts_under(work):  # never rmtree through a mount
                shutil.rmtree(work, ignore_errors=True)
            raise
        (work / "spec.json").write_text(json.dumps(
            {"suite": suite, "packages": sorted(packages), "apt_packages": sorted(apt_packages)},
            indent=2))
        if final.exists():  # a tree from an interrupted build without python3: rebuild it
            shutil.rmtree(final)
        work.rename(final)
        return final / "root"


def _mounts_under(path: Path) -> list[str]:
    """Mount points at or below ``path`` (from /proc/self/mountinfo), deepest first."""
    prefix = str(path.resolve())
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].replace("\\040", " ")
        if point == prefix or point.startswith(prefix + "/"):
            points.append(point)
    return sorted(points, key=len, reverse=True)


def _try_overlay(lower: Path, upper: Path, work: Path, merged: Path) -> bool:
    options = f"lowerdir={lower},upperdir={upper},workdir={work}"
    result = subprocess.run(["mount", "-t", "overlay", "overlay", "-o", options, merged],
                            capture_output=True, check=False)
    return result.returncode == 0


@contextlib.contextmanager
def fresh_root(tree: Path, workdir: Path, *, proc: bool = True) -> Iterator[Path]:
    """A writable copy of ``tree`` under ``workdir`` for one test, torn down afterwards.

    Overlayfs where the kernel allows it (the cached tree stays untouched, the test's writes land
    in ``workdir/upper``), else ``cp -a --reflink=auto``. With ``proc`` the copy gets /proc
    mounted, as a booted system has. Everything mounted is unmounted on exit; if that fails the
    error is raised rather than leaving a mount under tmp_path for pytest's cleanup to walk into.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    root = workdir / "root"
    root.mkdir()
    upper, work = workdir / "upper", workdir / "work"
    upper.mkdir()
    work.mkdir()
    if not _try_overlay(tree, upper, work, root):
        root.rmdir()
        subprocess.run(["cp", "-a", "--reflink=auto", tree, root], check=True)
    try:
        if proc:
            subprocess.run(["mount", "-t", "proc", "proc", root / "proc"], check=True)
        yield root
    finally:
        for point in _mounts_under(root):
            subprocess.run(["umount", point], check=True)
        left = _mounts_under(root)
        if left:
            raise RuntimeError(f"still mounted after the test: {left}")


def chroot_run(root: Path, *argv: str, check: bool = True,
               env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a command inside the tree (a clean PATH and locale, output captured as text)."""
    base = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "LC_ALL": "C.UTF-8", "HOME": "/root"}
    result = subprocess.run(["chroot", str(root), *argv], capture_output=True, text=True,
                            env={**base, **(env or {})}, check=False)
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(argv)} in {root} exited {result.returncode}:\n"
            f"{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="session")
def debian_tree() -> Path:
    """The cached minbase Debian 12 tree with BASE_PACKAGES (read-only: use ``debian_root``)."""
    return build_tree()


@pytest.fixture
def debian_root(debian_tree: Path, tmp_path: Path) -> Iterator[Path]:
    """A fresh, writable Debian 12 root for this test only, /proc mounted."""
    with fresh_root(debian_tree, tmp_path / "debian") as root:
        yield root
