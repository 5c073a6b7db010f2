"""Add the ``play_log`` table: what the player showed, when, and how it ended.

Frozen as raw SQL, like 0001 and 0002, so the model may change without this file.
"""

from peewee import PostgresqlDatabase

SQLITE_TABLE = (
    'CREATE TABLE IF NOT EXISTS "play_log" ('
    '"id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "asset_id" text NOT NULL, '
    '"asset_name" text NULL, "started_at" datetime NOT NULL, "ended_at" datetime NULL, '
    '"renderer" text NOT NULL, "outcome" text NOT NULL DEFAULT \'playing\')'
)

POSTGRESQL_TABLE = (
    'CREATE TABLE IF NOT EXISTS "play_log" ('
    '"id" bigserial NOT NULL PRIMARY KEY, "asset_id" text NOT NULL, '
    '"asset_name" text NULL, "started_at" timestamp NOT NULL, "ended_at" timestamp NULL, '
    '"renderer" text NOT NULL, "outcome" text NOT NULL DEFAULT \'playing\')'
)

INDEX = 'CREATE INDEX IF NOT EXISTS "play_log_started_at" ON "play_log" ("started_at")'


def up(migrator, db):
    postgres = isinstance(db, PostgresqlDatabase)
    db.execute_sql(POSTGRESQL_TABLE if postgres else SQLITE_TABLE)
    db.execute_sql(INDEX)


def down(migrator, db):
    db.execute_sql('DROP TABLE IF EXISTS "play_log"')
