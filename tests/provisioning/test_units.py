"""The systemd units, sysusers, tmpfiles, polkit rule and kiosk files in systemd/ hold up.

``systemd-analyze verify`` runs with ``--root`` on a temporary tree laid out as an installed
device: the host's own unit files (so ``sysinit.target`` and friends resolve), our units in
/etc/systemd/system, the users from our sysusers file (applied with ``systemd-sysusers
--root``), a stub for /opt/anthias-edge/venv/bin/anthias-edge (the one program the install
makes; verify only checks that it is executable) and copies of the host's /usr/bin programs
the units run (cage, sh, rm...), so a unit naming a program Debian does not put there fails.
"""

from __future__ import annotations

import configparser
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from anthias_edge.settings import Settings

pytestmark = pytest.mark.sqlite_only  # nothing here touches a database: one pass is enough

UNITS = Path(__file__).resolve().parents[2] / "systemd"
UNIT_FILES = sorted(p.name for p in [*UNITS.glob("*.service"), *UNITS.glob("*.timer")])
VENV_EXEC = "/opt/anthias-edge/venv/bin/anthias-edge"
FLEET_TOKEN = "/boot/firmware/anthias-fleet.token"

# Exposure ceilings (systemd-analyze security, 0 = locked down, 10 = exposed). The issue fixes
# the server's and the sync agent's at 2.5; the others are held at their figure when written
# (in brackets) plus 0.2, so a loosening shows up here.
CEILINGS = {
    "anthias-server.service": 2.5,  # (1.3)
    "anthias-sync.service": 2.5,  # (1.3)
    "anthias-firstboot.service": 1.5,  # (1.3)
    "anthias-cloud.service": 1.7,  # (1.5)
    "anthias-keys-rotate.service": 1.7,  # (1.5)
    "anthias-kiosk.service": 2.0,  # (1.8)
    "anthias-player.service": 3.4,  # (3.2) Chromium and mpv: devices, JIT, sandbox namespaces
}


def _unit(name: str, folder: Path = UNITS) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(folder / name)
    return parser


def _all_values(name: str, key: str) -> list[str]:
    """Every value of a key that may repeat (configparser keeps only the last)."""
    return [line.split("=", 1)[1] for line in (UNITS / name).read_text().splitlines()
            if line.startswith(f"{key}=")]


def _programs(text: str) -> set[str]:
    """The absolute programs of every Exec*= line, without systemd's prefixes (-+!@:)."""
    found = set()
    for line in text.splitlines():
        match = re.match(r"Exec\w+=([-+!@:]*)(\S+)", line)
        if match:
            found.add(match.group(2))
    return found


def _build_root(root: Path, units: Path) -> Path:
    shutil.copytree("/usr/lib/systemd/system", root / "usr/lib/systemd/system", symlinks=True)
    (root / "usr/bin").mkdir()
    (root / "bin").symlink_to("usr/bin")  # merged /usr, as Debian 12 and Raspberry Pi OS
    target = root / "etc/systemd/system"
    target.mkdir(parents=True)
    for name in UNIT_FILES:
        shutil.copyfile(units / name, target / name)
        for program in _programs((units / name).read_text()):
            placed = root / program.lstrip("/")
            if placed.exists():
                continue
            placed.parent.mkdir(parents=True, exist_ok=True)
            if program == VENV_EXEC:
                placed.write_text("#!/bin/sh\nexit 0\n")
                placed.chmod(0o755)
            elif Path(program).exists():
                shutil.copyfile(Path(program).resolve(), placed)
                placed.chmod(0o755)
    subprocess.run(["systemd-sysusers", f"--root={root}", str(UNITS / "anthias.sysusers.conf")],
                   check=True, capture_output=True, text=True, timeout=60)
    return root


@pytest.fixture(scope="module")
def device_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build_root(tmp_path_factory.mktemp("device-root"), UNITS)


def _verify(root: Path, *names: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["systemd-analyze", "verify", f"--root={root}", "--man=no", *names],
                          capture_output=True, text=True, timeout=120, check=False)


