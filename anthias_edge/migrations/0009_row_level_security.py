"""Row-level security on PostgreSQL: each tenant-owned table shows and takes one tenant's rows.

PostgreSQL only (a device's SQLite has one tenant and no roles); frozen SQL, never the models.

- The device's own tenant (subdomain ``local``, plan ``device``) that 0003 made is removed
  when nothing refers to it: a cloud database has no device, and nobody there may use it.
- Role ``anthias_app`` (no login, no superuser, no BYPASSRLS, owns nothing) gets DML on the
  tables; cloud requests act as it (``SET LOCAL ROLE``). It is granted to the migrating role
  so that role may switch to it.
- Every table with a ``tenant_id`` (assets, tenant_users, api_tokens, refresh_tokens,
  audit_log) gets ENABLE and FORCE ROW LEVEL SECURITY and one policy for every command:
  ``tenant_id = current_setting('anthias.tenant_id', true)``, a setting made per transaction
  (``VISIBLE`` says why reading spells it as a CASE).
  FORCE holds the tables' owner to it too; only a superuser passes by.
- Lookups that must cross tenants before the tenant is known are SECURITY DEFINER functions
  owned by role ``anthias_lookup`` (no login), whose only way past the policies is a SELECT
  policy for that role alone. Each answers one narrow question (see ``FUNCTIONS``).
  ``anthias_asset_owners`` is for operator commands only: ``anthias_app`` may not run it.
  The migrating role needs membership of ``anthias_lookup`` only to hand it the functions,
  and gives it up afterwards, lest the lookup policy apply to it too. A policy for one role
  is also left out of other roles' plans: an OR of both in every query cost the tenant list
  its ordered index scan.
"""

from peewee import PostgresqlDatabase

APP_ROLE = "anthias_app"
LOOKUP_ROLE = "anthias_lookup"
SETTING = "anthias.tenant_id"
TENANT_TABLES = ("assets", "tenant_users", "api_tokens", "refresh_tokens", "audit_log")
LOOKUP_TABLES = ("assets", "tenant_users", "api_tokens", "refresh_tokens")

# Which rows a transaction sees. Spelt as a CASE, not as the bare equality, for the planner:
# an equality with the setting made "tenant_id" a constant to it, so ORDER BY tenant_id, seq
# walked the global seq index (2.9 ms instead of 0.04 for a page of 10 tenants' 10,000 rows),
# and multiplying its selectivity with the query's own tenant condition estimated one row, so
# a tenant's whole list was sorted for each page. The CASE is a filter on the rows the query's
# own index condition finds, estimated at one half; NULL (no tenant, no setting) is false.
VISIBLE = (f"CASE WHEN tenant_id = current_setting('{SETTING}', true) THEN true ELSE false "
           "END")

# Roles belong to the whole server; another database may have made them (even right now).
ROLE = """
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN
    BEGIN
      CREATE ROLE {role} NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}' AND (rolsuper OR rolbypassrls))
  THEN
    RAISE EXCEPTION 'role {role} exists and bypasses row-level security: refusing to use it';
  END IF;
  IF NOT pg_has_role(current_user, '{role}', 'MEMBER') THEN
    EXECUTE 'GRANT {role} TO ' || quote_ident(current_user);
  END IF;
END $$
"""

# name(arguments), returns, body (tables schema-qualified: search_path is pinned), for app
FUNCTIONS = (
    # An API token's tenant, only when its secret's hash matches: the caller is authenticated.
    ("anthias_api_token_tenant(p_prefix text, p_secret_hash text)", "text",
     "SELECT tenant_id::text FROM {s}.api_tokens "
     "WHERE prefix = p_prefix AND secret_hash = p_secret_hash", True),
    # A refresh token's tenant by the hash of its secret (holding the secret authenticates).
    ("anthias_refresh_token_tenant(p_token_hash text)", "text",
     "SELECT tenant_id::text FROM {s}.refresh_tokens WHERE token_hash = p_token_hash", True),
    # How many tenants a user belongs to, so removing a member never deletes (and, by the
    # foreign keys, cascades through) a user another tenant still has.
    ("anthias_user_memberships(p_user_id text)", "bigint",
     "SELECT count(*) FROM {s}.tenant_users WHERE user_id = p_user_id", True),
    # Operators' migrate-to-postgresql: which of these asset ids exist, and whose they are.
    ("anthias_asset_owners(p_ids text[])", "TABLE(asset_id text, tenant_id text)",
     "SELECT a.asset_id, a.tenant_id FROM {s}.assets a WHERE a.asset_id = ANY(p_ids)", False),
)

