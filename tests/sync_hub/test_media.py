"""HEAD/PUT /api/v3/sync/media/<sha256>: resumable, content-addressed, checked, per tenant."""

from __future__ import annotations

import hashlib
import os

from tests.sync_hub.conftest import Hub, SimDevice

DATA = os.urandom(300_000)
SHA = hashlib.sha256(DATA).hexdigest()
URL = f"/api/v3/sync/media/{SHA}"


def put(hub: Hub, device: SimDevice, start: int, chunk: bytes, total: int = len(DATA),
        url: str = URL):
    end = start + len(chunk) - 1
    return hub.signed(device, "PUT", url, raw=chunk, headers={
        "Content-Type": "application/octet-stream",
        "Content-Range": f"bytes {start}-{end}/{total}"})


def stored(hub: Hub, device: SimDevice, sha: str = SHA):
    return hub.app.extensions["sync_hub"].store.path(device.tenant_id, sha)


def test_an_upload_in_chunks_completes_with_its_hash_checked(hub: Hub, device: SimDevice):
    first = put(hub, device, 0, DATA[:100_000])
    assert first.status_code == 200, first.get_json()
    assert first.get_json() == {"received": 100_000, "complete": False}
    assert first.headers["Upload-Offset"] == "100000"
    last = put(hub, device, 100_000, DATA[100_000:])
    assert last.status_code == 201
    assert last.get_json() == {"received": len(DATA), "complete": True}
    path = stored(hub, device)
    assert path is not None and path.read_bytes() == DATA
    assert path.parent.parent.name == device.tenant_id  # <asset_dir>/<tenant>/shared/<sha>
    head = hub.signed(device, "HEAD", URL)
    assert head.status_code == 200
    assert head.headers["Upload-Complete"] == "?1"
    assert head.headers["Upload-Length"] == str(len(DATA))


def test_an_interrupted_upload_resumes_where_head_says(hub: Hub, device: SimDevice):
    put(hub, device, 0, DATA[:50_000])
    head = hub.signed(device, "HEAD", URL)
    assert head.headers["Upload-Offset"] == "50000"
    assert head.headers["Upload-Complete"] == "?0"
    # A chunk sent again from the start, or from further on, is refused with the offset.
    for start in (0, 60_000):
        refused = put(hub, device, start, DATA[start:start + 10_000])
        assert refused.status_code == 416
        assert refused.get_json()["error"]["code"] == "media_offset_mismatch"
        assert refused.headers["Upload-Offset"] == "50000"
    offset = int(head.headers["Upload-Offset"])
    assert put(hub, device, offset, DATA[offset:]).status_code == 201
    assert stored(hub, device).read_bytes() == DATA


def test_bytes_that_do_not_match_the_hash_are_discarded(hub: Hub, device: SimDevice):
    put(hub, device, 0, DATA[:100_000])
    wrong = put(hub, device, 100_000, b"\0" * (len(DATA) - 100_000))
    assert wrong.status_code == 409
    assert wrong.get_json()["error"]["code"] == "media_hash_mismatch"
    assert stored(hub, device) is None
    assert hub.signed(device, "HEAD", URL).status_code == 404  # start again from 0
    assert put(hub, device, 0, DATA).status_code == 201


def test_a_complete_file_is_not_uploaded_twice(hub: Hub, device: SimDevice):
    put(hub, device, 0, DATA)
    again = put(hub, device, 0, DATA[:1000])
    assert again.status_code == 201
    assert again.get_json() == {"received": len(DATA), "complete": True}


def test_tenants_keep_their_own_copies(hub: Hub, device: SimDevice):
    other = hub.add_device(hub.b, "beta screen")
    put(hub, device, 0, DATA)
    assert hub.signed(other, "HEAD", URL).status_code == 404  # A's file is not B's
    assert put(hub, other, 0, DATA).status_code == 201
    assert stored(hub, other) != stored(hub, device)


def test_unknown_and_malformed_uploads(hub: Hub, device: SimDevice):
    assert hub.signed(device, "HEAD", URL).status_code == 404
    bad_name = put(hub, device, 0, DATA[:10], url="/api/v3/sync/media/..%2f..%2fetc")
    assert bad_name.status_code in (400, 404)
    upper = put(hub, device, 0, DATA[:10], url=URL.upper().replace("/API/V3/SYNC/MEDIA",
                                                                   "/api/v3/sync/media"))
    assert upper.status_code == 400
    no_range = hub.signed(device, "PUT", URL, raw=DATA[:10],
                          headers={"Content-Type": "application/octet-stream"})
    assert no_range.status_code == 400
    assert "Content-Range" in no_range.get_json()["error"]["details"]
    short = hub.signed(device, "PUT", URL, raw=DATA[:10], headers={
        "Content-Type": "application/octet-stream",
        "Content-Range": f"bytes 0-19/{len(DATA)}"})
    assert short.status_code == 400


def test_a_chunk_over_8_mib_is_refused_before_it_is_read(hub: Hub, device: SimDevice):
    big = b"x" * (8 * 1024 * 1024 + 1)
    response = put(hub, device, 0, big, total=len(big) + 10)
    assert response.status_code == 413


def test_the_storage_quota_is_checked_before_a_new_file(hub: Hub, device: SimDevice):
    hub.sql("UPDATE tenants SET storage_quota_gb = 0 WHERE id = %s", (hub.a,))
    response = put(hub, device, 0, DATA[:1000])
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "storage_quota_reached"
    assert hub.signed(device, "HEAD", URL).status_code == 404


def test_a_chunk_whose_body_was_swapped_is_refused(hub: Hub, device: SimDevice):
    from cloud_sync.protocol import sign_request

    auth = sign_request(device.key, device.device_id, "PUT", URL, DATA[:1000])
    response = hub.signed(device, "PUT", URL, raw=b"y" * 1000, authorization=auth, headers={
        "Content-Type": "application/octet-stream",
        "Content-Range": f"bytes 0-999/{len(DATA)}"})
    assert response.status_code == 401
    assert hub.signed(device, "HEAD", URL).status_code == 404
