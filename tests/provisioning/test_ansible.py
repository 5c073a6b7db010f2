"""The Ansible playbook (ansible/): lint and syntax always, and a real converge into Debian 12.

The converge runs site.yml into a fresh copy of a debootstrapped Debian 12 tree through the
``community.general.chroot`` connection, with ``anthias_start_services: false`` (no systemd runs
in a chroot), twice: the second run must change nothing. Then the tree's own anthias-edge answers
``--version`` and its installed units pass ``systemd-analyze verify --root``.

To keep this quick the slow parts are built once and cached between runs under
~/.cache/anthias-edge-tests (see tests/provisioning/debootstrap.py): the Debian tree with the
playbook's apt packages already in it (the apt tasks then find them installed, and the playbook
runs with no network), the wheels of Anthias Edge's dependencies (pip inside the tree installs
from them with --no-index) and community.general, which holds the chroot connection plugin.
Only this checkout's own wheel is built per session.
"""

from __future__ import annotations

import configparser
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

from tests.provisioning.debootstrap import (
    BASE_PACKAGES,
    build_tree,
    cache_dir,
    chroot_run,
    fresh_root,
)
from tests.web.cloud_process import CloudProcess, cloud_process

# Each test runs in one of scripts/test's two passes only: the checks without a database in
# the SQLite pass, the converge (whose enrolment needs the cloud, on PostgreSQL) in the other.

REPO = Path(__file__).resolve().parents[2]
ANSIBLE = REPO / "ansible"
BIN = Path(sys.executable).parent
# The `ansible` community package on PyPI ships community.general; galaxy is not reachable from
# every CI machine, PyPI is. Pinned: its community.general is the one these tests ran with.
ANSIBLE_BUNDLE = "ansible==12.3.0"
UNITS = ("anthias-server.service", "anthias-player.service", "anthias-sync.service",
         "anthias-firstboot.service", "anthias-kiosk.service")


def run(argv: list[str | os.PathLike[str]], *, cwd: Path = ANSIBLE,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(a) for a in argv], cwd=cwd, capture_output=True, text=True,
                            env={**os.environ, **(env or {})}, check=False)
    assert result.returncode == 0, (
        f"{' '.join(map(str, argv))} exited {result.returncode}:\n"
        f"{result.stdout[-6000:]}\n{result.stderr[-3000:]}")
    return result


def ansible_env(collections: Path | None = None) -> dict[str, str]:
    env = {
        "ANSIBLE_CONFIG": str(ANSIBLE / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        # ansible-lint and ansible-playbook look for their helpers next to them.
        "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
        "ANSIBLE_LOCAL_TEMP": tempfile.gettempdir(),
    }
    if collections is not None:
        env["ANSIBLE_COLLECTIONS_PATH"] = str(collections)
    return env


# --- always: lint and syntax -------------------------------------------------------------------

@pytest.mark.sqlite_only
def test_ansible_lint_production_profile() -> None:
    result = run([BIN / "ansible-lint", "--profile", "production", "--offline", "--nocolor"],
                 env=ansible_env())
    assert "Profile 'production' was required, and it passed" in result.stdout + result.stderr


@pytest.mark.sqlite_only
def test_syntax_check() -> None:
    result = run([BIN / "ansible-playbook", "--syntax-check", "-i", "inventory.example.yml",
                  "site.yml"], env=ansible_env())
    assert "playbook: site.yml" in result.stdout


@pytest.mark.sqlite_only
def test_the_roles_install_the_checkouts_unit_files_not_copies() -> None:
    # The roles copy from {{ anthias_source_dir }}/systemd/: every file they name must be there,
    # and no unit file may hide in the roles themselves.
    named = set()
    for tasks in ANSIBLE.glob("roles/*/tasks/*.yml"):
        named |= set(re.findall(r"anthias_source_dir }}/systemd/([\w.-]+)", tasks.read_text()))
    named |= set(yaml.safe_load((ANSIBLE / "roles/units/vars/main.yml").read_text())
                 ["units_device"])
    assert "anthias-kiosk.service" in named and "anthias.sysusers.conf" in named
    missing = sorted(name for name in named if not (REPO / "systemd" / name).is_file())
    assert not missing, f"the roles name files systemd/ does not have: {missing}"
    assert not list(ANSIBLE.glob("roles/**/*.service"))


# --- the converge: cached ingredients ---------------------------------------------------------

def playbook_apt_packages() -> list[str]:
    """What the system role and the cage kiosk install, with group_vars' defaults resolved."""
    defaults = yaml.safe_load((ANSIBLE / "group_vars/all/main.yml").read_text())
    chromium = defaults["anthias_chromium_package"]
    packages = [*defaults["anthias_system_packages"], *defaults["anthias_kiosk_packages"]["cage"]]
    return sorted({p.replace("{{ anthias_chromium_package }}", chromium) for p in packages})


def _atomic_cache(path: Path, build: callable) -> Path:  # type: ignore[valid-type]
    """``path`` if an earlier run made it, else ``build(tmp)`` then rename tmp to ``path``."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}-", dir=path.parent))
    try:
        build(tmp)
        tmp.rename(path)
    except OSError:
        if not path.exists():
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return path


@pytest.fixture(scope="session")
def collections() -> Path:
    """A collections path holding community.general, taken from the pinned ansible bundle."""
    target = cache_dir().parent / "ansible-collections" / ANSIBLE_BUNDLE.replace("==", "-")

    def build(tmp: Path) -> None:
        run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
             "--disable-pip-version-check", ANSIBLE_BUNDLE, "-d", tmp], cwd=tmp)
        (wheel,) = tmp.glob("ansible-*.whl")
        prefix = "ansible_collections/community/general/"
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(tmp, [n for n in archive.namelist() if n.startswith(prefix)])
        wheel.unlink()

    return _atomic_cache(target, build)


@pytest.fixture(scope="session")
def anthias_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel of this checkout, as the README tells a hobbyist to build it."""
    out = tmp_path_factory.mktemp("wheel")
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
         "--disable-pip-version-check", "-w", out, REPO], cwd=REPO)
    (wheel,) = out.glob("anthias_edge-*.whl")
    return wheel