LEAVE_LOOKUP_ROLE = f"""
DO $$
BEGIN
  IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
     AND pg_has_role(current_user, '{LOOKUP_ROLE}', 'MEMBER') THEN
    EXECUTE 'REVOKE {LOOKUP_ROLE} FROM ' || quote_ident(current_user);
  END IF;
END $$
"""

# The device tenant goes when nothing refers to it (audit entries go with it, by cascade).
DROP_LOCAL_TENANT = """
DELETE FROM tenants t WHERE t.subdomain = 'local' AND t.plan_type = 'device'
  AND NOT EXISTS (SELECT 1 FROM assets a WHERE a.tenant_id = t.id)
  AND NOT EXISTS (SELECT 1 FROM tenant_users m WHERE m.tenant_id = t.id)
  AND NOT EXISTS (SELECT 1 FROM api_tokens k WHERE k.tenant_id = t.id)
  AND NOT EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.tenant_id = t.id)
"""


def _ident(db, name):
    return db.execute_sql("SELECT quote_ident(%s)", (name,)).fetchone()[0]


def up(migrator, db):
    if not isinstance(db, PostgresqlDatabase):
        return
    db.execute_sql(DROP_LOCAL_TENANT)
    schema = _ident(db, db.execute_sql("SELECT current_schema()").fetchone()[0])
    for role in (APP_ROLE, LOOKUP_ROLE):
        db.execute_sql(ROLE.format(role=role))
    db.execute_sql(f"GRANT USAGE ON SCHEMA {schema} TO {APP_ROLE}, {LOOKUP_ROLE}")
    # Owning the functions needs CREATE on their schema; the role has no login to use it.
    db.execute_sql(f"GRANT CREATE ON SCHEMA {schema} TO {LOOKUP_ROLE}")
    dml = "SELECT, INSERT, UPDATE, DELETE"
    db.execute_sql(f"GRANT {dml} ON ALL TABLES IN SCHEMA {schema} TO {APP_ROLE}")
    db.execute_sql(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {APP_ROLE}")
    # Tables and sequences that later migrations create (as this role) are granted alike.
    db.execute_sql(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} "
                   f"GRANT {dml} ON TABLES TO {APP_ROLE}")
    db.execute_sql(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} "
                   f"GRANT USAGE, SELECT ON SEQUENCES TO {APP_ROLE}")
    for table in LOOKUP_TABLES:
        db.execute_sql(f'GRANT SELECT ON {schema}."{table}" TO {LOOKUP_ROLE}')
        db.execute_sql(f'DROP POLICY IF EXISTS anthias_lookup_read ON {schema}."{table}"')
        db.execute_sql(f'CREATE POLICY anthias_lookup_read ON {schema}."{table}" FOR SELECT '
                       f"TO {LOOKUP_ROLE} USING (true)")
    for table in TENANT_TABLES:
        qualified = f'{schema}."{table}"'
        db.execute_sql(f"DROP POLICY IF EXISTS anthias_tenant_isolation ON {qualified}")
        db.execute_sql(
            f"CREATE POLICY anthias_tenant_isolation ON {qualified} FOR ALL "
            f"USING ({VISIBLE}) WITH CHECK (tenant_id = current_setting('{SETTING}', true))")
        db.execute_sql(f"ALTER TABLE {qualified} ENABLE ROW LEVEL SECURITY")
        db.execute_sql(f"ALTER TABLE {qualified} FORCE ROW LEVEL SECURITY")
    for signature, returns, body, for_app in FUNCTIONS:
        name = f"{schema}.{signature}"
        if returns.startswith("TABLE"):
            language, source = "sql", body.format(s=schema)
        else:  # PL/pgSQL keeps the plan for the session; a SQL function plans every call
            language, source = "plpgsql", f"BEGIN RETURN ({body.format(s=schema)}); END"
        db.execute_sql(
            f"CREATE OR REPLACE FUNCTION {name} RETURNS {returns} LANGUAGE {language} STABLE "
            f"SECURITY DEFINER SET search_path = pg_catalog, pg_temp "
            f"AS $fn$ {source} $fn$")
        bare = name.split("(")[0] + "(" + ", ".join(
            arg.split()[-1] for arg in signature.split("(")[1].rstrip(")").split(", ")) + ")"
        db.execute_sql(f"ALTER FUNCTION {bare} OWNER TO {LOOKUP_ROLE}")
        db.execute_sql(f"REVOKE ALL ON FUNCTION {bare} FROM PUBLIC")
        grantee = APP_ROLE if for_app else "CURRENT_USER"
        db.execute_sql(f"GRANT EXECUTE ON FUNCTION {bare} TO {grantee}")
    db.execute_sql(LEAVE_LOOKUP_ROLE)
