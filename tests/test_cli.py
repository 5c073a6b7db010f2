"""The ``anthias-edge`` command line, run with click's CliRunner and, for ``serve``, for real."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tarfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from anthias_edge import __version__
from anthias_edge.app import create_app
from anthias_edge.cli import main
from anthias_edge.db import MIGRATIONS_DIR
from tests.conftest import FLASK_ERA, REAL

REPO = Path(__file__).resolve().parent.parent
ON_DISK = sorted(path.stem for path in MIGRATIONS_DIR.glob("[0-9]*.py"))
MIGRATIONS = [f"Applied {name}" for name in ON_DISK]
REAL_FILES = ("a70b59bb54724e22ad5f141837bb6154.png", "6969bcec6629439a9f33dcc8b1b0289e.mp4")
SERVE_TIMEOUT_S = 30


@pytest.fixture
def runner() -> CliRunner:
    """Runs the CLI in-process; stdout and stderr are kept apart."""
    return CliRunner()


def invoke(
    runner: CliRunner, home: Path, *args: str, env: dict[str, str] | None = None,
    input: str | None = None,
) -> Result:
    """Run ``anthias-edge ARGS`` with ``home`` as HOME (plus ``env``)."""
    return runner.invoke(main, list(args), env={"HOME": str(home), **(env or {})}, input=input)


def assert_one_line_error(result: Result, message: str, exit_code: int = 1) -> None:
    """The command failed with exactly one ``Error: ...`` line and no traceback."""
    assert result.exit_code == exit_code, result.output
    assert isinstance(result.exception, SystemExit)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    assert message in lines[0]


def api_assets(home: Path) -> list[dict]:
    """GET /api/v2/assets from a server built on ``home``'s SQLite database.

    Not the ``make_app`` fixture: an import always fills the SQLite file, while ``make_app``
    follows ANTHIAS_TEST_DATABASE_URL to PostgreSQL.
    """
    app = create_app(environ={"HOME": str(home), "ANTHIAS_ZMQ_PUBLISHER": "tcp://127.0.0.1:*",
                              "ANTHIAS_ZMQ_COLLECTOR": "tcp://127.0.0.1:*"})
    runtime = app.extensions["anthias"]
    try:
        response = app.test_client().get("/api/v2/assets")
        assert response.status_code == 200
        return response.get_json()
    finally:
        runtime.messenger.close()
        runtime.close_database()


def assert_real_library_relocated(home: Path) -> None:
    """The 5 real assets are served, their files in this HOME's screenly_assets."""
    expected = json.loads((REAL / "expected-assets-v2.json").read_text())
    assets = api_assets(home)
    assert sorted(a["asset_id"] for a in assets) == sorted(a["asset_id"] for a in expected)
    file_uris = sorted(a["uri"] for a in assets if a["uri"].startswith("/"))
    assert file_uris == sorted(str(home / "screenly_assets" / name) for name in REAL_FILES)
    assert all(Path(uri).is_file() for uri in file_uris)


@pytest.fixture
def anthias_source(tmp_path: Path) -> Path:
    """The real Anthias HOME, unpacked into its own folder (not the device HOME)."""
    path = tmp_path / "anthias"
    path.mkdir()
    with tarfile.open(REAL / "anthias-home.tar.gz") as archive:
        archive.extractall(path, filter="data")
    return path


# -- the group -----------------------------------------------------------------------------------


def test_version_prints_the_program_name_and_version(runner):
    result = runner.invoke(main, ["--version"])

    assert result.exit_code == 0
    assert result.stdout == f"anthias-edge {__version__}\n"


@pytest.mark.parametrize("command", [[], ["serve"], ["migrate"], ["import-anthias"]])
def test_every_command_has_help(runner, command):
    result = runner.invoke(main, [*command, "--help"])

    assert result.exit_code == 0
    assert result.stdout.startswith(f"Usage: anthias-edge {' '.join(command)}".rstrip())


def test_the_group_help_lists_every_command(runner):
    result = runner.invoke(main, ["--help"])

    for name in ("serve", "migrate", "import-anthias"):
        assert f"  {name} " in result.stdout


