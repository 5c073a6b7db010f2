"""Add the columns Anthias Edge needs beside Anthias's own, once and for all.

Tenancy, sharing, tags and metadata (v3), the v2 schedule and display
extensions, reachability results and timestamps. Every column has a database
default so that Anthias itself can still insert rows into an upgraded table.
"""

from peewee import PostgresqlDatabase

# name, SQLite type and default, PostgreSQL type and default
COLUMNS = (
    ("tenant_id", "text NULL", "text NULL"),
    ("created_by", "text NULL", "text NULL"),
    ("is_shared", "bool NOT NULL DEFAULT 0", "boolean NOT NULL DEFAULT false"),
    ("share_code", "text NULL", "text NULL"),
    ("tags", "text NOT NULL DEFAULT '[]'", "text NOT NULL DEFAULT '[]'"),
    ("metadata", "text NOT NULL DEFAULT '{}'", "text NOT NULL DEFAULT '{}'"),
    ("play_days", "text NOT NULL DEFAULT '[1,2,3,4,5,6,7]'",
     "text NOT NULL DEFAULT '[1,2,3,4,5,6,7]'"),
    ("play_time_from", "text NULL", "text NULL"),
    ("play_time_to", "text NULL", "text NULL"),
    ("skip_ssl_verify", "bool NOT NULL DEFAULT 0", "boolean NOT NULL DEFAULT false"),
    ("refresh_interval_s", "integer NOT NULL DEFAULT 0", "integer NOT NULL DEFAULT 0"),
    ("custom_headers", "text NOT NULL DEFAULT '{}'", "text NOT NULL DEFAULT '{}'"),
    ("is_reachable", "bool NOT NULL DEFAULT 1", "boolean NOT NULL DEFAULT true"),
    ("last_reachability_check", "datetime NULL", "timestamp NULL"),
    ("created_at", "datetime NULL", "timestamp NULL"),
    ("updated_at", "datetime NULL", "timestamp NULL"),
)

INDEXES = (
    'CREATE INDEX IF NOT EXISTS "assets_tenant_id_is_enabled" '
    'ON "assets" ("tenant_id", "is_enabled")',
    'CREATE INDEX IF NOT EXISTS "assets_tenant_id_play_order" '
    'ON "assets" ("tenant_id", "play_order")',
    'CREATE UNIQUE INDEX IF NOT EXISTS "assets_share_code" ON "assets" ("share_code")',
)


def up(migrator, db):
    postgres = isinstance(db, PostgresqlDatabase)
    existing = {c.name for c in db.get_columns("assets")}
    for name, sqlite_type, postgres_type in COLUMNS:
        if name not in existing:
            column_type = postgres_type if postgres else sqlite_type
            db.execute_sql(f'ALTER TABLE "assets" ADD COLUMN "{name}" {column_type}')
    if postgres and "seq" not in existing:
        # PostgreSQL has no rowid; this keeps Anthias's insertion order (docs/legacy-api.md Q10).
        db.execute_sql('ALTER TABLE "assets" ADD COLUMN "seq" BIGSERIAL')
        db.execute_sql('CREATE INDEX IF NOT EXISTS "assets_seq" ON "assets" ("seq")')
    for statement in INDEXES:
        db.execute_sql(statement)
