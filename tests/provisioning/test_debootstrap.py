"""The shared Debian 12 tree: built once, and each test's copy is its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.provisioning.debootstrap import build_tree, chroot_run, fresh_root, tree_key

pytestmark = [pytest.mark.sqlite_only, pytest.mark.slow]  # no database involved: one pass


def test_tree_key_ignores_package_order_but_not_the_list() -> None:
    assert tree_key("bookworm", ["a", "b"]) == tree_key("bookworm", ["b", "a"])
    assert tree_key("bookworm", ["a"]) != tree_key("bookworm", ["a", "b"])
    assert tree_key("bookworm", ["a"]) != tree_key("bookworm", ["a"], ["c"])


def test_the_tree_is_debian_12_with_python(debian_root: Path) -> None:
    release = (debian_root / "etc/os-release").read_text()
    assert "VERSION_CODENAME=bookworm" in release
    code = "import apt, venv, sys; print(sys.version_info[:2])"
    out = chroot_run(debian_root, "python3", "-c", code)
    assert out.stdout.strip() == "(3, 11)"
    assert chroot_run(debian_root, "cat", "/proc/1/status").stdout.startswith("Name:")


def test_a_copy_does_not_write_into_the_cached_tree(debian_tree: Path, tmp_path: Path) -> None:
    with fresh_root(debian_tree, tmp_path / "one") as one:
        chroot_run(one, "sh", "-c", "echo mine > /etc/written-by-test")
        assert (one / "etc/written-by-test").read_text() == "mine\n"
    assert not (debian_tree / "etc/written-by-test").exists()
    with fresh_root(debian_tree, tmp_path / "two") as two:
        assert not (two / "etc/written-by-test").exists()
    # Built once: asking again returns the same cached tree without building.
    assert build_tree() == debian_tree
