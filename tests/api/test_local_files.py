"""Local-file assets must live in the asset folder: the API never reads the host's other files."""

from __future__ import annotations

import base64

from tests.helpers import v1_model, v2_asset


def test_an_asset_pointing_at_a_host_file_is_refused_by_every_version(client, tmp_path):
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"not for the LAN")
    v1 = client.post("/api/v1/assets", data=v1_model(uri=str(secret), mimetype="image"))
    v2 = client.post("/api/v2/assets", json=v2_asset(uri=str(secret), mimetype="image"))
    assert (v1.status_code, v1.get_json()) == (
        500, {"error": "Invalid file path. Failed to add asset."})
    assert (v2.status_code, v2.get_json()) == (
        500, {"error": "Invalid file path. Failed to add asset."})
    assert client.get("/api/v2/assets").get_json() == []
    assert secret.read_bytes() == b"not for the LAN"  # neither moved nor touched


def test_content_of_a_stored_path_outside_the_asset_folder_is_not_sent(app, client, tmp_path):
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"not for the LAN")
    inside = app.extensions["anthias"].settings.asset_dir / "shown.png"
    inside.write_bytes(b"\x89PNG shown")
    created = client.post("/api/v2/assets", json=v2_asset(uri=str(inside), mimetype="image",
                                                          name="shown.png")).get_json()
    # A row written by an older Anthias may still name any path on the host.
    from anthias_edge.models import Asset

    with app.extensions["anthias"].database.connection_context():
        Asset.update(uri=str(secret)).where(Asset.asset_id == created["asset_id"]).execute()
    body = client.get(f"/api/v2/assets/{created['asset_id']}/content").get_json()
    assert body == {"type": "url", "url": str(secret)}


def test_content_of_a_file_in_the_asset_folder_is_sent(app, client):
    inside = app.extensions["anthias"].settings.asset_dir / "shown.png"
    inside.write_bytes(b"\x89PNG shown")
    created = client.post("/api/v2/assets", json=v2_asset(uri=str(inside), mimetype="image",
                                                          name="shown.png")).get_json()
    body = client.get(f"/api/v2/assets/{created['asset_id']}/content").get_json()
    assert body["type"] == "file"
    assert base64.b64decode(body["content"]) == b"\x89PNG shown"
