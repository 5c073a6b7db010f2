"""Billing (issue 14): ``plans``, ``subscriptions``, ``payment_attempts``, ``payment_events``.

Frozen SQL for SQLite and PostgreSQL, never the application's models.

- ``plans``: the deployment's catalogue (no tenant), seeded once from the package's
  ``data/plans.json``; operators change it with ``anthias-edge plans set|import``. On PostgreSQL
  the request role ``anthias_app`` may only read it, like ``plugin_settings`` (0011).
- ``subscriptions`` (one per tenant), ``payment_attempts`` (one per order id we made) and
  ``payment_events`` (each provider notification once: unique on provider, transaction id,
  status and status code) belong to a tenant and get 0009's row-level policy.
- The public payment webhook knows no tenant when a notification arrives. It asks one SECURITY
  DEFINER function, ``anthias_billing_tenant(order_id, subscription_id)``: the tenant of our
  payment attempt with that order id, else of the subscription with that provider id (NULL if
  neither), then sets that tenant and reads and writes as it. A notification for an order we
  never made therefore finds no tenant and is refused without touching any table.
- The reconciler (an operator-side job, not a request) asks ``anthias_billing_work()`` which
  tenants have something to check: open attempts (``order``), subscriptions at a provider
  (``subscription``) and subscriptions whose time may run out (``tenant``); it then works
  on each inside that tenant (``tenant_scope``). Only the migrating role may run it.
"""

import json
from pathlib import Path

from peewee import PostgresqlDatabase

APP_ROLE = "anthias_app"
LOOKUP_ROLE = "anthias_lookup"
SETTING = "anthias.tenant_id"
SEED = Path(__file__).resolve().parent.parent / "data" / "plans.json"

TABLES = (
    'CREATE TABLE IF NOT EXISTS "plans" ("code" text NOT NULL PRIMARY KEY, "name" text NOT NULL, '
    '"price_amount" integer NOT NULL DEFAULT 0, "currency" text NOT NULL DEFAULT \'IDR\', '
    '"interval" text NOT NULL DEFAULT \'month\', "trial_days" integer NOT NULL DEFAULT 0, '
    '"max_assets" integer NOT NULL, "max_devices" integer NOT NULL, '
    '"storage_quota_gb" integer NOT NULL, "is_public" {bool_true}, '
    '"sort_order" integer NOT NULL DEFAULT 0, "updated_at" {ts} NOT NULL)',
    'CREATE TABLE IF NOT EXISTS "subscriptions" ("id" text NOT NULL PRIMARY KEY, '
    '"tenant_id" varchar(36) NOT NULL UNIQUE REFERENCES "tenants" ("id") ON DELETE CASCADE, '
    '"plan" text NOT NULL REFERENCES "plans" ("code"), "status" text NOT NULL, '
    '"current_period_start" {ts} NULL, "current_period_end" {ts} NULL, '
    '"cancel_at_period_end" {bool_false}, "amount" integer NOT NULL DEFAULT 0, '
    '"currency" text NOT NULL DEFAULT \'IDR\', "payment_provider" text NULL, '
    '"external_id" text NULL, "saved_card_token" text NULL, "trial_end" {ts} NULL, '
    '"grace_until" {ts} NULL, "created_at" {ts} NOT NULL, "updated_at" {ts} NOT NULL)',
    'CREATE TABLE IF NOT EXISTS "payment_attempts" ("id" text NOT NULL PRIMARY KEY, '
    '"order_id" text NOT NULL UNIQUE, '
    '"tenant_id" varchar(36) NOT NULL REFERENCES "tenants" ("id") ON DELETE CASCADE, '
    '"plan" text NOT NULL REFERENCES "plans" ("code"), "kind" text NOT NULL, '
    '"amount" integer NOT NULL, "currency" text NOT NULL, "provider" text NOT NULL, '
    '"idempotency_key" text NOT NULL, "status" text NOT NULL, "transaction_id" text NULL, '
    '"redirect_url" text NULL, "period_start" {ts} NULL, "period_end" {ts} NULL, '
    '"created_at" {ts} NOT NULL, "updated_at" {ts} NOT NULL)',
    'CREATE TABLE IF NOT EXISTS "payment_events" ("id" text NOT NULL PRIMARY KEY, '
    '"tenant_id" varchar(36) NOT NULL REFERENCES "tenants" ("id") ON DELETE CASCADE, '
    '"provider" text NOT NULL, "transaction_id" text NOT NULL, "status" text NOT NULL, '
    '"status_code" text NOT NULL, "order_id" text NULL, "subscription_id" text NULL, '
    '"raw" text NOT NULL, "received_at" {ts} NOT NULL, "outcome" text NOT NULL, '
    'UNIQUE ("provider", "transaction_id", "status", "status_code"))',
)
SQLITE = {"bool_true": "bool NOT NULL DEFAULT 1", "bool_false": "bool NOT NULL DEFAULT 0",
          "ts": "datetime"}
POSTGRESQL = {"bool_true": "boolean NOT NULL DEFAULT true",
              "bool_false": "boolean NOT NULL DEFAULT false", "ts": "timestamp"}

