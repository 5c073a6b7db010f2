"""The sync hub's own data (issue 15): replay store, push receipts, uploaded media, cursor.

Frozen SQL for SQLite and PostgreSQL, never the application's models. Cloud tables; a device's
SQLite gets them too (empty, harmless) so one schema serves both.

- ``sync_nonces``: each signed request's ``jti`` per device until the token has expired (then
  the hub deletes it), so a replayed request is refused. No tenant content; on PostgreSQL
  UNLOGGED: a crash empties it, and the tokens it guarded expire within minutes; a replay
  inside that window right after a database crash is the accepted cost of never waiting
  for the disk on the busiest write the hub makes.
- ``sync_receipts``: one row per outbox entry applied, written in the same transaction as the
  entry's effect: the primary key (device_id, idem_key) makes a push exactly-once. ``error``
  records an entry that was acknowledged without effect (a QR code already used elsewhere).
- ``media_objects``: files devices uploaded, content-addressed per tenant (the same file of
  two tenants is two objects: the primary key is (tenant_id, sha256)).
- ``devices.acked_seq``: the highest outbox seq the hub applied for the device.

On PostgreSQL the tenant tables get 0009's policy. The hub's hot path (a conditional pull)
reads a device with 0013's ``anthias_device_tenant`` and the policies, nothing new.
"""

from peewee import PostgresqlDatabase

APP_ROLE = "anthias_app"
SETTING = "anthias.tenant_id"

TABLES = (
    'CREATE {unlogged} TABLE IF NOT EXISTS "sync_nonces" ("device_id" text NOT NULL, '
    '"jti" text NOT NULL, "expires_at" {ts} NOT NULL, PRIMARY KEY ("device_id", "jti"))',
    'CREATE TABLE IF NOT EXISTS "sync_receipts" ('
    '"device_id" text NOT NULL REFERENCES "devices" ("device_id") ON DELETE CASCADE, '
    '"idem_key" text NOT NULL, '
    '"tenant_id" varchar(36) NOT NULL REFERENCES "tenants" ("id") ON DELETE CASCADE, '
    '"seq" bigint NOT NULL, "kind" text NOT NULL, "received_at" {ts} NOT NULL, '
    '"error" text NULL, PRIMARY KEY ("device_id", "idem_key"))',
    'CREATE TABLE IF NOT EXISTS "media_objects" ('
    '"tenant_id" varchar(36) NOT NULL REFERENCES "tenants" ("id") ON DELETE CASCADE, '
    '"sha256" text NOT NULL, "size" bigint NOT NULL, "received_bytes" bigint NOT NULL '
    'DEFAULT 0, "complete" {bool_false}, "device_id" text NULL, "created_at" {ts} NOT NULL, '
    '"updated_at" {ts} NOT NULL, PRIMARY KEY ("tenant_id", "sha256"))',
)
SQLITE = {"bool_false": "bool NOT NULL DEFAULT 0", "ts": "datetime", "unlogged": ""}
POSTGRESQL = {"bool_false": "boolean NOT NULL DEFAULT false", "ts": "timestamp",
              "unlogged": "UNLOGGED"}

INDEXES = (
    'CREATE INDEX IF NOT EXISTS "sync_nonces_expires_at" ON "sync_nonces" ("expires_at")',
)
COLUMNS = (
    ("devices", "acked_seq", 'ALTER TABLE "devices" ADD COLUMN "acked_seq" bigint '
                             "NOT NULL DEFAULT 0"),
)
TENANT_TABLES = ("sync_receipts", "media_objects")
VISIBLE = (f"CASE WHEN tenant_id = current_setting('{SETTING}', true) THEN true ELSE false "
           "END")


def _row_security(db):
    schema = db.execute_sql("SELECT quote_ident(current_schema())").fetchone()[0]
    own = f"tenant_id = current_setting('{SETTING}', true)"
    dml = "SELECT, INSERT, UPDATE, DELETE"
    db.execute_sql(f'GRANT {dml} ON {schema}."sync_nonces" TO {APP_ROLE}')
    for table in TENANT_TABLES:
        qualified = f'{schema}."{table}"'
        db.execute_sql(f"GRANT {dml} ON {qualified} TO {APP_ROLE}")
        db.execute_sql(f"DROP POLICY IF EXISTS anthias_tenant_isolation ON {qualified}")
        db.execute_sql(f"CREATE POLICY anthias_tenant_isolation ON {qualified} FOR ALL "
                       f"USING ({VISIBLE}) WITH CHECK ({own})")
        db.execute_sql(f"ALTER TABLE {qualified} ENABLE ROW LEVEL SECURITY")
        db.execute_sql(f"ALTER TABLE {qualified} FORCE ROW LEVEL SECURITY")


def up(migrator, db):
    postgres = isinstance(db, PostgresqlDatabase)
    values = POSTGRESQL if postgres else SQLITE
    for statement in TABLES:
        db.execute_sql(statement.format(**values))
    for statement in INDEXES:
        db.execute_sql(statement)
    for table, column, statement in COLUMNS:
        if column not in {c.name for c in db.get_columns(table)}:
            db.execute_sql(statement)
    if postgres:
        _row_security(db)
