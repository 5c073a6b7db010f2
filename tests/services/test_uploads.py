"""services/uploads.py: whole and chunked uploads on disk, and the clean-up of stale ones."""

from __future__ import annotations

import io
import os
import time

import pytest

from anthias_edge.errors import InvalidContentRange, InvalidFileType, MissingUpload
from anthias_edge.services.uploads import ChunkRange, receive_upload, remove_stale_uploads


def test_a_whole_upload_gets_a_fresh_tmp_name_each_time(tmp_path):
    first = receive_upload(tmp_path, "a.png", io.BytesIO(b"one"))
    second = receive_upload(tmp_path, "a.png", io.BytesIO(b"two"))
    assert first.path != second.path
    assert (first.path.read_bytes(), second.path.read_bytes()) == (b"one", b"two")
    assert (first.ext, first.complete) == (".png", True)
    assert not list(tmp_path.glob("*.part"))


def test_an_upload_without_a_stream_is_missing(tmp_path):
    with pytest.raises(MissingUpload):
        receive_upload(tmp_path, None, None)


def test_an_unknown_type_is_refused_before_anything_is_written(tmp_path):
    with pytest.raises(InvalidFileType):
        receive_upload(tmp_path, "notes.txt", io.BytesIO(b"x"))
    assert list(tmp_path.iterdir()) == []


def test_chunks_complete_only_with_the_last_byte(tmp_path):
    data = os.urandom(100)
    first = receive_upload(tmp_path, "v.mp4", io.BytesIO(data[:60]), content_range="bytes 0-59/100")
    assert first.complete is False
    last = receive_upload(tmp_path, "v.mp4", io.BytesIO(data[60:]),
                          content_range="bytes 60-99/100")
    assert (last.path, last.complete) == (first.path, True)
    assert last.path.read_bytes() == data


def test_a_resent_chunk_overwrites_instead_of_appending(tmp_path):
    data = os.urandom(100)
    receive_upload(tmp_path, "v.mp4", io.BytesIO(data[:60]), content_range="bytes 0-59/100")
    receive_upload(tmp_path, "v.mp4", io.BytesIO(data[:60]), content_range="bytes 0-59/100")
    done = receive_upload(tmp_path, "v.mp4", io.BytesIO(data[60:]),
                          content_range="bytes 60-99/100")
    assert done.path.read_bytes() == data


def test_different_upload_keys_keep_separate_files(tmp_path):
    one = receive_upload(tmp_path, "v.mp4", io.BytesIO(b"a" * 10), content_range="bytes 0-9/20",
                         upload_key="one")
    two = receive_upload(tmp_path, "v.mp4", io.BytesIO(b"b" * 10), content_range="bytes 0-9/20",
                         upload_key="two")
    assert one.path != two.path


def test_a_chunk_shorter_than_its_range_is_refused_and_leaves_the_earlier_bytes(tmp_path):
    first = receive_upload(tmp_path, "v.mp4", io.BytesIO(b"a" * 10),
                           content_range="bytes 0-9/30")
    with pytest.raises(InvalidContentRange, match="announces 10 bytes but the chunk holds 4"):
        receive_upload(tmp_path, "v.mp4", io.BytesIO(b"b" * 4), content_range="bytes 10-19/30")
    assert first.path.read_bytes() == b"a" * 10


@pytest.mark.parametrize("header", ["bytes 5-4/10", "bytes 0-10/10", "items 0-1/2", "bytes 0-1"])
def test_a_malformed_content_range_is_refused(header):
    with pytest.raises(InvalidContentRange):
        ChunkRange.parse(header)


def test_an_unknown_total_is_accepted():
    assert ChunkRange.parse("bytes 0-9/*") == ChunkRange(0, 9, None)


def test_only_stale_tmp_files_are_cleaned_up(tmp_path):
    old, fresh, kept = tmp_path / "old.tmp", tmp_path / "fresh.tmp", tmp_path / "asset.png"
    for path in (old, fresh, kept):
        path.write_bytes(b"x")
    past = time.time() - 7200
    os.utime(old, (past, past))
    os.utime(kept, (past, past))
    assert remove_stale_uploads(tmp_path) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["asset.png", "fresh.tmp"]


def test_stale_uploads_in_tenant_folders_are_cleaned_up_too(tmp_path):
    tenant = tmp_path / "2f1c0a4e-5b7d-4d8e-9f00-0123456789ab"
    tenant.mkdir()
    stale, fresh, media = tenant / "old.tmp", tenant / "new.tmp", tenant / "kept.png"
    for path in (stale, fresh, media):
        path.write_bytes(b"x")
    for path in (stale, media):
        old = time.time() - 7200
        os.utime(path, (old, old))

    assert remove_stale_uploads(tmp_path) == 1
    assert sorted(p.name for p in tenant.iterdir()) == ["kept.png", "new.tmp"]
