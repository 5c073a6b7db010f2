"""Packaging and test plumbing: setup.cfg, pyproject.toml and the CI skip guard."""

from __future__ import annotations

import configparser
import importlib
import importlib.metadata
import tomllib
from collections import defaultdict
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.plugins import ci_guard

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[1]


def _setup_cfg() -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    parser.read(REPO / "setup.cfg", encoding="utf-8")
    return parser


def _install_requires() -> list[Requirement]:
    lines = _setup_cfg()["options"]["install_requires"].strip().splitlines()
    return [Requirement(line) for line in lines if line.strip()]


def _import_names_by_distribution() -> dict[str, list[str]]:
    names: dict[str, list[str]] = defaultdict(list)
    for module, dists in importlib.metadata.packages_distributions().items():
        for dist in dists:
            names[canonicalize_name(dist)].append(module)
    return names


def test_setup_cfg_declares_the_anthias_edge_console_script() -> None:
    scripts = _setup_cfg()["options.entry_points"]["console_scripts"]

    assert "anthias-edge = anthias_edge.cli:main" in scripts.splitlines()


def test_installed_metadata_carries_the_console_script_and_version() -> None:
    from anthias_edge import __version__

    dist = importlib.metadata.distribution("anthias-edge")
    (script,) = dist.entry_points.select(group="console_scripts", name="anthias-edge")

    assert script.value == "anthias_edge.cli:main"
    assert dist.version == __version__


@pytest.mark.parametrize("requirement", _install_requires(), ids=str)
def test_every_install_requirement_is_installed_and_importable(requirement: Requirement) -> None:
    installed = importlib.metadata.version(requirement.name)
    modules = _import_names_by_distribution()[canonicalize_name(requirement.name)]
    top_level = sorted(m for m in modules if not m.startswith("_"))

    assert requirement.specifier.contains(installed, prereleases=True)
    assert top_level, f"{requirement.name} installs no importable top-level module"
    assert importlib.import_module(top_level[0]).__name__ == top_level[0]


def test_pyproject_holds_only_the_build_system_and_tool_config() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))

    assert set(pyproject) == {"build-system", "tool"}
    assert pyproject["build-system"]["build-backend"] == "setuptools.build_meta"
    assert [Requirement(r).name for r in pyproject["build-system"]["requires"]] == [
        "setuptools",
        "wheel",
    ]


SKIPPING_TEST = """
import pytest

def test_runs():
    assert True

@pytest.mark.skip(reason="needs a screen")
def test_skipped():
    pass
"""


def test_ci_guard_fails_a_session_with_a_skipped_test_when_asked(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ci_guard.ENV_VAR, "1")
    pytester.makepyfile(SKIPPING_TEST)

    result = pytester.runpytest_inprocess(plugins=[ci_guard])

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["SKIPPED test_ci_guard_*.py::test_skipped - needs a screen"])


def test_ci_guard_fails_a_session_with_a_module_skipped_at_collection(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ci_guard.ENV_VAR, "1")
    pytester.makepyfile(
        test_skipped_module="import pytest\npytest.importorskip('no_such_module_here')\n",
        test_passing="def test_runs():\n    assert True\n",
    )

    result = pytester.runpytest_inprocess(plugins=[ci_guard])

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["SKIPPED test_skipped_module.py - *no_such_module_here*"])


def test_ci_guard_lets_xfail_and_skips_pass_without_the_environment_variable(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ci_guard.ENV_VAR, raising=False)
    pytester.makepyfile(
        SKIPPING_TEST + "\n@pytest.mark.xfail(reason='known')\ndef test_x():\n    assert False\n"
    )

    result = pytester.runpytest_inprocess(plugins=[ci_guard])

    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=1, skipped=1, xfailed=1)
    assert f"{ci_guard.ENV_VAR}=1" not in result.stdout.str()


def test_ci_guard_does_not_count_an_xfail_as_a_skip(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ci_guard.ENV_VAR, "1")
    pytester.makepyfile(
        "import pytest\n@pytest.mark.xfail(reason='known')\ndef test_x():\n    assert False\n"
    )

    result = pytester.runpytest_inprocess(plugins=[ci_guard])

    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(xfailed=1)


def test_package_data_ships_every_template_and_static_file() -> None:
    # A file the app serves but package_data misses is absent from an installed wheel: the
    # page works from a checkout and breaks on a Pi. Documentation (*.md) is not served.
    section = _setup_cfg()["options.package_data"]
    shipped: set[Path] = set()
    for package in ("anthias_edge", "web_ui"):
        for pattern in section[package].split():
            shipped.update(path for path in (REPO / package).glob(pattern) if path.is_file())
    data_files = {
        path
        for package in ("anthias_edge", "web_ui")
        for path in (REPO / package).rglob("*")
        if path.is_file()
        and path.suffix not in {".py", ".pyc", ".md"}
        and "__pycache__" not in path.parts
    }

    assert sorted(str(path.relative_to(REPO)) for path in data_files - shipped) == []
