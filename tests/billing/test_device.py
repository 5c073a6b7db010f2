"""A device (not in the cloud, not linked) has no subscription and no limits beyond Anthias's."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from anthias_edge.services.billing import effective_limits
from tests.api.v3.conftest import World
from tests.helpers import basic

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def _conf(home: Path) -> None:
    """The device's screenly.conf Basic-auth user ``pi``: v3's local owner."""
    config = home / ".screenly"
    config.mkdir(exist_ok=True)
    digest = hashlib.sha256(b"raspberry pie").hexdigest()
    (config / "screenly.conf").write_text(
        f"[main]\nauth_backend = auth_basic\n\n[auth_basic]\nuser = pi\npassword = {digest}\n",
        encoding="utf-8")


def _owner(world: World) -> dict[str, str]:
    login = world.client.post("/api/v3/auth/token",
                              json={"username": "pi", "password": "raspberry pie"})
    assert login.status_code == 200, login.get_json()
    return {"Authorization": f"Bearer {login.get_json()['access_token']}"}


def test_a_device_cannot_subscribe_and_keeps_its_own_limits(make_world, home: Path):
    _conf(home)
    world = make_world()
    owner = _owner(world)
    local = world.runtime.local_tenant_id

    shown = world.client.get("/api/v3/subscription", headers=owner).get_json()
    trial = world.client.post("/api/v3/subscription", headers=owner,
                              json={"action": "trial", "plan": "basic"})
    free = world.client.put("/api/v3/subscription", headers=owner, json={"plan": "free"})

    assert shown["subscription"] is None and shown["plan"] == "device"
    assert trial.status_code == free.status_code == 503
    assert trial.get_json()["error"]["code"] == "billing_unavailable"
    with world.db():
        limits = effective_limits(local)
    assert (limits.plan, limits.max_assets) == ("device", 9999)
    # No storage quota on a device: its disk is the limit, legacy and v3 uploads alike.
    legacy = world.client.post("/api/v2/file_asset", headers=basic("pi", "raspberry pie"),
                               data={"file_upload": (io.BytesIO(PNG), "a.png")},
                               content_type="multipart/form-data")
    v3 = world.client.post("/api/v3/uploads", headers=owner,
                           data={"file": (io.BytesIO(PNG), "a.png")},
                           content_type="multipart/form-data")
    assert legacy.status_code == 200 and v3.status_code == 200
