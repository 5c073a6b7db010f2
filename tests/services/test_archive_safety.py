"""Tests for vetting and extracting untrusted tar archives."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

import pytest

from anthias_edge.errors import UnreadableArchive, UnsafeArchive
from anthias_edge.services.archive_safety import check_members, safe_extract

FIXTURE_BACKUP = Path(__file__).resolve().parents[1] / "fixtures/anthias-real/anthias-backup.tar.gz"


def _member(name: str, kind: bytes = tarfile.REGTYPE, *, data: bytes = b"", link: str = ""):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
    if kind in (tarfile.CHRTYPE, tarfile.BLKTYPE):
        info.devmajor, info.devminor = 1, 3
    return info, data


def _tar_bytes(members) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return buffer.getvalue()


def _write_tgz(path: Path, members) -> Path:
    path.write_bytes(gzip.compress(_tar_bytes(members)))
    return path


def _all_paths(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


SAFE_TREES = [
    _member(".screenly", tarfile.DIRTYPE),
    _member(".screenly/screenly.conf", data=b"[main]\n"),
    _member("screenly_assets", tarfile.DIRTYPE),
]

HOSTILE = {
    "parent escape": ([_member("../evil", data=b"x")], "../evil"),
    "absolute name": ([_member("/abs/evil", data=b"x")], "/abs/evil"),
    "dot-dot inside the path": (
        [_member(".screenly/../../evil", data=b"x")],
        ".screenly/../../evil",
    ),
    "symlink to an absolute folder": (
        [_member("screenly_assets/x", tarfile.SYMTYPE, link="/etc")],
        "screenly_assets/x",
    ),
    "symlink that climbs out": (
        [_member("screenly_assets/x", tarfile.SYMTYPE, link="../../..")],
        "screenly_assets/x",
    ),
    "symlink then a file through it": (
        [
            _member("screenly_assets/x", tarfile.SYMTYPE, link="/etc"),
            _member("screenly_assets/x/passwd", data=b"root::0:0::/:/bin/sh\n"),
        ],
        "screenly_assets/x",
    ),
    "link chain that only escapes once resolved": (
        [
            _member("screenly_assets/here", tarfile.SYMTYPE, link="."),
            _member("screenly_assets/up", tarfile.SYMTYPE, link="here/../.."),
        ],
        "screenly_assets/up",
    ),
    "hard link to /etc/passwd": (
        [_member("screenly_assets/passwd", tarfile.LNKTYPE, link="/etc/passwd")],
        "screenly_assets/passwd",
    ),
    "hard link that climbs out": (
        [_member("screenly_assets/passwd", tarfile.LNKTYPE, link="../../etc/passwd")],
        "screenly_assets/passwd",
    ),
    "hard link to a file not in the archive": (
        [_member("screenly_assets/copy", tarfile.LNKTYPE, link="screenly_assets/absent")],
        "screenly_assets/copy",
    ),
    "character device": (
        [_member("screenly_assets/null", tarfile.CHRTYPE)],
        "screenly_assets/null",
    ),
    "block device": ([_member("screenly_assets/sda", tarfile.BLKTYPE)], "screenly_assets/sda"),
    "fifo": ([_member("screenly_assets/pipe", tarfile.FIFOTYPE)], "screenly_assets/pipe"),
}


@pytest.mark.parametrize("case", HOSTILE, ids=list(HOSTILE))
def test_a_hostile_member_is_refused_before_anything_is_written(tmp_path, case):
    members, culprit = HOSTILE[case]
    archive = _write_tgz(tmp_path / "hostile.tar.gz", [*SAFE_TREES, *members])
    dest = tmp_path / "dest"
    dest.mkdir()

    with pytest.raises(UnsafeArchive) as caught:
        safe_extract(archive, dest)

    assert f'"{culprit}"' in caught.value.message
    assert _all_paths(dest) == []
    assert not (tmp_path / "evil").exists()


def test_the_refusal_names_the_member_and_says_why(tmp_path):
    archive = io.BytesIO(_tar_bytes([_member("../../etc/passwd")]))
    with tarfile.open(fileobj=archive) as tar, pytest.raises(UnsafeArchive) as caught:
        check_members(tar)

    assert caught.value.message == (
        'Refusing "../../etc/passwd": it would be written outside HOME.'
    )


def test_links_that_stay_inside_are_extracted(tmp_path):
    archive = _write_tgz(
        tmp_path / "links.tar.gz",
        [
            *SAFE_TREES,
            _member("screenly_assets/a.png", data=b"png"),
            _member("screenly_assets/b.png", tarfile.SYMTYPE, link="a.png"),
            _member("screenly_assets/conf", tarfile.SYMTYPE, link="../.screenly/screenly.conf"),
            _member("screenly_assets/c.png", tarfile.LNKTYPE, link="screenly_assets/a.png"),
        ],
    )
    dest = tmp_path / "dest"
    dest.mkdir()

    names = safe_extract(archive, dest)

    assert names == [".screenly", "screenly_assets"]
    assert (dest / "screenly_assets/b.png").read_bytes() == b"png"
    assert (dest / "screenly_assets/conf").read_bytes() == b"[main]\n"
    assert (dest / "screenly_assets/c.png").read_bytes() == b"png"


def test_the_real_anthias_backup_extracts_with_its_two_folders(tmp_path):
    names = safe_extract(FIXTURE_BACKUP, tmp_path)

    assert names == [".screenly", "screenly_assets"]
    assert (tmp_path / ".screenly/screenly.db").stat().st_size == 139264
    assert len(list((tmp_path / "screenly_assets").iterdir())) == 2


def test_a_gzip_cut_in_half_is_unreadable(tmp_path):
    data = FIXTURE_BACKUP.read_bytes()
    archive = tmp_path / "cut.tar.gz"
    archive.write_bytes(data[: len(data) // 2])

    with pytest.raises(UnreadableArchive):
        safe_extract(archive, tmp_path / "dest")

    assert not (tmp_path / "dest").exists()


def test_a_gzip_with_a_corrupt_byte_is_unreadable(tmp_path):
    data = bytearray(FIXTURE_BACKUP.read_bytes())
    data[len(data) // 2] ^= 0xFF
    archive = tmp_path / "corrupt.tar.gz"
    archive.write_bytes(bytes(data))

    with pytest.raises(UnreadableArchive):
        safe_extract(archive, tmp_path / "dest")

    assert not (tmp_path / "dest").exists()


def test_a_tar_cut_inside_a_file_fails_mid_extraction_as_unreadable(tmp_path):
    # The gzip stream is whole, so only the extraction of the cut member finds the damage.
    tar = _tar_bytes([*SAFE_TREES, _member("screenly_assets/big.bin", data=b"x" * 100_000)])
    archive = tmp_path / "cut-tar.tar.gz"
    archive.write_bytes(gzip.compress(tar[:50_000]))
    dest = tmp_path / "dest"
    dest.mkdir()

    with pytest.raises(UnreadableArchive) as caught:
        safe_extract(archive, dest)

    assert "could not be read" in caught.value.message


def test_a_plain_tar_named_like_a_gzip_is_unreadable(tmp_path):
    archive = tmp_path / "plain.tar.gz"
    archive.write_bytes(_tar_bytes(SAFE_TREES))

    with pytest.raises(UnreadableArchive) as caught:
        safe_extract(archive, tmp_path)

    assert "gzip" in caught.value.message
    assert _all_paths(tmp_path) == ["plain.tar.gz"]


def test_an_empty_file_is_unreadable(tmp_path):
    archive = tmp_path / "empty.tar.gz"
    archive.write_bytes(b"")

    with pytest.raises(UnreadableArchive):
        safe_extract(archive, tmp_path)

    assert _all_paths(tmp_path) == ["empty.tar.gz"]


def test_special_files_are_refused_by_check_members_alone():
    archive = io.BytesIO(_tar_bytes([_member("pipe", tarfile.FIFOTYPE)]))
    with tarfile.open(fileobj=archive) as tar, pytest.raises(UnsafeArchive) as caught:
        check_members(tar)

    assert caught.value.message.startswith('Refusing "pipe": only regular files')
