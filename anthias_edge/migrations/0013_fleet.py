"""Fleet (issue 15): devices linked to a tenant, how they link, their commands, inventory, plays.

Frozen SQL for SQLite and PostgreSQL, never the application's models. The tables are the
cloud's; a device's SQLite gets them too (empty, harmless) so one schema serves both.

- ``devices``: one linked screen (its Ed25519 public key, status, what it last reported).
- ``device_pairing_codes``: one-time codes an admin makes; only ``code_hash`` (sha256 hex) is
  stored, so reading the table gives no usable code.
- ``device_codes``: codes a device asks for and an admin claims. Unclaimed rows have no tenant.
- ``fleet_tokens``: multi-use enrolment tokens with a cap and an expiry (secret hashed).
- ``device_commands``, ``device_assets`` (the inventory a device pushed), ``device_plays``.
- ``tenants.sync_version``: bumped whenever what a device pulls changes (its ETag's part).
- ``qr_contents.device_id``: set for a code of a device's asset (then ``asset_id`` is a
  ``device_assets`` asset id, not a cloud asset). On PostgreSQL the foreign key from
  ``qr_contents.asset_id`` to ``assets`` is therefore dropped; a trigger keeps its cascade for
  cloud codes (deleting a cloud asset deletes its codes). SQLite (the device) keeps the key.

On PostgreSQL every table with a tenant gets 0009's policy. ``device_codes`` also shows rows
with no tenant to every request: the hub creates and polls them before any tenant is known,
and an admin claims one by its code. Those rows hold only hashes, a public key and a name.
Lookups across tenants before the tenant is known are SECURITY DEFINER functions owned by
``anthias_lookup``: the tenant of a pairing code, of a fleet token, of a claimed device code
(each by the hash of its secret), and of a device (by id, for the hub's signed requests).
"""

from peewee import PostgresqlDatabase

APP_ROLE = "anthias_app"
LOOKUP_ROLE = "anthias_lookup"
SETTING = "anthias.tenant_id"

