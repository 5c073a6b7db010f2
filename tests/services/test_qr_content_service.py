"""QRContentService on its own: which code a screen shows, sharing, clashes, tenant scope."""

from __future__ import annotations

import datetime as dt
import itertools
import secrets
from collections.abc import Iterator

import pytest
from flask import Flask

from anthias_edge.errors import QRContentNotFound
from anthias_edge.models import Asset, AuditLog, QRContent
from anthias_edge.services.qr_content import QRContentService
from anthias_edge.services.tenants import create_tenant

NOW = dt.datetime(2030, 1, 1, 12, 0)


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def db(app: Flask) -> Iterator[None]:
    """An open connection to the app's migrated database."""
    with app.extensions["anthias"].database.connection_context():
        yield


@pytest.fixture
def tenants(db: None) -> tuple[str, str]:
    """Two tenants' ids."""
    made = [create_tenant(name, name.lower(), f"{name.lower()}-owner", "long enough pw")[0].id
            for name in ("One", "Two")]
    return made[0], made[1]


def asset(tenant: str, asset_id: str, name: str = "Page") -> Asset:
    """A stored asset of ``tenant``."""
    return Asset.create(asset_id=asset_id, name=name, uri="https://example.org/",
                        mimetype="webpage", duration=10, tenant=tenant)


def test_a_screen_shows_the_newest_active_unexpired_code_of_its_asset(tenants):
    one, _two = tenants
    clock = Clock()
    service = QRContentService(one, clock=clock)
    asset(one, "a1")
    older = service.create("a1")
    clock.now += dt.timedelta(minutes=1)
    newer = service.create("a1", expires_at=NOW + dt.timedelta(hours=1))

    shown_first = service.active_for_asset("a1").qr_code
    clock.now = NOW + dt.timedelta(hours=2)  # the newer one has expired
    shown_after_expiry = service.active_for_asset("a1").qr_code
    service.deactivate(older.qr_code)
    shown_when_none_is_live = service.active_for_asset("a1")

    assert (shown_first, shown_after_expiry) == (newer.qr_code, older.qr_code)
    assert shown_when_none_is_live is None
    assert service.active_for_asset("no-such-asset") is None


def test_sharing_twice_keeps_one_code_and_unsharing_deactivates_every_active_one(tenants):
    one, _two = tenants
    service = QRContentService(one, clock=Clock(), actor="u1")
    shared = asset(one, "a1", "Menu")
    extra = service.create("a1", "Extra")

    first = service.share_asset(shared)
    second = service.share_asset(shared)
    count = service.unshare_asset("a1")

    assert first.qr_code == second.qr_code == extra.qr_code  # an active code already existed
    assert count == 1
    assert [row.is_active for row in QRContent.select()] == [False]
    assert [e.action for e in AuditLog.select().where(AuditLog.actor == "u1")
            .order_by(AuditLog.id)] == [
        "qr.create", "qr.update"]


def test_a_drawn_code_that_clashes_is_drawn_again(tenants, monkeypatch):
    one, _two = tenants
    service = QRContentService(one, clock=Clock())
    asset(one, "a1")
    taken = service.create("a1")
    draws = itertools.chain([taken.qr_code[2:].lower()], iter(lambda: "ab" * 8, None))
    monkeypatch.setattr(secrets, "token_hex", lambda _n: next(draws))

    fresh = service.create("a1")

    assert fresh.qr_code == "QR" + "AB" * 8
    assert QRContent.select().count() == 2


def test_a_tenant_never_reaches_anothers_code_nor_asset(tenants):
    one, two = tenants
    asset(one, "a1")
    code = QRContentService(one, clock=Clock()).create("a1").qr_code
    theirs = QRContentService(two, clock=Clock())

    with pytest.raises(QRContentNotFound):
        theirs.get(code)
    with pytest.raises(QRContentNotFound):
        theirs.update(code, {"title": "taken"})
    with pytest.raises(QRContentNotFound):
        theirs.delete(code)
    assert theirs.page().items == []
    assert theirs.active_for_asset("a1") is None
    assert theirs.unshare_asset("a1") == 0
    assert [(r.title, r.is_active) for r in QRContent.select()] == [("Page", True)]
