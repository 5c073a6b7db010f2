"""Where the console lives: only in cloud mode; a device keeps its dashboard at ``/``."""

from __future__ import annotations

from flask.testing import FlaskClient


def test_a_device_still_serves_its_dashboard_at_the_root(client: FlaskClient):
    response = client.get("/")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<h1>Assets</h1>" in page
    assert "/console/static/" not in page
    assert "Content-Security-Policy" not in response.headers


def test_a_device_has_no_console_files(client: FlaskClient):
    assert client.get("/console/static/app.js").status_code == 404
    assert client.get("/api/v3/openapi.json").status_code == 200