@pytest.fixture(scope="session")
def wheelhouse(anthias_wheel: Path) -> Path:
    """Wheels of every runtime dependency, for pip inside the tree (keyed by setup.cfg's list)."""
    config = configparser.ConfigParser()
    config.read(REPO / "setup.cfg")
    requires = config["options"]["install_requires"]
    key = hashlib.sha256(requires.encode()).hexdigest()[:16]
    target = cache_dir().parent / "wheelhouse" / key

    def build(tmp: Path) -> None:
        run([sys.executable, "-m", "pip", "wheel", "-q", "--disable-pip-version-check",
             "-w", tmp, anthias_wheel], cwd=tmp)
        for own in tmp.glob("anthias_edge-*.whl"):
            own.unlink()

    return _atomic_cache(target, build)


@pytest.fixture(scope="session")
def playbook_tree() -> Path:
    """The cached Debian 12 tree with the playbook's apt packages already installed."""
    return build_tree(packages=BASE_PACKAGES, apt_packages=playbook_apt_packages())


@pytest.fixture
def target(playbook_tree: Path, wheelhouse: Path, tmp_path: Path) -> Iterator[Path]:
    """A fresh copy of the tree for one converge, with the wheelhouse in it."""
    with fresh_root(playbook_tree, tmp_path / "target") as root:
        shutil.copytree(wheelhouse, root / "var/cache/anthias-wheelhouse")
        yield root


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudProcess]:
    """The cloud app on PostgreSQL, served on 127.0.0.1 (the chroot shares the network)."""
    base = urlparse(os.environ.get("ANTHIAS_TEST_DATABASE_URL", "")).path.strip("/")
    name = f"{base or 'anthias'}_ansible".replace("-", "_")
    with cloud_process(tmp_path_factory.mktemp("cloud-home"), name) as served:
        yield served


def fleet_token(cloud: CloudProcess) -> dict[str, str]:
    """A new fleet token of the cloud's tenant: {"secret", "token_id"}."""
    return cloud.run("""
        import datetime as dt
        from anthias_edge.services.fleet.enrolment import EnrolmentService
        from anthias_edge.timeutil import utcnow
        made = EnrolmentService(TENANT, actor="test").create_fleet_token(
            "ansible screens", 5, utcnow() + dt.timedelta(days=1))
        result = {"secret": made.secret, "token_id": made.row.token_id}
    """)


def write_inventory(path: Path, root: Path, wheel: Path, **extra: str) -> Path:
    inventory = {"anthias": {"hosts": {str(root): {**extra,
        "ansible_connection": "community.general.chroot",
        "ansible_python_interpreter": "/usr/bin/python3",
        "ansible_become": False,
        "anthias_wheel": str(wheel),
        "anthias_pip_find_links": "/var/cache/anthias-wheelhouse",
        "anthias_pip_no_index": True,
        "anthias_start_services": False,
        # The tree's apt lists are from when it was built; no network is needed for packages
        # that are already installed.
        "anthias_apt_update_cache": False,
    }}}}
    path.write_text(yaml.safe_dump(inventory))
    return path


RECAP = re.compile(r"^(?P<host>\S+)\s*:\s*ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+"
                   r"unreachable=(?P<unreachable>\d+)\s+failed=(?P<failed>\d+)", re.M)


