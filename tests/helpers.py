"""Small helpers the API tests share (imported as ``tests.helpers``)."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path
from typing import Any

ACTIVE = {"start_date": "2019-08-24T14:15:22Z", "end_date": "2099-08-24T14:15:22Z"}


def v2_asset(**fields: Any) -> dict[str, Any]:
    """A valid v2 create body for an active web page; override any field."""
    body = {"name": "Anthias", "uri": "https://anthias.screenly.io", **ACTIVE, "duration": 20,
            "mimetype": "webpage", "is_enabled": True, "nocache": False, "play_order": 0,
            "skip_asset_check": True}
    body.update(fields)
    return body


def v1_model(**fields: Any) -> dict[str, str]:
    """A v1/v1.1 create form: the asset as a JSON string in ``model``."""
    model = {"name": "Anthias", "uri": "https://anthias.screenly.io", **ACTIVE, "duration": "20",
             "mimetype": "webpage", "is_enabled": 1, "skip_asset_check": 1}
    model.update(fields)
    return {"model": json.dumps(model)}


def basic(user: str, password: str) -> dict[str, str]:
    """An Authorization header for HTTP Basic."""
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def in_asset_folder(client: Any, path: Path) -> Path:
    """Copy a file into the server's asset folder, where local assets must live."""
    target = client.application.extensions["anthias"].settings.asset_dir / path.name
    shutil.copyfile(path, target)
    return target
