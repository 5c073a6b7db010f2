"""What a client of the legacy APIs does in many tests: create an asset, read the play order.

One copy per action, so that a change to a version's valid create body is made once.
"""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from tests.helpers import v1_2_asset, v1_model, v2_asset

# The versions that take v1's form ``model`` wrapper; v1.2 and v2 take JSON fields.
MODEL_FORM_VERSIONS = ("v1", "v1.1")


def create_asset(client: FlaskClient, version: str = "v2", **fields: Any) -> dict[str, Any]:
    """Create a valid web page through API ``version`` (``fields`` override); the 201 body.

    v1 and v1.1 get a form ``model`` of an enabled page, v1.2 JSON of a disabled one, v2 JSON
    of an enabled one, as each version's own tests have always used.
    """
    path = f"/api/{version}/assets"
    if version in MODEL_FORM_VERSIONS:
        response = client.post(path, data=v1_model(**fields))
    elif version == "v1.2":
        response = client.post(path, json=v1_2_asset(**fields))
    else:
        response = client.post(path, json=v2_asset(**fields))
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def create_asset_id(client: FlaskClient, version: str = "v2", **fields: Any) -> str:
    """Like ``create_asset``, returning only the new asset's id."""
    return create_asset(client, version, **fields)["asset_id"]


def play_orders(client: FlaskClient, version: str = "v2") -> dict[str, int]:
    """Name -> play_order of every asset, as API ``version`` lists them."""
    return {a["name"]: a["play_order"] for a in client.get(f"/api/{version}/assets").get_json()}
