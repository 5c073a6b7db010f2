"""Index a tenant's assets in insertion order, so listing one tenant never scans the others.

A tenant's list is ``WHERE tenant_id = ? ORDER BY <insertion order>``. On
PostgreSQL that order is the ``seq`` column; on SQLite it is the rowid, which
every SQLite index carries after its columns, so ``(tenant_id)`` alone serves.
"""

from peewee import PostgresqlDatabase


def up(migrator, db):
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql(
            'CREATE INDEX IF NOT EXISTS "assets_tenant_id_seq" ON "assets" ("tenant_id", "seq")')
    else:
        db.execute_sql('CREATE INDEX IF NOT EXISTS "assets_tenant_id" ON "assets" ("tenant_id")')
