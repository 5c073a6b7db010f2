"""without_waiting_for_disk: a bookkeeping write that does not wait for the WAL flush."""

from __future__ import annotations

import pytest

from anthias_edge.db import is_postgresql, without_waiting_for_disk
from anthias_edge.models import Tenant


@pytest.mark.postgres
def test_only_the_transaction_inside_skips_the_flush_on_postgresql(app):
    database = app.extensions["anthias"].database
    assert is_postgresql(database)

    def setting() -> str:
        return database.execute_sql("SHOW synchronous_commit").fetchone()[0]

    with database.connection_context():
        before = setting()
        with without_waiting_for_disk(database):
            inside = setting()
        after = setting()

    assert (before, inside, after) == ("on", "off", "on")


def test_it_is_a_transaction_that_commits_or_rolls_back(app):
    database = app.extensions["anthias"].database
    with database.connection_context():
        with without_waiting_for_disk(database):
            Tenant.update(name="Renamed").where(Tenant.subdomain == "local").execute()
        with pytest.raises(RuntimeError), without_waiting_for_disk(database):
            Tenant.update(name="Lost").where(Tenant.subdomain == "local").execute()
            raise RuntimeError("crash mid-write")
        assert Tenant.get(Tenant.subdomain == "local").name == "Renamed"
