"""Migration 0015 builds what the sync models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from peewee import IntegrityError

from anthias_edge.models.sync_device import SyncAppliedCommand, SyncLink, SyncOutbox


@pytest.mark.parametrize("model", [SyncOutbox, SyncLink, SyncAppliedCommand])
def test_the_migrated_sync_tables_have_every_model_column(runtime, model):
    with runtime.database.connection_context():
        columns = {c.name for c in runtime.database.get_columns(model._meta.table_name)}
    assert columns == {field.column_name for field in model._meta.sorted_fields}


def test_the_link_table_holds_one_row_at_most(runtime, link):
    link()
    with (runtime.database.connection_context(), pytest.raises(IntegrityError),
          runtime.database.atomic()):
        SyncLink.insert(id=2, cloud_url="u", device_id="d", tenant_id="t",
                        key_path="/k").execute()