TABLES = (
    'CREATE TABLE IF NOT EXISTS "devices" ("device_id" text NOT NULL PRIMARY KEY, '
    '"tenant_id" varchar(36) NOT NULL REFERENCES "tenants" ("id") ON DELETE CASCADE, '
    '"name" text NOT NULL, "public_key" text NOT NULL, '
    '"status" text NOT NULL DEFAULT \'active\', "linked_via" text NULL, '
    '"fleet_token_id" text NULL, "created_at" {ts} NOT NULL, "revoked_at" {ts} NULL, '
    '"last_seen_at" {ts} NULL, "last_push_at" {ts} NULL, "last_play_at" {ts} NULL, '
    '"software_version" text NULL, "hardware" text NULL, "address" text NULL, '
    '"free_disk_bytes" bigint NULL, "on_screen_asset_id" text NULL, '
    '"on_screen_name" text NULL, "health_at" {ts} NULL, '
    '"command_version" integer NOT NULL DEFAULT 0)',
    'CREATE TABLE IF NOT EXISTS "device_pairing_codes" ("code_hash" text NOT NULL PRIMARY KEY, '
    '"tenant_id" varchar(36) NOT NULL REFERENCES "tenants" ("id") ON DELETE CASCADE, '
    '"created_by" text NULL, "created_at" {ts} NOT NULL, "expires_at" {ts} NOT NULL, '
    '"used_at" {ts} NULL, "device_id" text NULL, "name" text NULL)',
    'CREATE TABLE IF NOT EXISTS "device_codes" ("code_hash" text NOT NULL PRIMARY KEY, '
    '"poll_token_hash" text NOT NULL UNIQUE, "public_key" text NOT NULL, '
    '"name" text NOT NULL, "software_version" text NULL, "hardware" text NULL, '
    '"created_at" {ts} NOT NULL, "expires_at" {ts} NOT NULL, "claimed_at" {ts} NULL, '
    '"tenant_id" varchar(36) NULL REFERENCES "tenants" ("id") ON DELETE CASCADE, '
    '"device_id" text NULL)',
    'CREATE TABLE IF NOT EXISTS "fleet_tokens" ("token_id" text NOT NULL PRIMARY KEY, '
    '"tenant_id" varchar(36) NOT NULL REFERENCES "tenants" ("id") ON DELETE CASCADE, '
    '"name" text NOT NULL, "token_hash" text NOT NULL UNIQUE, "prefix" text NOT NULL, '
    '"max_devices" integer NOT NULL, "used_count" integer NOT NULL DEFAULT 0, '
    '"expires_at" {ts} NOT NULL, "revoked_at" {ts} NULL, "created_by" text NULL, '
    '"created_at" {ts} NOT NULL)',
    'CREATE TABLE IF NOT EXISTS "device_commands" ("command_id" text NOT NULL PRIMARY KEY, '
    '"tenant_id" varchar(36) NOT NULL REFERENCES "tenants" ("id") ON DELETE CASCADE, '
    '"device_id" text NOT NULL REFERENCES "devices" ("device_id") ON DELETE CASCADE, '
    '"command" text NOT NULL, "args" text NOT NULL DEFAULT \'{{}}\', '
    '"status" text NOT NULL DEFAULT \'pending\', "created_by" text NULL, '
    '"created_at" {ts} NOT NULL, "done_at" {ts} NULL, "error" text NULL)',
    'CREATE TABLE IF NOT EXISTS "device_assets" ('
    '"device_id" text NOT NULL REFERENCES "devices" ("device_id") ON DELETE CASCADE, '
    '"asset_id" text NOT NULL, '
    '"tenant_id" varchar(36) NOT NULL REFERENCES "tenants" ("id") ON DELETE CASCADE, '
    '"name" text NOT NULL DEFAULT \'\', "uri" text NOT NULL DEFAULT \'\', '
    '"mimetype" text NOT NULL DEFAULT \'\', "duration" bigint NULL, '
    '"start_date" {ts} NULL, "end_date" {ts} NULL, "is_enabled" {bool_false}, '
    '"play_order" integer NOT NULL DEFAULT 0, "is_shared" {bool_false}, '
    '"media_sha256" text NULL, "media_size" bigint NULL, "updated_at" {ts} NULL, '
    '"seq" bigint NOT NULL DEFAULT 0, PRIMARY KEY ("device_id", "asset_id"))',
    'CREATE TABLE IF NOT EXISTS "device_plays" ("play_id" text NOT NULL PRIMARY KEY, '
    '"tenant_id" varchar(36) NOT NULL REFERENCES "tenants" ("id") ON DELETE CASCADE, '
    '"device_id" text NOT NULL REFERENCES "devices" ("device_id") ON DELETE CASCADE, '
    '"asset_id" text NOT NULL, "asset_name" text NOT NULL DEFAULT \'\', '
    '"started_at" {ts} NOT NULL, "duration_s" real NULL)',
)
SQLITE = {"bool_false": "bool NOT NULL DEFAULT 0", "ts": "datetime"}
POSTGRESQL = {"bool_false": "boolean NOT NULL DEFAULT false", "ts": "timestamp"}

