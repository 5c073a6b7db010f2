"""QR and barcode content sharing (issue 13): table ``qr_contents`` and ``assets.qr_overlay``.

Frozen SQL for SQLite and PostgreSQL, never the application's models.

- ``qr_contents``: one shared code of one asset (``qr_code``, optional ``barcode``), with its
  scan count and expiry. Deleting the asset deletes its codes (foreign key, cascade).
- ``assets.qr_overlay``: JSON text (corner, size, on/off) of the code drawn on screen.
- On PostgreSQL, ``qr_contents`` gets the same row-level policy as every tenant table (0009),
  and the public landing page ``/q/<code>``, which has no signed-in caller, gets one SECURITY
  DEFINER function: ``anthias_public_code_tenant(code)``, the tenant owning a QR code, a barcode
  or an asset's share code (NULL if none), so it can then set that tenant and read as it.
"""

from peewee import PostgresqlDatabase

APP_ROLE = "anthias_app"
LOOKUP_ROLE = "anthias_lookup"
SETTING = "anthias.tenant_id"

TABLE = (
    'CREATE TABLE IF NOT EXISTS "qr_contents" ("qr_id" text NOT NULL PRIMARY KEY, '
    '"tenant_id" text NOT NULL, '
    '"asset_id" text NOT NULL REFERENCES "assets" ("asset_id") ON DELETE CASCADE, '
    '"qr_code" text NOT NULL, "barcode" text NULL, "title" text NOT NULL DEFAULT \'\', '
    '"description" text NOT NULL DEFAULT \'\', "access_count" integer NOT NULL DEFAULT 0, '
    '"last_accessed" {ts} NULL, "expires_at" {ts} NULL, "is_active" {bool_true}, '
    '"created_by" text NULL, "created_at" {ts} NOT NULL, "updated_at" {ts} NOT NULL)'
)
SQLITE = {"bool_true": "bool NOT NULL DEFAULT 1", "ts": "datetime"}
POSTGRESQL = {"bool_true": "boolean NOT NULL DEFAULT true", "ts": "timestamp"}

INDEXES = (
    'CREATE UNIQUE INDEX IF NOT EXISTS "qr_contents_qr_code" ON "qr_contents" ("qr_code")',
    'CREATE UNIQUE INDEX IF NOT EXISTS "qr_contents_barcode" ON "qr_contents" ("barcode")',
    'CREATE INDEX IF NOT EXISTS "qr_contents_tenant_id_is_active" '
    'ON "qr_contents" ("tenant_id", "is_active")',
    # The cascade from assets and "this asset's active code" both look codes up by asset.
    'CREATE INDEX IF NOT EXISTS "qr_contents_asset_id" ON "qr_contents" ("asset_id")',
)

# As in 0009: the migrating role joins anthias_lookup only to hand it the function.
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

# COALESCE stops at the first non-NULL: one unique-index probe for a QR code.
PUBLIC_CODE_TENANT = (
    "BEGIN RETURN COALESCE("
    "(SELECT q.tenant_id FROM {s}.qr_contents q WHERE q.qr_code = p_code), "
    "(SELECT q.tenant_id FROM {s}.qr_contents q WHERE q.barcode = p_code), "
    "(SELECT a.tenant_id::text FROM {s}.assets a WHERE a.share_code = p_code)); END"
)


def _ident(db, name):
    return db.execute_sql("SELECT quote_ident(%s)", (name,)).fetchone()[0]


def _row_security(db):
    schema = _ident(db, db.execute_sql("SELECT current_schema()").fetchone()[0])
    table = f'{schema}."qr_contents"'
    db.execute_sql(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {APP_ROLE}")
    db.execute_sql(f"GRANT SELECT ON {table} TO {LOOKUP_ROLE}")
    db.execute_sql(f"DROP POLICY IF EXISTS anthias_lookup_read ON {table}")
    db.execute_sql(f"CREATE POLICY anthias_lookup_read ON {table} FOR SELECT "
                   f"TO {LOOKUP_ROLE} USING (true)")
    db.execute_sql(f"DROP POLICY IF EXISTS anthias_tenant_isolation ON {table}")
    db.execute_sql(
        f"CREATE POLICY anthias_tenant_isolation ON {table} FOR ALL "
        f"USING (CASE WHEN tenant_id = current_setting('{SETTING}', true) THEN true "
        f"ELSE false END) WITH CHECK (tenant_id = current_setting('{SETTING}', true))")
    db.execute_sql(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    db.execute_sql(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")

    db.execute_sql(JOIN_LOOKUP_ROLE)
    function = f"{schema}.anthias_public_code_tenant"
    db.execute_sql(
        f"CREATE OR REPLACE FUNCTION {function}(p_code text) RETURNS text LANGUAGE plpgsql "
        "STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp "
        f"AS $fn$ {PUBLIC_CODE_TENANT.format(s=schema)} $fn$")
    db.execute_sql(f"ALTER FUNCTION {function}(text) OWNER TO {LOOKUP_ROLE}")
    db.execute_sql(f"REVOKE ALL ON FUNCTION {function}(text) FROM PUBLIC")
    db.execute_sql(f"GRANT EXECUTE ON FUNCTION {function}(text) TO {APP_ROLE}")
    db.execute_sql(LEAVE_LOOKUP_ROLE)


def up(migrator, db):
    postgres = isinstance(db, PostgresqlDatabase)
    db.execute_sql(TABLE.format(**(POSTGRESQL if postgres else SQLITE)))
    for statement in INDEXES:
        db.execute_sql(statement)
    if "qr_overlay" not in {c.name for c in db.get_columns("assets")}:
        db.execute_sql('ALTER TABLE "assets" ADD COLUMN "qr_overlay" text NULL')
    if postgres:
        _row_security(db)