INDEXES = (
    'CREATE INDEX IF NOT EXISTS "subscriptions_external_id" ON "subscriptions" ("external_id")',
    'CREATE INDEX IF NOT EXISTS "payment_attempts_tenant_id" '
    'ON "payment_attempts" ("tenant_id", "created_at")',
    # The reconciler's question: which attempts are still open.
    'CREATE INDEX IF NOT EXISTS "payment_attempts_status" ON "payment_attempts" ("status")',
    'CREATE INDEX IF NOT EXISTS "payment_events_tenant_id" '
    'ON "payment_events" ("tenant_id", "received_at")',
)
TENANT_TABLES = ("subscriptions", "payment_attempts", "payment_events")
LOOKUP_TABLES = ("subscriptions", "payment_attempts")

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
BILLING_TENANT = (
    "BEGIN RETURN COALESCE("
    "(SELECT a.tenant_id::text FROM {s}.payment_attempts a WHERE a.order_id = p_order_id), "
    "(SELECT s.tenant_id::text FROM {s}.subscriptions s "
    "WHERE s.external_id = p_subscription_id LIMIT 1)); END"
)
BILLING_WORK = (
    "SELECT a.tenant_id::text, 'order'::text, a.order_id FROM {s}.payment_attempts a "
    "WHERE a.status = 'pending' "
    "UNION ALL SELECT s.tenant_id::text, 'subscription'::text, s.external_id "
    "FROM {s}.subscriptions s WHERE s.external_id IS NOT NULL "
    "AND s.status IN ('active', 'past_due') "
    "UNION ALL SELECT s.tenant_id::text, 'tenant'::text, s.tenant_id::text "
    "FROM {s}.subscriptions s WHERE s.status <> 'canceled'"
)


def _seed(db):
    plans = json.loads(SEED.read_text(encoding="utf-8"))["plans"]
    for plan in plans:
        if db.execute_sql(f'SELECT 1 FROM "plans" WHERE "code" = {db.param}',
                          (plan["code"],)).fetchone():
            continue
        columns = ("code", "name", "price_amount", "currency", "interval", "trial_days",
                   "max_assets", "max_devices", "storage_quota_gb", "is_public", "sort_order")
        names = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join([db.param] * (len(columns) + 1))
        db.execute_sql(f'INSERT INTO "plans" ({names}, "updated_at") VALUES ({marks})',
                       (*[plan[c] for c in columns], "2026-12-05 00:00:00"))


def _row_security(db):
    schema = db.execute_sql("SELECT quote_ident(current_schema())").fetchone()[0]
    plans = f'{schema}."plans"'
    db.execute_sql(f"REVOKE ALL ON {plans} FROM {APP_ROLE}")
    db.execute_sql(f"GRANT SELECT ON {plans} TO {APP_ROLE}")
    for table in TENANT_TABLES:
        qualified = f'{schema}."{table}"'
        db.execute_sql(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {qualified} TO {APP_ROLE}")
        db.execute_sql(f"DROP POLICY IF EXISTS anthias_tenant_isolation ON {qualified}")
        db.execute_sql(
            f"CREATE POLICY anthias_tenant_isolation ON {qualified} FOR ALL "
            f"USING (CASE WHEN tenant_id = current_setting('{SETTING}', true) THEN true "
            f"ELSE false END) WITH CHECK (tenant_id = current_setting('{SETTING}', true))")
        db.execute_sql(f"ALTER TABLE {qualified} ENABLE ROW LEVEL SECURITY")
        db.execute_sql(f"ALTER TABLE {qualified} FORCE ROW LEVEL SECURITY")
    for table in LOOKUP_TABLES:
        qualified = f'{schema}."{table}"'
        db.execute_sql(f"GRANT SELECT ON {qualified} TO {LOOKUP_ROLE}")
        db.execute_sql(f"DROP POLICY IF EXISTS anthias_lookup_read ON {qualified}")
        db.execute_sql(f"CREATE POLICY anthias_lookup_read ON {qualified} FOR SELECT "
                       f"TO {LOOKUP_ROLE} USING (true)")

    db.execute_sql(JOIN_LOOKUP_ROLE)
    function = f"{schema}.anthias_billing_tenant"
    db.execute_sql(
        f"CREATE OR REPLACE FUNCTION {function}(p_order_id text, p_subscription_id text) "
        "RETURNS text LANGUAGE plpgsql STABLE SECURITY DEFINER "
        "SET search_path = pg_catalog, pg_temp "
        f"AS $fn$ {BILLING_TENANT.format(s=schema)} $fn$")
    db.execute_sql(f"ALTER FUNCTION {function}(text, text) OWNER TO {LOOKUP_ROLE}")
    db.execute_sql(f"REVOKE ALL ON FUNCTION {function}(text, text) FROM PUBLIC")
    # Requests (the webhook) and the reconciler, which runs as the migrating role.
    db.execute_sql(f"GRANT EXECUTE ON FUNCTION {function}(text, text) TO {APP_ROLE}, "
                   "CURRENT_USER")
    work = f"{schema}.anthias_billing_work"
    db.execute_sql(
        f"CREATE OR REPLACE FUNCTION {work}() RETURNS TABLE(tenant_id text, kind text, "
        "ref text) LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp "
        f"AS $fn$ {BILLING_WORK.format(s=schema)} $fn$")
    db.execute_sql(f"ALTER FUNCTION {work}() OWNER TO {LOOKUP_ROLE}")
    db.execute_sql(f"REVOKE ALL ON FUNCTION {work}() FROM PUBLIC")
    db.execute_sql(f"GRANT EXECUTE ON FUNCTION {work}() TO CURRENT_USER")
    db.execute_sql(LEAVE_LOOKUP_ROLE)


def up(migrator, db):
    postgres = isinstance(db, PostgresqlDatabase)
    values = POSTGRESQL if postgres else SQLITE
    for statement in TABLES:
        db.execute_sql(statement.format(**values))
    for statement in INDEXES:
        db.execute_sql(statement)
    _seed(db)
    if postgres:
        _row_security(db)