def test_help_and_version_do_not_import_flask_peewee_or_waitress():
    code = (
        "import sys\n"
        "from anthias_edge.cli import main\n"
        "for args in (['--help'], ['--version']):\n"
        "    try:\n"
        "        main(args)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(sorted(m for m in ('flask', 'peewee', 'waitress', 'zmq') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=REPO, timeout=SERVE_TIMEOUT_S, check=True)

    assert result.stdout.splitlines()[-1] == "[]"


def test_an_unknown_command_exits_non_zero(runner):
    result = runner.invoke(main, ["launch"])

    assert result.exit_code == 2
    assert "No such command 'launch'" in result.stderr


# -- migrate -------------------------------------------------------------------------------------


def test_migrate_upgrades_a_flask_era_database_and_then_reports_it_is_up_to_date(
    runner, flask_era_home
):
    first = invoke(runner, flask_era_home, "migrate")
    second = invoke(runner, flask_era_home, "migrate")

    assert first.exit_code == 0, first.output
    assert first.stdout.splitlines() == MIGRATIONS
    assert second.exit_code == 0
    assert second.stdout == "Database is up to date.\n"
    with sqlite3.connect(flask_era_home / ".screenly" / "screenly.db") as conn:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(assets)")}
    assert {"tenant_id", "created_by"} <= columns
    assert (FLASK_ERA / "screenly.db").read_bytes() != (
        flask_era_home / ".screenly" / "screenly.db").read_bytes()


def test_migrate_upgrades_the_real_anthias_home_keeping_its_assets(runner, real_home):
    result = invoke(runner, real_home, "migrate")

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == MIGRATIONS
    with sqlite3.connect(real_home / ".screenly" / "screenly.db") as conn:
        assert conn.execute("SELECT count(*) FROM assets").fetchone() == (5,)


def test_migrate_on_an_unreadable_database_is_a_one_line_error(runner, home):
    (home / ".screenly").mkdir()
    (home / ".screenly" / "screenly.db").write_bytes(b"not a database" * 100)

    result = invoke(runner, home, "migrate")

    assert_one_line_error(result, "file is not a database")


# -- import-anthias ------------------------------------------------------------------------------


def test_import_anthias_copies_a_home_folder_and_the_api_lists_its_assets(
    runner, anthias_source, home
):
    result = invoke(runner, home, "import-anthias", str(anthias_source))

    assert result.exit_code == 0, result.output
    assert f"Imported 5 assets and 5 files from {anthias_source} into {home}." in result.stdout
    assert f"Applied migrations: {', '.join(ON_DISK)}" in result.stdout
    assert "Importing files" in result.stderr
    assert_real_library_relocated(home)


def test_import_anthias_restores_a_backup_archive_into_an_empty_home(runner, home):
    result = invoke(runner, home, "import-anthias", str(REAL / "anthias-backup.tar.gz"))

    assert result.exit_code == 0, result.output
    assert "Imported 5 assets and 7 files" in result.stdout
    assert_real_library_relocated(home)


def test_import_anthias_asks_before_replacing_an_existing_library(runner, anthias_source, home):
    archive = str(REAL / "anthias-backup.tar.gz")
    invoke(runner, home, "import-anthias", archive)
    database = home / ".screenly" / "screenly.db"
    before = database.read_bytes()

    declined = invoke(runner, home, "import-anthias", str(anthias_source), input="n\n")
    forced = invoke(runner, home, "import-anthias", "--yes", str(anthias_source))

    assert declined.exit_code == 1
    assert "Aborted" in declined.stderr
    assert forced.exit_code == 0, forced.output
    assert database.read_bytes() != before


def test_import_anthias_of_a_missing_path_is_a_one_line_error(runner, tmp_path, home):
    result = invoke(runner, home, "import-anthias", str(tmp_path / "nowhere"))

    assert_one_line_error(result, "does not exist")


def test_import_anthias_of_a_random_file_is_a_one_line_error(runner, tmp_path, home):
    random_file = tmp_path / "random.bin"
    random_file.write_bytes(os.urandom(2048))

    result = invoke(runner, home, "import-anthias", str(random_file))

    assert_one_line_error(result, "neither an Anthias HOME folder nor a backup archive")


def test_import_anthias_of_a_file_named_like_an_archive_that_is_not_one_fails(
    runner, tmp_path, home
):
    fake = tmp_path / "backup.tar.gz"
    fake.write_bytes(os.urandom(2048))

    result = invoke(runner, home, "import-anthias", str(fake))

    assert_one_line_error(result, "could not be read")
    assert not (home / ".screenly" / "screenly.db").exists()


def test_import_anthias_of_a_folder_without_screenly_is_a_one_line_error(
    runner, tmp_path, home
):
    (tmp_path / "pictures").mkdir()

    result = invoke(runner, home, "import-anthias", str(tmp_path / "pictures"))

    assert_one_line_error(result, "has no .screenly/screenly.db")


def test_import_anthias_of_an_unsafe_archive_is_a_one_line_error(runner, tmp_path, home):
    archive = tmp_path / "evil.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(REAL / "README.md", "../escaped.md")

    result = invoke(runner, home, "import-anthias", str(archive))

    assert_one_line_error(result, 'Refusing "../escaped.md"')
    assert not (home.parent / "escaped.md").exists()


def test_import_anthias_refuses_to_run_against_a_database_url(runner, anthias_source, home):
    result = invoke(runner, home, "import-anthias", str(anthias_source),
                    env={"DATABASE_URL": "postgresql://127.0.0.1/edge"})

    assert_one_line_error(result, "unset DATABASE_URL")


# -- serve ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("listen", ["8080", "127.0.0.1", "127.0.0.1:http", ":8080",
                                    "127.0.0.1:70000"])