def converge(inventory: Path, collections: Path) -> tuple[dict[str, int], list[str], str]:
    """Run site.yml: the recap's counts, the tasks that changed something, and the output."""
    result = run([BIN / "ansible-playbook", "-i", inventory, "site.yml"],
                 env=ansible_env(collections))
    (match,) = RECAP.finditer(result.stdout)
    counts = {key: int(match[key]) for key in ("ok", "changed", "unreachable", "failed")}
    changed, task = [], ""
    for line in result.stdout.splitlines():
        if line.startswith(("TASK [", "RUNNING HANDLER [")):
            task = line.partition("[")[2].rpartition("]")[0]
        elif line.startswith("changed:"):
            changed.append(task)
    return counts, changed, result.stdout


@pytest.mark.postgres
@pytest.mark.slow
def test_converge_into_debian_12_twice_then_enrol_once(
        target: Path, anthias_wheel: Path, collections: Path, cloud: CloudProcess,
        tmp_path: Path) -> None:
    inventory = write_inventory(tmp_path / "inventory.yml", target, anthias_wheel)

    first, changed, _ = converge(inventory, collections)
    assert first["failed"] == 0 and first["unreachable"] == 0
    assert "app : Install Anthias Edge into the release venv" in changed
    second, changed, _ = converge(inventory, collections)
    assert (second["changed"], second["failed"]) == (0, 0), f"changed again: {changed}"

    # The release layout, and the app answering from inside the tree.
    version = chroot_run(target, "anthias-edge", "--version").stdout.strip()
    assert version == f"anthias-edge {anthias_wheel.name.split('-')[1]}"
    venv = target / "opt/anthias-edge/venv"
    assert os.readlink(venv) == f"/opt/anthias-edge/releases/{anthias_wheel.name.split('-')[1]}"
    on_path = os.readlink(target / "usr/local/bin/anthias-edge")
    assert on_path == "/opt/anthias-edge/venv/bin/anthias-edge"

    # The anthias user from the sysusers entry, with the player's groups; the data migrated.
    passwd = chroot_run(target, "getent", "passwd", "anthias").stdout.split(":")
    assert passwd[5] == "/home/anthias"
    groups = chroot_run(target, "id", "-nG", "anthias").stdout.split()
    assert {"anthias", "video", "render", "input", "audio"} <= set(groups)
    database = target / "home/anthias/.screenly/screenly.db"
    assert database.stat().st_uid == int(passwd[2])
    up_to_date = chroot_run(target, "runuser", "-u", "anthias", "--", "env", "HOME=/home/anthias",
                            "anthias-edge", "migrate")
    assert up_to_date.stdout.strip() == "Database is up to date."

    # The checkout's unit files, byte for byte, enabled; the kiosk boots with the system.
    for unit in UNITS:
        installed = target / "etc/systemd/system" / unit
        assert installed.read_bytes() == (REPO / "systemd" / unit).read_bytes(), unit
    enabled = chroot_run(target, "systemctl", "is-enabled", *UNITS, check=False).stdout.split()
    assert enabled == ["enabled"] * len(UNITS)
    assert os.readlink(target / "etc/systemd/system/default.target").endswith("graphical.target")
    assert (target / "etc/polkit-1/rules.d/50-anthias-edge.rules").is_file()
    assert (target / "usr/lib/tmpfiles.d/anthias-edge.conf").is_file()

    # The installed units verify against the tree: their programs, users and dependencies are
    # the tree's own.
    verify = subprocess.run(
        ["systemd-analyze", "verify", f"--root={target}", "--man=no", *UNITS],
        capture_output=True, text=True, check=False)
    assert verify.returncode == 0, verify.stderr

    # Enrolment: with a fleet token (a vaulted variable in real use) the screen links once.
    token = fleet_token(cloud)
    inventory = write_inventory(tmp_path / "inventory.yml", target, anthias_wheel,
                                anthias_fleet_token=token["secret"],
                                anthias_cloud_url=cloud.url,
                                anthias_device_name="Ansible screen")
    third, changed, output = converge(inventory, collections)
    assert third["failed"] == 0
    assert "enrol : Link to the cloud (the token file is deleted once used)" in changed
    assert token["secret"] not in output  # no_log
    status = json.loads(chroot_run(target, "runuser", "-u", "anthias", "--", "env",
                                   "HOME=/home/anthias", "anthias-edge", "sync", "status",
                                   "--json").stdout)
    assert (status["linked"], status["cloud_url"], status["device_name"]) == (
        True, cloud.url, "Ansible screen")
    (device,) = cloud.run(f"""
        from anthias_edge.models import Device
        result = [{{"name": d.name, "linked_via": d.linked_via}} for d in Device.select()
                  .where(Device.fleet_token_id == {token["token_id"]!r})]
    """)
    assert device == {"name": "Ansible screen", "linked_via": "fleet_token"}
    assert not (target / "home/anthias/.screenly/anthias-fleet.token").exists()
    # A linked screen is left alone, token or not.
    fourth, changed, _ = converge(inventory, collections)
    assert (fourth["changed"], fourth["failed"]) == (0, 0), f"changed again: {changed}"