def exposure(path: Path) -> float:
    """The overall exposure level ``systemd-analyze security --offline=true`` gives a unit."""
    result = subprocess.run(["systemd-analyze", "security", "--offline=true", str(path)],
                            capture_output=True, text=True, timeout=60, check=False)
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    assert match, result.stdout + result.stderr
    return float(match.group(1))


# -- verify ---------------------------------------------------------------------------------


def test_the_unit_set_is_complete():
    assert {"anthias-server.service", "anthias-player.service", "anthias-sync.service",
            "anthias-firstboot.service", "anthias-kiosk.service", "anthias-cloud.service",
            "anthias-keys-rotate.service", "anthias-keys-rotate.timer"} <= set(UNIT_FILES)
    assert set(CEILINGS) == {name for name in UNIT_FILES if name.endswith(".service")}


@pytest.mark.parametrize("name", UNIT_FILES)
def test_each_unit_passes_systemd_analyze_verify(device_root, name):
    result = _verify(device_root, name)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""


def test_verify_catches_a_misspelt_key_and_a_missing_program(tmp_path):
    broken = tmp_path / "units"
    shutil.copytree(UNITS, broken)
    server = broken / "anthias-server.service"
    server.write_text(server.read_text().replace("PrivateTmp=yes", "PrivateTmpz=yes"))
    kiosk = broken / "anthias-kiosk.service"
    kiosk.write_text(kiosk.read_text().replace("/usr/bin/cage", "/usr/bin/no-such-compositor"))
    root = _build_root(tmp_path / "root", broken)
    assert "Unknown key 'PrivateTmpz'" in _verify(root, "anthias-server.service").stderr
    result = _verify(root, "anthias-kiosk.service")
    assert result.returncode != 0
    assert "/usr/bin/no-such-compositor" in result.stderr


def test_sysusers_makes_the_static_user_with_its_device_groups(device_root):
    passwd = (device_root / "etc/passwd").read_text().splitlines()
    user = next(line.split(":") for line in passwd if line.startswith("anthias:"))
    assert user[5:] == ["/home/anthias", "/usr/sbin/nologin"]
    assert 0 < int(user[2]) < 1000  # a system user
    groups = {line.split(":")[0]: line.split(":")[3].split(",")
              for line in (device_root / "etc/group").read_text().splitlines()}
    for group in ("video", "render", "input", "audio"):
        assert "anthias" in groups[group], group


