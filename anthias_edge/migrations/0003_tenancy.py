"""Tenancy: tenants, users and memberships, tokens, signing keys, login throttling, audit log.

Frozen raw SQL for SQLite and PostgreSQL (never the application's models). Also
creates the device's own tenant (subdomain ``local``, plan ``device``) and hands it
every asset that has no tenant yet, so the legacy API can act on a real tenant id.
"""

import datetime as dt
import uuid

from peewee import PostgresqlDatabase

SQLITE = {"bool_true": "bool NOT NULL DEFAULT 1", "ts": "datetime",
          "auto": "INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT"}
POSTGRESQL = {"bool_true": "boolean NOT NULL DEFAULT true", "ts": "timestamp",
              "auto": "BIGSERIAL PRIMARY KEY"}

TABLES = (
    'CREATE TABLE IF NOT EXISTS "tenants" ("id" varchar(36) NOT NULL PRIMARY KEY, '
    '"name" text NOT NULL, "subdomain" text NOT NULL UNIQUE, "custom_domain" text NULL UNIQUE, '
    '"is_active" {bool_true}, "plan_type" text NOT NULL DEFAULT \'free\', '
    '"max_assets" integer NOT NULL DEFAULT 100, "max_devices" integer NOT NULL DEFAULT 5, '
    '"storage_quota_gb" integer NOT NULL DEFAULT 10, "created_at" {ts} NOT NULL, '
    '"updated_at" {ts} NOT NULL)',
    'CREATE TABLE IF NOT EXISTS "users" ("id" varchar(36) NOT NULL PRIMARY KEY, '
    '"username" text NOT NULL UNIQUE, "email" text NOT NULL DEFAULT \'\', '
    '"password_hash" text NOT NULL, "is_active" {bool_true}, "created_at" {ts} NOT NULL)',
    'CREATE TABLE IF NOT EXISTS "tenant_users" ("id" {auto}, '
    '"user_id" varchar(36) NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE, '
    '"tenant_id" varchar(36) NOT NULL REFERENCES "tenants" ("id") ON DELETE CASCADE, '
    '"role" text NOT NULL CHECK ("role" IN (\'owner\', \'admin\', \'editor\', \'viewer\')), '
    '"permissions" text NOT NULL DEFAULT \'{{"grant":[],"revoke":[]}}\', '
    '"is_active" {bool_true}, "created_at" {ts} NOT NULL, '
    'UNIQUE ("user_id", "tenant_id"))',
    'CREATE TABLE IF NOT EXISTS "api_tokens" ("id" varchar(36) NOT NULL PRIMARY KEY, '
    '"tenant_id" varchar(36) NOT NULL REFERENCES "tenants" ("id") ON DELETE CASCADE, '
    '"user_id" varchar(36) NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE, '
    '"name" text NOT NULL, "prefix" text NOT NULL UNIQUE, "secret_hash" text NOT NULL, '
    '"permissions" text NOT NULL DEFAULT \'[]\', "expires_at" {ts} NULL, '
    '"last_used_at" {ts} NULL, "revoked_at" {ts} NULL, "created_at" {ts} NOT NULL)',
    'CREATE TABLE IF NOT EXISTS "refresh_tokens" ("id" varchar(36) NOT NULL PRIMARY KEY, '
    '"tenant_id" varchar(36) NOT NULL REFERENCES "tenants" ("id") ON DELETE CASCADE, '
    '"user_id" varchar(36) NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE, '
    '"token_hash" text NOT NULL UNIQUE, "family_id" varchar(36) NOT NULL, '
    '"rotated_at" {ts} NULL, "revoked_at" {ts} NULL, "expires_at" {ts} NOT NULL, '
    '"created_at" {ts} NOT NULL)',
    'CREATE TABLE IF NOT EXISTS "audit_log" ("id" {auto}, '
    '"tenant_id" varchar(36) NOT NULL REFERENCES "tenants" ("id") ON DELETE CASCADE, '
    '"actor" text NOT NULL, "action" text NOT NULL, "object_type" text NOT NULL DEFAULT \'\', '
    '"object_id" text NOT NULL DEFAULT \'\', "summary" text NOT NULL DEFAULT \'\', '
    '"ip" text NULL, "at" {ts} NOT NULL)',
    'CREATE TABLE IF NOT EXISTS "signing_keys" ("kid" text NOT NULL PRIMARY KEY, '
    '"secret_encrypted" text NOT NULL, "created_at" {ts} NOT NULL, "retired_at" {ts} NULL)',
    'CREATE TABLE IF NOT EXISTS "login_attempts" ("id" {auto}, "key" text NOT NULL, '
    '"at" {ts} NOT NULL)',
)

INDEXES = (
    'CREATE INDEX IF NOT EXISTS "tenant_users_tenant_id" ON "tenant_users" ("tenant_id")',
    'CREATE INDEX IF NOT EXISTS "api_tokens_tenant_id" ON "api_tokens" ("tenant_id")',
    'CREATE INDEX IF NOT EXISTS "api_tokens_user_id" ON "api_tokens" ("user_id")',
    'CREATE INDEX IF NOT EXISTS "refresh_tokens_family_id" ON "refresh_tokens" ("family_id")',
    'CREATE INDEX IF NOT EXISTS "refresh_tokens_user_id" ON "refresh_tokens" ("user_id")',
    'CREATE INDEX IF NOT EXISTS "audit_log_tenant_id_id" ON "audit_log" ("tenant_id", "id")',
    'CREATE INDEX IF NOT EXISTS "login_attempts_key_at" ON "login_attempts" ("key", "at")',
    'CREATE INDEX IF NOT EXISTS "login_attempts_at" ON "login_attempts" ("at")',
)

LOCAL_SUBDOMAIN = "local"


def _local_tenant(db):
    p = db.param
    row = db.execute_sql(f'SELECT "id" FROM "tenants" WHERE "subdomain" = {p}',
                         (LOCAL_SUBDOMAIN,)).fetchone()
    if row:
        return row[0]
    tenant_id = str(uuid.uuid4())
    # Text, not a datetime: sqlite3's default datetime adapter is deprecated.
    now = str(dt.datetime.now(dt.UTC).replace(tzinfo=None))
    db.execute_sql(
        'INSERT INTO "tenants" ("id", "name", "subdomain", "is_active", "plan_type", '
        '"max_assets", "max_devices", "storage_quota_gb", "created_at", "updated_at") '
        f"VALUES ({', '.join([p] * 10)})",
        (tenant_id, "This device", LOCAL_SUBDOMAIN, True, "device", 9999, 1, 1000, now, now))
    return tenant_id


def up(migrator, db):
    dialect = POSTGRESQL if isinstance(db, PostgresqlDatabase) else SQLITE
    for statement in TABLES:
        db.execute_sql(statement.format(**dialect))
    for statement in INDEXES:
        db.execute_sql(statement)
    tenant_id = _local_tenant(db)
    db.execute_sql(f'UPDATE "assets" SET "tenant_id" = {db.param} WHERE "tenant_id" IS NULL',
                   (tenant_id,))
