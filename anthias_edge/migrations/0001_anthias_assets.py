"""Adopt Anthias's ``assets`` table: create it, or upgrade a Flask-era one in place.

A Django-era Anthias database already has the table in its final form and is
left untouched. A Flask-era one stores ``duration`` as text and dates as
``timestamp``; it is rebuilt into the Django-era column types, rows and their
insertion order kept, so that both Anthias and Anthias Edge read it.
"""

from peewee import PostgresqlDatabase

SQLITE_ASSETS = (
    'CREATE TABLE "{name}" ("asset_id" text NOT NULL PRIMARY KEY, "name" text NULL, '
    '"uri" text NULL, "md5" text NULL, "start_date" datetime NULL, "end_date" datetime NULL, '
    '"duration" bigint NULL, "mimetype" text NULL, "is_enabled" bool NOT NULL DEFAULT 0, '
    '"is_processing" bool NOT NULL DEFAULT 0, "nocache" bool NOT NULL DEFAULT 0, '
    '"play_order" integer NOT NULL DEFAULT 0, "skip_asset_check" bool NOT NULL DEFAULT 0)'
)

POSTGRESQL_ASSETS = (
    'CREATE TABLE "assets" ("asset_id" text NOT NULL PRIMARY KEY, "name" text NULL, '
    '"uri" text NULL, "md5" text NULL, "start_date" timestamp NULL, "end_date" timestamp NULL, '
    '"duration" bigint NULL, "mimetype" text NULL, "is_enabled" boolean NOT NULL DEFAULT false, '
    '"is_processing" boolean NOT NULL DEFAULT false, "nocache" boolean NOT NULL DEFAULT false, '
    '"play_order" integer NOT NULL DEFAULT 0, "skip_asset_check" boolean NOT NULL DEFAULT false)'
)

# Flask-era rows may hold '' or 'N/A' as duration and NULL flags.
COPY_FLASK_ROWS = (
    'INSERT INTO "assets_edge_upgrade" SELECT asset_id, name, uri, md5, start_date, end_date, '
    "CASE WHEN trim(duration) GLOB '[0-9]*' THEN CAST(duration AS INTEGER) ELSE NULL END, "
    "mimetype, coalesce(is_enabled, 0), coalesce(is_processing, 0), coalesce(nocache, 0), "
    "coalesce(play_order, 0), coalesce(skip_asset_check, 0) FROM assets ORDER BY rowid"
)


def up(migrator, db):
    if isinstance(db, PostgresqlDatabase):
        if not db.table_exists("assets"):
            db.execute_sql(POSTGRESQL_ASSETS)
        return
    if not db.table_exists("assets"):
        db.execute_sql(SQLITE_ASSETS.format(name="assets"))
        return
    columns = {c.name: c.data_type.lower() for c in db.get_columns("assets")}
    if columns.get("duration") == "bigint":
        return  # Django era: already the final form.
    db.execute_sql(SQLITE_ASSETS.format(name="assets_edge_upgrade"))
    db.execute_sql(COPY_FLASK_ROWS)
    db.execute_sql('DROP TABLE "assets"')
    db.execute_sql('ALTER TABLE "assets_edge_upgrade" RENAME TO "assets"')
