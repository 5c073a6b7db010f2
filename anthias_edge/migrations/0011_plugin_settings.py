"""Plugin settings (issue 14): table ``plugin_settings``, one row per plugin and key.

Frozen SQL for SQLite and PostgreSQL, never the application's models. The table belongs to
the deployment, not to a tenant (a plugin such as a payment gateway is configured once for
the whole cloud), so it has no ``tenant_id`` and no row-level policy. On PostgreSQL the
request role ``anthias_app`` may only read it: 0009's default privileges would also let it
write, and no request may change how the deployment's plugins are configured; operators
change it with ``anthias-edge plugins set``, as the migrating role.
"""

from peewee import PostgresqlDatabase

APP_ROLE = "anthias_app"

TABLE = (
    'CREATE TABLE IF NOT EXISTS "plugin_settings" ("plugin" text NOT NULL, '
    '"key" text NOT NULL, "value" text NOT NULL, "secret" {bool_false}, '
    '"updated_at" {ts} NOT NULL, PRIMARY KEY ("plugin", "key"))'
)
SQLITE = {"bool_false": "bool NOT NULL DEFAULT 0", "ts": "datetime"}
POSTGRESQL = {"bool_false": "boolean NOT NULL DEFAULT false", "ts": "timestamp"}


def up(migrator, db):
    postgres = isinstance(db, PostgresqlDatabase)
    db.execute_sql(TABLE.format(**(POSTGRESQL if postgres else SQLITE)))
    if postgres:
        schema = db.execute_sql("SELECT quote_ident(current_schema())").fetchone()[0]
        table = f'{schema}."plugin_settings"'
        db.execute_sql(f"REVOKE ALL ON {table} FROM {APP_ROLE}")
        db.execute_sql(f"GRANT SELECT ON {table} TO {APP_ROLE}")
