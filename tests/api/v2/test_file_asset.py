"""``POST /api/v2/file_asset``: whole and chunked uploads, then creating the asset
(docs/legacy-api.md §3.10, §4.7)."""

from __future__ import annotations

import io
import os
import threading
from pathlib import Path

from tests.helpers import v2_asset

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
       b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff"
       b"\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82")


def upload(client, data: bytes, filename: str = "Storefront.png", headers=None):
    return client.post("/api/v2/file_asset", headers=headers or {},
                       data={"file_upload": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def send_in_chunks(client, data: bytes, filename: str, parts: int, upload_id: str | None = None):
    size = -(-len(data) // parts)
    response = None
    for start in range(0, len(data), size):
        chunk = data[start:start + size]
        headers = {"Content-Range": f"bytes {start}-{start + len(chunk) - 1}/{len(data)}"}
        if upload_id:
            headers["X-Upload-Id"] = upload_id
        response = upload(client, chunk, filename, headers)
        assert response.status_code == 200, response.get_data(as_text=True)
    return response


def test_an_image_upload_answers_with_a_tmp_uri_and_the_extension(client, runtime):
    response = upload(client, PNG)
    assert response.status_code == 200
    body = response.get_json()
    assert list(body) == ["uri", "ext"]
    assert body["ext"] == ".png"
    path = Path(body["uri"])
    assert path.parent == runtime.settings.asset_dir
    assert path.suffix == ".tmp" and len(path.stem) == 32
    assert path.read_bytes() == PNG


def test_creating_from_the_upload_moves_it_to_the_asset_id_and_delete_removes_it(
        client, runtime):
    uploaded = upload(client, PNG).get_json()
    response = client.post("/api/v2/assets", json=v2_asset(
        name="Storefront.png", uri=uploaded["uri"], ext=uploaded["ext"], mimetype="image"))
    assert response.status_code == 201
    asset = response.get_json()
    final = runtime.settings.asset_dir / f"{asset['asset_id']}.png"
    assert asset["uri"] == str(final)
    assert final.read_bytes() == PNG
    assert not Path(uploaded["uri"]).exists()
    content = client.get(f"/api/v2/assets/{asset['asset_id']}/content").get_json()
    assert (content["type"], content["filename"], content["mimetype"]) == (
        "file", "Storefront.png", "image/png")
    assert client.delete(f"/api/v2/assets/{asset['asset_id']}").status_code == 204
    assert not final.exists()


def test_a_file_that_is_neither_image_nor_video_is_an_invalid_file_type(client, runtime):
    response = upload(client, b"%PDF-1.4", "menu.pdf")
    assert response.status_code == 500
    assert response.get_json() == {"error": "Invalid file type."}
    assert list(runtime.settings.asset_dir.iterdir()) == []


def test_an_upload_without_a_file_gives_anthias_nonetype_text(client, runtime):
    response = client.post("/api/v2/file_asset", data={}, content_type="multipart/form-data")
    assert response.status_code == 500
    assert response.get_json() == {"error": "'NoneType' object has no attribute 'name'"}


def test_three_chunks_reassemble_byte_for_byte(client, runtime):
    data = os.urandom(300_001)
    body = send_in_chunks(client, data, "clip.mp4", parts=3).get_json()
    assert body["ext"] == ".mp4"
    assert Path(body["uri"]).read_bytes() == data


def test_two_interleaved_chunked_uploads_of_the_same_name_both_stay_intact(app, runtime):
    first, second = os.urandom(90_000), os.urandom(90_000)
    barrier = threading.Barrier(2)
    results: dict[str, bytes] = {}
    errors: list[BaseException] = []

    def run(upload_id: str, data: bytes) -> None:
        try:
            client = app.test_client()
            size = 30_000
            response = None
            for start in range(0, len(data), size):
                barrier.wait(timeout=10)  # each chunk of one upload alternates with the other's
                chunk = data[start:start + size]
                response = upload(client, chunk, "same.mp4", {
                    "Content-Range": f"bytes {start}-{start + len(chunk) - 1}/{len(data)}",
                    "X-Upload-Id": upload_id})
                assert response.status_code == 200
            results[upload_id] = Path(response.get_json()["uri"]).read_bytes()
        except BaseException as exc:  # surfaced below, in the test's thread
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=run, args=("one", first)),
               threading.Thread(target=run, args=("two", second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert results == {"one": first, "two": second}


def test_a_chunk_that_starts_past_the_received_bytes_is_a_clear_error(client, runtime):
    data = os.urandom(1000)
    assert upload(client, data[:400], "clip.mp4",
                  {"Content-Range": "bytes 0-399/1000"}).status_code == 200
    response = upload(client, data[800:], "clip.mp4", {"Content-Range": "bytes 800-999/1000"})
    assert response.status_code == 500
    assert response.get_json() == {
        "error": "Chunk starts at byte 800 but only 400 bytes were received."}


def test_a_chunk_past_the_total_is_a_clear_error(client, runtime):
    response = upload(client, b"x" * 10, "clip.mp4", {"Content-Range": "bytes 995-1004/1000"})
    assert response.status_code == 500
    assert "out of order" in response.get_json()["error"]


def test_a_chunk_longer_than_its_content_range_is_a_clear_error(client, runtime):
    response = upload(client, b"x" * 50, "clip.mp4", {"Content-Range": "bytes 0-9/100"})
    assert response.status_code == 500
    assert "Content-Range" in response.get_json()["error"]
