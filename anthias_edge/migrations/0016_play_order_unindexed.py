"""Let a play-order change rewrite only the row: no index on ``play_order``, room on each page.

Anthias's renumbering (docs/legacy-api.md §3.7) moves every active asset after an insert at
the top, a thousand rows in a large library. With ``play_order`` in an index (0002's
``(tenant_id, play_order)``), PostgreSQL wrote each moved row as a new tuple plus an entry in
every one of the table's six indexes; without it, the move is a heap-only (HOT) update that
touches no index, if the row's page has room for the new version. A fillfactor of 85 leaves
that room on pages filled from now on (existing pages gain it as old versions are pruned).
Measured on one tenant of 1,000 active assets moving all at once: 35-40 ms of backend CPU per
move before, 8 ms after (benchmarks/RESULTS.md).

No query needs the index: the list and the renumbering read a tenant's rows in insertion
order, and the player sorts its few active assets itself. SQLite drops it too, which spares
it the same index writes.
"""

from peewee import PostgresqlDatabase

FILLFACTOR = 85


def up(migrator, db):
    db.execute_sql('DROP INDEX IF EXISTS "assets_tenant_id_play_order"')
    if isinstance(db, PostgresqlDatabase):
        # A storage parameter only: no rewrite, and a lock that lets reads and writes go on.
        db.execute_sql(f'ALTER TABLE "assets" SET (fillfactor = {FILLFACTOR})')