INDEXES = (
    'CREATE INDEX IF NOT EXISTS "devices_tenant_id_name" ON "devices" ("tenant_id", "name")',
    'CREATE INDEX IF NOT EXISTS "device_pairing_codes_tenant_id" '
    'ON "device_pairing_codes" ("tenant_id", "created_at")',
    'CREATE INDEX IF NOT EXISTS "fleet_tokens_tenant_id" '
    'ON "fleet_tokens" ("tenant_id", "created_at")',
    # A device's pending commands, oldest first (the state a device pulls).
    'CREATE INDEX IF NOT EXISTS "device_commands_device_id" '
    'ON "device_commands" ("device_id", "status", "created_at")',
    'CREATE INDEX IF NOT EXISTS "device_assets_tenant_id" ON "device_assets" ("tenant_id")',
    'CREATE INDEX IF NOT EXISTS "device_plays_tenant_id_started_at" '
    'ON "device_plays" ("tenant_id", "started_at")',
    'CREATE INDEX IF NOT EXISTS "device_plays_device_id_started_at" '
    'ON "device_plays" ("device_id", "started_at")',
)
COLUMNS = (
    ("tenants", "sync_version", 'ALTER TABLE "tenants" ADD COLUMN "sync_version" integer '
                                "NOT NULL DEFAULT 0"),
    ("qr_contents", "device_id", 'ALTER TABLE "qr_contents" ADD COLUMN "device_id" text NULL'),
)
COLUMN_INDEXES = (
    'CREATE INDEX IF NOT EXISTS "qr_contents_device_id" '
    'ON "qr_contents" ("device_id", "asset_id")',
)

TENANT_TABLES = ("devices", "device_pairing_codes", "fleet_tokens", "device_commands",
                 "device_assets", "device_plays")
LOOKUP_TABLES = ("devices", "device_pairing_codes", "fleet_tokens", "device_codes")
VISIBLE = (f"CASE WHEN tenant_id = current_setting('{SETTING}', true) THEN true ELSE false "
           "END")

JOIN_LOOKUP_ROLE = f"""
DO $$
BEGIN
  IF NOT pg_has_role(current_user, '{LOOKUP_ROLE}', 'MEMBER') THEN
    EXECUTE 'GRANT {LOOKUP_ROLE} TO ' || quote_ident(current_user);
  END IF;
END $$
"""
LEAVE_LOOKUP_ROLE = f"""
DO $$
BEGIN
  IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
     AND pg_has_role(current_user, '{LOOKUP_ROLE}', 'MEMBER') THEN
    EXECUTE 'REVOKE {LOOKUP_ROLE} FROM ' || quote_ident(current_user);
  END IF;
END $$
"""

# name(arguments), body; each returns one tenant id as text, or NULL.
FUNCTIONS = (
    # The tenant of a pairing code, given the sha256 of the code (knowing it is the proof).
    ("anthias_pairing_code_tenant", "p_code_hash text",
     "SELECT c.tenant_id::text FROM {s}.device_pairing_codes c WHERE c.code_hash = p_code_hash"),
    # The tenant of a fleet token, given the sha256 of its secret.
    ("anthias_fleet_token_tenant", "p_token_hash text",
     "SELECT t.tenant_id::text FROM {s}.fleet_tokens t WHERE t.token_hash = p_token_hash"),
    # The tenant that claimed a device code, given the sha256 of the device's poll token
    # (a claimed code's row is its tenant's; the device polling it has no tenant yet).
    ("anthias_device_code_tenant", "p_poll_token_hash text",
     "SELECT c.tenant_id::text FROM {s}.device_codes c WHERE c.poll_token_hash = "
     "p_poll_token_hash"),
    # The tenant of a device, for the hub: a signed request names its device in ``kid``; the
    # signature is then checked against the public key read inside that tenant.
    ("anthias_device_tenant", "p_device_id text",
     "SELECT d.tenant_id::text FROM {s}.devices d WHERE d.device_id = p_device_id"),
)

# Deleting a cloud asset deletes its codes, as the dropped foreign key's cascade did. It runs
# as the caller, under the caller's row-level policy: the asset and its codes share a tenant.
CASCADE_FUNCTION = (
    "CREATE OR REPLACE FUNCTION {s}.anthias_qr_contents_asset_deleted() RETURNS trigger "
    "LANGUAGE plpgsql AS $fn$ BEGIN "
    "DELETE FROM {s}.qr_contents q WHERE q.asset_id = OLD.asset_id AND q.device_id IS NULL; "
    "RETURN OLD; END $fn$"
)
CASCADE_TRIGGER = (
    "CREATE TRIGGER anthias_qr_contents_asset_deleted AFTER DELETE ON {s}.\"assets\" "
    "FOR EACH ROW EXECUTE FUNCTION {s}.anthias_qr_contents_asset_deleted()"
)
QR_ASSET_FOREIGN_KEYS = """
SELECT c.conname FROM pg_constraint c
JOIN pg_class t ON t.oid = c.conrelid AND t.relname = 'qr_contents'
JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = current_schema()
JOIN pg_class r ON r.oid = c.confrelid AND r.relname = 'assets'
WHERE c.contype = 'f'
"""


