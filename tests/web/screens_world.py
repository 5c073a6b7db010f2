"""The Screens page's world: a cloud server with a fleet, and the Chromium that opens it.

One cloud app (``ANTHIAS_MODE=cloud``) on a PostgreSQL database of its own, served on a free
loopback port for the module; tenants ``acme`` and ``globex`` with one user per role
(tests/web/console/helpers.py). Screens link through the fleet services exactly as the hub
links them (a pairing code, a fleet token, a claimed code), then get what their pushes
would have left: last seen, software, address, free disk, what is on screen, an inventory
and plays.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from anthias_edge.db import db
from anthias_edge.models import Device, DeviceAsset, DevicePlay
from anthias_edge.services.fleet.enrolment import EnrolmentService
from anthias_edge.services.fleet.linking import (
    enroll_with_code,
    enroll_with_fleet_token,
    start_device_code,
)
from anthias_edge.services.row_security import tenant_scope
from anthias_edge.timeutil import utcnow
from cloud_sync.protocol import new_key_pair
from tests.web.console.helpers import ConsoleServer

SHOTS = Path("/tmp/shots_c")
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


@dataclass
class Fleet:
    """The server plus the fleet helpers the tests use."""

    server: ConsoleServer
    ids: dict[str, Any] = field(default_factory=dict)

    def tenant_id(self, tenant: str) -> str:
        return self.server.tenant_ids[tenant]

    def link(self, tenant: str, name: str) -> str:
        """A screen linked to ``tenant`` with a fresh pairing code; its device id."""
        with self.server.db():
            code = EnrolmentService(self.tenant_id(tenant)).create_pairing_code().code
            return enroll_with_code(code, new_key_pair()[1], name, "1.0.0").device_id

    def enroll_with_token(self, token: str, name: str) -> str:
        """A screen linked with fleet token ``token``."""
        with self.server.db():
            return enroll_with_fleet_token(token, new_key_pair()[1], name).device_id

    def enroll_with_code(self, code: str, name: str) -> str:
        """A screen that typed ``code`` (made on the page)."""
        with self.server.db():
            return enroll_with_code(code, new_key_pair()[1], name).device_id

    def device_code(self, name: str) -> str:
        """A code an unlinked screen shows (for an admin to claim)."""
        with self.server.db():
            return start_device_code(new_key_pair()[1], name).code

    def report(self, tenant: str, device_id: str, *, seen_ago: dt.timedelta | None,
               version: str = "2.4.0", address: str = "192.168.1.20",
               free_disk: int | None = 12_300_000_000, on_screen: tuple[str, str] | None = None
               ) -> None:
        """What a screen's pushes leave on its row (health and last seen)."""
        now = utcnow()
        with self.server.db(), tenant_scope(self.server.runtime.database,
                                            self.tenant_id(tenant)):
            Device.update(
                last_seen_at=None if seen_ago is None else now - seen_ago,
                last_push_at=None if seen_ago is None else now - seen_ago,
                health_at=None if seen_ago is None else now - seen_ago,
                software_version=version, address=address, free_disk_bytes=free_disk,
                on_screen_asset_id=on_screen[0] if on_screen else None,
                on_screen_name=on_screen[1] if on_screen else None,
            ).where(Device.device_id == device_id).execute()

    def inventory(self, tenant: str, device_id: str, names: list[str]) -> list[str]:
        """Assets the screen pushed; their ids."""
        ids = []
        with self.server.db(), tenant_scope(self.server.runtime.database,
                                            self.tenant_id(tenant)):
            for order, name in enumerate(names):
                asset_id = uuid.uuid4().hex
                DeviceAsset.create(device_id=device_id, asset_id=asset_id,
                                   tenant=self.tenant_id(tenant), name=name,
                                   uri=f"https://example.com/{order}", mimetype="webpage",
                                   duration=10, is_enabled=True, play_order=order,
                                   updated_at=utcnow(), seq=order + 1)
                ids.append(asset_id)
        return ids

    def plays(self, tenant: str, device_id: str, plays: list[tuple[str, str, dt.datetime, float]]
              ) -> None:
        """Plays the screen reported: (asset_id, asset_name, started_at, seconds)."""
        with self.server.db(), tenant_scope(self.server.runtime.database,
                                            self.tenant_id(tenant)):
            for asset_id, name, started, seconds in plays:
                DevicePlay.create(play_id=uuid.uuid4().hex, tenant=self.tenant_id(tenant),
                                  device_id=device_id, asset_id=asset_id, asset_name=name,
                                  started_at=started, duration_s=seconds)
            last = max(started for _a, _n, started, _s in plays)
            Device.update(last_play_at=last).where(Device.device_id == device_id).execute()

    def row(self, tenant: str, model: Any, *where: Any) -> Any:
        """One row of ``model`` in ``tenant`` (RLS applies on PostgreSQL)."""
        with self.server.db(), tenant_scope(self.server.runtime.database,
                                            self.tenant_id(tenant)):
            return model.get(*where)

    def rows(self, tenant: str, model: Any, *where: Any) -> list[Any]:
        with self.server.db(), tenant_scope(self.server.runtime.database,
                                            self.tenant_id(tenant)):
            return list(model.select().where(*where))


def bind(server: ConsoleServer) -> None:
    """Point the models at the server's database (another app of the session may not)."""
    db.initialize(server.runtime.database)


def shot(page: Any, name: str, sizes: Iterator[tuple[str, dict[str, int]]] | None = None
         ) -> None:
    """Full-page screenshots of ``page`` at desktop and phone size into /tmp/shots_c/."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    original = page.viewport_size
    for label, size in sizes or (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.wait_for_timeout(150)  # the layout settles after a resize
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)
    if original:
        page.set_viewport_size(original)
