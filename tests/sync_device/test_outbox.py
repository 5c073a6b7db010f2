"""The outbox and the link record: linking snapshots the library, unlinking forgets, seqs only
grow, another process's link is seen at once, an unlinked write costs one probe."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from anthias_edge.models import Asset
from anthias_edge.services.qr_content import QRContentService
from cloud_sync.device import link_store, outbox
from tests.conftest import TEST_DATABASE_URL
from tests.helpers import v2_asset
from tests.sync_device.conftest import kinds


def test_linking_records_the_whole_library_and_codes_in_one_go(client, runtime, link,
                                                               outbox_rows):
    ids = [client.post("/api/v2/assets", json=v2_asset(name=f"a{i}")).get_json()["asset_id"]
           for i in range(2)]
    with runtime.database.connection_context():
        code = QRContentService(runtime.local_tenant_id).create(ids[0], "Menu")
    assert outbox_rows() == []
    state = link()
    rows = outbox_rows()
    assert kinds(rows) == ["asset.upsert", "asset.upsert", "qr.upsert"]
    assert {p["asset_id"] for _, p in rows[:2]} == set(ids)
    assert rows[2][1]["qr_code"] == code.qr_code
    with runtime.database.connection_context():
        assert link_store.load() == state
        assert outbox.count() == 3


def test_pending_ack_and_seqs_that_never_go_back(client, runtime, link, outbox_rows):
    link()
    for i in range(3):
        client.post("/api/v2/assets", json=v2_asset(name=f"a{i}", play_order=99))
    with runtime.database.connection_context():
        entries = outbox.pending(limit=2)
        assert [e.seq for e in entries] == sorted(e.seq for e in entries)
        assert len(entries) == 2 and entries[0].key != entries[1].key
        wire = entries[0].to_wire()
        assert set(wire) == {"seq", "key", "kind", "at", "payload"} and wire["at"].endswith("Z")
        last = outbox.pending(limit=100)[-1].seq
        assert outbox.ack_through(last) == 3
        assert outbox.count() == 0
    client.post("/api/v2/assets", json=v2_asset(name="after", play_order=99))
    with runtime.database.connection_context():
        assert outbox.pending()[0].seq > last  # the hub acked through ``last`` already


def test_unlinking_forgets_the_outbox_but_keeps_the_library(client, runtime, link,
                                                           outbox_rows):
    client.post("/api/v2/assets", json=v2_asset())
    link()
    with runtime.database.connection_context():
        assert link_store.clear_link() is True
        assert link_store.load() is None
        assert link_store.clear_link() is False
        assert Asset.select().count() == 1
    client.post("/api/v2/assets", json=v2_asset(name="unlinked"))
    assert outbox_rows() == []


def test_agent_updates_and_errors_in_plain_words(runtime, link):
    link()
    with runtime.database.connection_context():
        assert link_store.record_error("The cloud did not answer.")
        assert link_store.load().last_error == "The cloud did not answer."
        assert link_store.record_success("pull")
        state = link_store.load()
        assert state.last_error is None and state.last_pull_at == state.last_success_at
        with pytest.raises(ValueError, match="device_id"):
            link_store.update(device_id="other")
        link_store.clear_link()
        assert link_store.record_success("push") is False


def test_record_refuses_to_run_outside_the_change_s_transaction(runtime, link):
    link()
    with runtime.database.connection_context(), pytest.raises(RuntimeError, match="transaction"):
        outbox.record("asset.delete", {"asset_id": "x"})
    with (runtime.database.connection_context(), runtime.database.atomic(),
          pytest.raises(ValueError, match="kind")):
        outbox.record("asset.renamed", {"asset_id": "x"})


def test_a_link_made_by_another_process_is_seen_by_the_next_write(client, runtime,
                                                                  outbox_rows, home):
    client.post("/api/v2/assets", json=v2_asset(name="before"))
    assert outbox_rows() == []
    url = TEST_DATABASE_URL or str(runtime.settings.database_path)
    script = textwrap.dedent(f"""
        from anthias_edge.db import db, open_database
        from cloud_sync.device import link_store
        database = open_database({url!r})
        db.initialize(database)
        with database.connection_context():
            link_store.save_link(cloud_url="https://c", device_id="d", tenant_id="t",
                                 key_path="/k")
    """)
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120,
                   env={**os.environ, "HOME": str(home)})
    client.post("/api/v2/assets", json=v2_asset(name="after", play_order=99))
    rows = outbox_rows()
    assert [p["name"] for _, p in rows] == ["before", "after"]  # snapshot, then the write


class CountingDatabase:
    """Counts the statements a database runs (wraps ``execute_sql``)."""

    def __init__(self, database, monkeypatch: pytest.MonkeyPatch) -> None:
        self.statements: list[str] = []
        real = database.execute_sql

        def counted(sql, *args, **kwargs):
            self.statements.append(sql)
            return real(sql, *args, **kwargs)

        monkeypatch.setattr(database, "execute_sql", counted)


def test_an_unlinked_write_costs_one_probe_and_a_cloud_write_none(runtime, monkeypatch):
    counter = CountingDatabase(runtime.database, monkeypatch)
    with runtime.database.connection_context(), runtime.database.atomic():
        outbox.record("asset.delete", {"asset_id": "x"})
        assert [s for s in counter.statements if "sync_" in s] == ['SELECT 1 FROM "sync_link" '
                                                                    'LIMIT 1']
        counter.statements.clear()
        outbox.never_record(runtime.database)
        try:
            outbox.record("asset.delete", {"asset_id": "x"})
            outbox.record_many("asset.delete", [{"asset_id": "y"}])
        finally:
            outbox._silent.discard(runtime.database)
        assert counter.statements == []