def test_serve_with_a_bad_listen_option_is_a_one_line_usage_error(runner, home, listen):
    result = invoke(runner, home, "serve", "--listen", listen)

    assert_one_line_error(result, "--listen must be HOST:PORT, e.g. 127.0.0.1:8080", exit_code=2)


def test_serve_with_a_bad_listen_setting_names_the_setting(runner, home):
    result = invoke(runner, home, "serve", env={"ANTHIAS_LISTEN": "localhost"})

    assert_one_line_error(result, "The listen setting (ANTHIAS_LISTEN or screenly.conf)")


def _serve(home: Path, listen: str) -> subprocess.Popen[str]:
    env = {**os.environ, "HOME": str(home), "ANTHIAS_ZMQ_PUBLISHER": "tcp://127.0.0.1:*",
           "ANTHIAS_ZMQ_COLLECTOR": "tcp://127.0.0.1:*", "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "anthias_edge.cli", "serve", "--listen", listen],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    """Servers started by a test; any still running at the end are killed."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=SERVE_TIMEOUT_S)


@pytest.mark.slow
def test_serve_answers_the_api_and_stops_cleanly_on_sigterm(home, processes):
    server = _serve(home, "127.0.0.1:0")
    processes.append(server)

    line = server.stdout.readline()  # blocks until the server is listening (or has died)
    assert line.startswith("Anthias Edge is running at http://127.0.0.1:"), (
        line + server.stderr.read())
    url = line.rsplit(" ", 1)[1].strip()
    with urllib.request.urlopen(url + "api/v2/assets", timeout=10) as response:
        status, body = response.status, json.loads(response.read())
    server.send_signal(signal.SIGTERM)
    exit_code = server.wait(timeout=SERVE_TIMEOUT_S)

    assert (status, body) == (200, [])
    assert exit_code == 0, server.stderr.read()


@pytest.mark.slow
def test_serve_on_a_port_in_use_is_a_one_line_error(home, processes):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = _serve(home, f"127.0.0.1:{port}")
        processes.append(server)
        _, stderr = server.communicate(timeout=SERVE_TIMEOUT_S)

    assert server.returncode == 1
    errors = [line for line in stderr.splitlines() if line.startswith("Error: ")]
    assert errors == [f"Error: Cannot listen on 127.0.0.1:{port}: address already in use."]
    assert "Traceback" not in stderr