def _ident(db, name):
    return db.execute_sql("SELECT quote_ident(%s)", (name,)).fetchone()[0]


def _policy(db, qualified, using, check):
    db.execute_sql(f"DROP POLICY IF EXISTS anthias_tenant_isolation ON {qualified}")
    db.execute_sql(f"CREATE POLICY anthias_tenant_isolation ON {qualified} FOR ALL "
                   f"USING ({using}) WITH CHECK ({check})")
    db.execute_sql(f"ALTER TABLE {qualified} ENABLE ROW LEVEL SECURITY")
    db.execute_sql(f"ALTER TABLE {qualified} FORCE ROW LEVEL SECURITY")


def _row_security(db):
    schema = _ident(db, db.execute_sql("SELECT current_schema()").fetchone()[0])
    dml = "SELECT, INSERT, UPDATE, DELETE"
    own = f"tenant_id = current_setting('{SETTING}', true)"
    for table in (*TENANT_TABLES, "device_codes"):
        db.execute_sql(f'GRANT {dml} ON {schema}."{table}" TO {APP_ROLE}')
    for table in TENANT_TABLES:
        _policy(db, f'{schema}."{table}"', VISIBLE, own)
    _policy(db, f'{schema}."device_codes"', f"tenant_id IS NULL OR {VISIBLE}",
            f"tenant_id IS NULL OR {own}")
    for table in LOOKUP_TABLES:
        qualified = f'{schema}."{table}"'
        db.execute_sql(f"GRANT SELECT ON {qualified} TO {LOOKUP_ROLE}")
        db.execute_sql(f"DROP POLICY IF EXISTS anthias_lookup_read ON {qualified}")
        db.execute_sql(f"CREATE POLICY anthias_lookup_read ON {qualified} FOR SELECT "
                       f"TO {LOOKUP_ROLE} USING (true)")

    db.execute_sql(JOIN_LOOKUP_ROLE)
    for name, arguments, body in FUNCTIONS:
        function = f"{schema}.{name}"
        db.execute_sql(
            f"CREATE OR REPLACE FUNCTION {function}({arguments}) RETURNS text "
            "LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp "
            f"AS $fn$ BEGIN RETURN ({body.format(s=schema)}); END $fn$")
        db.execute_sql(f"ALTER FUNCTION {function}(text) OWNER TO {LOOKUP_ROLE}")
        db.execute_sql(f"REVOKE ALL ON FUNCTION {function}(text) FROM PUBLIC")
        db.execute_sql(f"GRANT EXECUTE ON FUNCTION {function}(text) TO {APP_ROLE}")
    db.execute_sql(LEAVE_LOOKUP_ROLE)

    for (name,) in db.execute_sql(QR_ASSET_FOREIGN_KEYS).fetchall():
        db.execute_sql(f'ALTER TABLE {schema}."qr_contents" DROP CONSTRAINT '
                       f"{_ident(db, name)}")
    db.execute_sql(CASCADE_FUNCTION.format(s=schema))
    db.execute_sql(f'DROP TRIGGER IF EXISTS anthias_qr_contents_asset_deleted '
                   f'ON {schema}."assets"')
    db.execute_sql(CASCADE_TRIGGER.format(s=schema))


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
    for statement in COLUMN_INDEXES:
        db.execute_sql(statement)
    if postgres:
        _row_security(db)
