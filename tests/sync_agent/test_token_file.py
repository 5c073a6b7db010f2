"""The fleet token file: its formats, its mistakes as one clear sentence, and its removal."""

from __future__ import annotations

import pytest

from anthias_edge.errors import ValidationError
from cloud_sync.agent.token_file import consume_token_file, read_token_file

TOKEN = "aft_" + "A" * 20 + "b-_" + "9" * 20


def write(tmp_path, text, *, raw: bytes | None = None):
    path = tmp_path / "anthias-fleet.token"
    path.write_bytes(raw if raw is not None else text.encode("utf-8"))
    return path


def test_a_file_holding_just_the_token_is_read(tmp_path):
    found = read_token_file(write(tmp_path, f"{TOKEN}\n"))

    assert (found.token, found.cloud_url, found.name) == (TOKEN, None, None)


def test_key_value_lines_with_comments_crlf_and_a_bom_are_read(tmp_path):
    text = (f"# written on a PC\r\ntoken = {TOKEN}\r\n\r\ncloud=https://cloud.example.com/\r\n"
            "NAME=Lobby screen\r\n")
    found = read_token_file(write(tmp_path, "", raw=b"\xef\xbb\xbf" + text.encode()))

    assert found.token == TOKEN
    assert found.cloud_url == "https://cloud.example.com"
    assert found.name == "Lobby screen"


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_a_missing_or_empty_file_means_nothing_to_do(tmp_path, text):
    assert read_token_file(tmp_path / "absent") is None
    assert read_token_file(write(tmp_path, text)) is None


@pytest.mark.parametrize(("text", "problem"), [
    ("token=\n", "has no token"),
    ("cloud=https://c.example\n", "has no token"),
    ("not-a-token\n", "is not a fleet token"),
    (f"token={TOKEN}\ncolour=blue\n", "line 2: unknown key 'colour'"),
    (f"token={TOKEN}\ntoken={TOKEN}\n", "line 2: token is given twice"),
    (f"token={TOKEN}\ncloud=ftp://c.example\n", "has a cloud address that must be an absolute"),
    (f"token={TOKEN}\nname={'x' * 101}\n", "name longer than 100"),
])
def test_a_file_that_cannot_be_used_says_why_naming_the_file(tmp_path, text, problem):
    path = write(tmp_path, text)

    with pytest.raises(ValidationError) as caught:
        read_token_file(path)

    words = " ".join(caught.value.field_errors["fleet_token_file"])
    assert str(path) in words
    assert problem in words


def test_a_file_that_is_not_text_is_refused(tmp_path):
    with pytest.raises(ValidationError, match="cannot be used"):
        read_token_file(write(tmp_path, "", raw=b"\xff\xfe\x00token"))


def test_a_used_token_file_is_deleted(tmp_path):
    path = write(tmp_path, TOKEN)

    assert consume_token_file(path) == "deleted"
    assert not path.exists()


def test_a_token_file_that_may_not_be_deleted_is_blanked(tmp_path, monkeypatch):
    path = write(tmp_path, TOKEN)

    def refuse(self, missing_ok=False):
        # What a boot partition mounted for another owner answers (root could delete anything
        # in a test folder, so the refusal is made here).
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(type(path), "unlink", refuse)

    assert consume_token_file(path) == "blanked"
    assert path.read_bytes() == b""
    assert read_token_file(path) is None