def test_tmpfiles_makes_the_runtime_and_data_folders_for_anthias(device_root):
    result = subprocess.run(["systemd-tmpfiles", f"--root={device_root}", "--create",
                             str(UNITS / "anthias.tmpfiles.conf")],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    uid = next(int(line.split(":")[2]) for line in
               (device_root / "etc/passwd").read_text().splitlines()
               if line.startswith("anthias:"))
    for folder in ("run/anthias", "home/anthias", "home/anthias/.screenly",
                   "home/anthias/.screenly/backups"):
        stat = (device_root / folder).stat()
        assert stat.st_uid == uid, folder
        assert stat.st_mode & 0o777 == 0o750, folder


# -- exposure -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CEILINGS))
def test_exposure_is_printed_and_held(name):
    level = exposure(UNITS / name)
    print(f"{name}: exposure {level} (ceiling {CEILINGS[name]})")
    assert level <= CEILINGS[name]


def test_the_exposure_check_notices_a_loosened_unit(tmp_path):
    text = (UNITS / "anthias-server.service").read_text()
    loose = "\n".join(line for line in text.splitlines()
                      if not line.startswith(("Protect", "Private", "Restrict", "SystemCall",
                                              "CapabilityBoundingSet", "NoNewPrivileges")))
    (tmp_path / "anthias-server.service").write_text(loose + "\n")
    assert exposure(tmp_path / "anthias-server.service") > CEILINGS["anthias-server.service"]


# -- what each unit runs --------------------------------------------------------------------


@pytest.mark.parametrize(("name", "command"), [("anthias-server.service", ["serve"]),
                                               ("anthias-sync.service", ["sync"])])
def test_server_and_sync_notify_with_a_watchdog_and_are_locked_down(name, command):
    service = _unit(name)["Service"]
    assert service["Type"] == "notify" and int(service["WatchdogSec"].rstrip("s")) > 0
    assert service["User"] == "anthias" and service["Group"] == "anthias"
    assert service["ExecStart"].split() == [VENV_EXEC, *command]
    assert service["RuntimeDirectory"] == "anthias"
    assert service["RuntimeDirectoryPreserve"] == "yes"  # shared by the units
    assert _all_values(name, "ReadWritePaths") == ["/home/anthias"]
    for key in ("NoNewPrivileges", "PrivateTmp", "PrivateDevices", "MemoryDenyWriteExecute",
                "RestrictNamespaces"):
        assert service[key] == "yes", key
    assert service["CapabilityBoundingSet"] == ""


def test_first_boot_links_with_the_token_then_removes_it_before_sync_starts():
    parser = _unit("anthias-firstboot.service")
    unit, service = parser["Unit"], parser["Service"]
    assert unit["ConditionPathExists"] == FLEET_TOKEN
    assert "anthias-sync.service" in " ".join(_all_values("anthias-firstboot.service", "Before"))
    assert "network-online.target" in unit["Wants"].split()
    assert "network-online.target" in " ".join(_all_values("anthias-firstboot.service", "After"))
    assert service["Type"] == "oneshot" and service["User"] == "anthias"
    assert service["ExecStart"].split() == [VENV_EXEC, "link", "--fleet-token-file",
                                            FLEET_TOKEN, "--wait"]
    assert service["ExecStartPost"].split() == ["+/usr/bin/rm", "-f", FLEET_TOKEN]
    # The same file the sync agent looks for by default (setting fleet_token_path).
    assert Settings.load(Path("/nonexistent-home"), {})["fleet_token_path"] == FLEET_TOKEN
    # A first boot still enrolling offline must not hold up the boot (and so the kiosk).
    assert unit["DefaultDependencies"] == "no"
    assert "anthias-firstboot.service" in " ".join(_all_values("anthias-sync.service", "After"))


def test_the_kiosk_runs_cage_on_tty1_in_a_login_session_instead_of_the_getty():
    parser = _unit("anthias-kiosk.service")
    unit, service = parser["Unit"], parser["Service"]
    assert unit["Conflicts"] == "getty@tty1.service"
    assert "getty@tty1.service" in " ".join(_all_values("anthias-kiosk.service", "After"))
    assert "anthias-player.service" in " ".join(_all_values("anthias-kiosk.service", "Wants"))
    assert service["PAMName"] == "login" and service["TTYPath"] == "/dev/tty1"
    assert service["StandardInput"] == "tty-fail" and service["User"] == "anthias"
    assert service["ExecStart"].split()[0] == "/usr/bin/cage"
    environment = " ".join(_all_values("anthias-kiosk.service", "Environment"))
    assert "WLR_LIBINPUT_NO_DEVICES=1" in environment  # a screen with no keyboard or mouse
    player = _unit("anthias-player.service")["Unit"]
    assert player["PartOf"] == "anthias-kiosk.service"
    assert "anthias-kiosk.service" in player["After"].split()
    assert "graphical.target" not in player["After"].split()


def test_the_player_keeps_its_devices_and_only_the_documented_relaxations():
    service = _unit("anthias-player.service")["Service"]
    assert set(service["SupplementaryGroups"].split()) == {"video", "render", "audio", "input"}
    for relaxed in ("PrivateDevices", "MemoryDenyWriteExecute", "RestrictNamespaces",
                    "ProtectHome", "RemoveIPC"):
        assert relaxed not in service, relaxed
    for key in ("NoNewPrivileges", "PrivateTmp", "ProtectKernelTunables", "ProtectKernelModules",
                "ProtectControlGroups", "RestrictSUIDSGID", "LockPersonality"):
        assert service[key] == "yes", key
    assert service["ReadWritePaths"].split() == ["/home/anthias", "-/run/user/%U"]


def test_the_desktop_autostart_entry_restarts_the_player_unit():
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read(UNITS / "anthias-player.desktop")
    desktop = entry["Desktop Entry"]
    assert desktop["Type"] == "Application"
    assert desktop["Exec"].split() == ["/usr/bin/systemctl", "--no-block", "restart",
                                       "anthias-player.service"]


# -- polkit ---------------------------------------------------------------------------------


def _node() -> str:
    """node from PATH, else the one Playwright's Python package ships (a test dependency)."""
    found = shutil.which("node")
    if found:
        return found
    import playwright

    bundled = Path(playwright.__file__).parent / "driver" / "node"
    assert bundled.exists(), "no node to run the polkit rule with"
    return str(bundled)


RULE_HARNESS = r"""
const vm = require("vm");
const fs = require("fs");
const rules = [];
const polkit = {Result: {YES: "yes", NO: "no", NOT_HANDLED: null},
                addRule: (fn) => rules.push(fn)};
vm.runInNewContext(fs.readFileSync(process.argv[2], "utf8"), {polkit});
const cases = JSON.parse(process.argv[3]);
const answers = cases.map(([user, id, details]) => {
  const action = {id, lookup: (key) => (details || {})[key]};
  for (const rule of rules) {
    const result = rule(action, {user});
    if (result !== null && result !== undefined) return result;
  }
  return "not handled";
});
process.stdout.write(JSON.stringify({rules: rules.length, answers}));
"""


def test_the_polkit_rule_grants_power_and_the_player_restart_to_anthias_only(tmp_path):
    harness = tmp_path / "harness.js"
    harness.write_text(RULE_HARNESS)
    manage = "org.freedesktop.systemd1.manage-units"
    cases = [
        ["anthias", "org.freedesktop.login1.reboot", None],
        ["anthias", "org.freedesktop.login1.reboot-multiple-sessions", None],
        ["anthias", "org.freedesktop.login1.power-off", None],
        ["anthias", "org.freedesktop.login1.power-off-multiple-sessions", None],
        ["anthias", manage, {"unit": "anthias-player.service", "verb": "restart"}],
        ["anthias", manage, {"unit": "anthias-player.service", "verb": "start"}],
        # Not granted: other users, inhibitor overrides, other units and verbs, other actions.
        ["pi", "org.freedesktop.login1.reboot", None],
        ["anthias", "org.freedesktop.login1.reboot-ignore-inhibit", None],
        ["anthias", manage, {"unit": "anthias-server.service", "verb": "restart"}],
        ["anthias", manage, {"unit": "anthias-player.service", "verb": "enable"}],
        ["anthias", "org.freedesktop.systemd1.manage-unit-files", None],
        ["anthias", "org.freedesktop.login1.set-wall-message", None],
    ]
    result = subprocess.run([_node(), str(harness), str(UNITS / "anthias-edge.rules"),
                             json.dumps(cases)], capture_output=True, text=True, timeout=60,
                            check=False)
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["rules"] == 1
    assert outcome["answers"] == ["yes"] * 6 + ["not handled"] * 6


def test_the_polkit_rule_is_plain_ecmascript_5():
    # polkit's engine (duktape in polkit 122, Debian 12) knows no ES6 syntax.
    code = "\n".join(line for line in (UNITS / "anthias-edge.rules").read_text().splitlines()
                     if not line.lstrip().startswith("//"))
    for es6 in ("=>", "`", "let ", "const ", "class ", "..."):
        assert es6 not in code, es6


def test_the_api_reboot_and_shutdown_commands_are_the_ones_the_rule_allows():
    # `systemctl reboot|poweroff` run by a non-root user asks logind, whose polkit actions are
    # org.freedesktop.login1.reboot and .power-off (granted above). A different default
    # (sudo, /sbin/reboot) would need privileges the units' NoNewPrivileges takes away.
    defaults = Settings.load(Path("/nonexistent-home"), {})
    assert defaults["reboot_command"] == "systemctl reboot"
    assert defaults["shutdown_command"] == "systemctl poweroff"
    rule = (UNITS / "anthias-edge.rules").read_text()
    assert '"org.freedesktop.login1.reboot"' in rule
    assert '"org.freedesktop.login1.power-off"' in rule
