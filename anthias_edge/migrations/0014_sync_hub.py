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

On PostgreSQL the tenant tables get 0009's policy, and the hub's hot path (an unchanged
conditional pull, cloud_sync/hub/fast_path.py) gets one function, ``anthias_sync_pull``: one
call, one implicit transaction, its statements' plans kept by the session. It runs with the
caller's rights (SECURITY INVOKER), first confining itself as 0009's request role does (role
``anthias_app``, the given tenant, a commit that does not wait for the disk), then records the
jti only if the device is active, its key the one the signature was checked with and the ETag's
versions current, and updates the device's last-seen time. PUBLIC may not call it.
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
PULL_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {{s}}.anthias_sync_pull(p_tenant text, p_device text, p_jti text,
  p_expires timestamp, p_key text, p_sync_version integer, p_command_version integer,
  p_seen timestamp, p_stale timestamp) RETURNS boolean
LANGUAGE plpgsql SECURITY INVOKER SET search_path FROM CURRENT AS $fn$
DECLARE fresh boolean;
BEGIN
  PERFORM set_config('role', '{APP_ROLE}', true), set_config('{SETTING}', p_tenant, true),
          set_config('synchronous_commit', 'off', true);
  INSERT INTO sync_nonces (device_id, jti, expires_at)
    SELECT d.device_id, p_jti, p_expires FROM devices AS d JOIN tenants AS t ON t.id = d.tenant_id
    WHERE d.device_id = p_device AND d.status = 'active' AND d.public_key = p_key
      AND t.sync_version = p_sync_version AND d.command_version = p_command_version
    ON CONFLICT DO NOTHING;
  fresh := FOUND;
  UPDATE devices SET last_seen_at = p_seen WHERE device_id = p_device AND status = 'active'
    AND public_key = p_key AND (last_seen_at IS NULL OR last_seen_at < p_stale);
  RETURN fresh;
END $fn$
"""
PULL_SIGNATURE = "anthias_sync_pull(text, text, text, timestamp, text, integer, integer, " \
                 "timestamp, timestamp)"
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
    db.execute_sql(PULL_FUNCTION.format(s=schema))
    db.execute_sql(f"REVOKE ALL ON FUNCTION {schema}.{PULL_SIGNATURE} FROM PUBLIC")


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
