"""Fleet, issue 15's open ends: commands expire, and one public key links one active device.

Frozen SQL for SQLite and PostgreSQL, never the application's models.

- ``device_commands.expires_at``: a command not handed to its device by then never is (the
  hub leaves it out of the state; v3 shows it ``expired``). Commands queued before this
  migration expire 24 hours after they were queued, the default for new ones, so a command a
  screen missed while offline for a month does not run when it comes back.
- ``devices_public_key_active``: a unique index on ``public_key`` among active devices, so two
  active devices never share a key (whoever holds the private key would speak for both). A
  revoked device keeps its key for the record; a device makes a new key pair at every link.
  Should two active devices already share a key, all but the newest are revoked first (their
  pending commands expire, as a revocation's do), or the index could not be made.

No new table: 0013's row-level policies cover both tables. Those policies hold the tables'
owner too (FORCE), so on PostgreSQL the two data fixes lift FORCE for this transaction only.
"""

import datetime as dt

from peewee import PostgresqlDatabase

COMMAND_LIFETIME = dt.timedelta(hours=24)

ADD_EXPIRES_AT = {
    "sqlite": 'ALTER TABLE "device_commands" ADD COLUMN "expires_at" datetime NULL',
    "postgresql": 'ALTER TABLE "device_commands" ADD COLUMN "expires_at" timestamp NULL',
}
BACKFILL_POSTGRESQL = ('UPDATE "device_commands" SET "expires_at" = "created_at" + '
                       "interval '24 hours' WHERE \"expires_at\" IS NULL")
# The newer of two active devices sharing a key stays; ties by id, so exactly one stays.
DUPLICATE_KEYS = (
    'SELECT d.device_id FROM "devices" d WHERE d.status = \'active\' AND EXISTS ('
    'SELECT 1 FROM "devices" n WHERE n.public_key = d.public_key AND n.status = \'active\' '
    "AND (n.created_at > d.created_at OR (n.created_at = d.created_at "
    "AND n.device_id > d.device_id)))"
)
REVOKE_DEVICE = ('UPDATE "devices" SET "status" = \'revoked\', "revoked_at" = {p}, '
                 '"command_version" = "command_version" + 1 WHERE "device_id" = {p}')
EXPIRE_COMMANDS = ('UPDATE "device_commands" SET "status" = \'expired\', "done_at" = {p} '
                   'WHERE "device_id" = {p} AND "status" = \'pending\'')
UNIQUE_KEY = ('CREATE UNIQUE INDEX IF NOT EXISTS "devices_public_key_active" '
              'ON "devices" ("public_key") WHERE "status" = \'active\'')


def _backfill_sqlite(db):
    # SQLite keeps peewee's text spelling of datetimes; computing in Python keeps it.
    rows = db.execute_sql('SELECT "command_id", "created_at" FROM "device_commands" '
                          'WHERE "expires_at" IS NULL').fetchall()
    for command_id, created in rows:
        created_at = created if isinstance(created, dt.datetime) else \
            dt.datetime.fromisoformat(str(created))
        db.execute_sql('UPDATE "device_commands" SET "expires_at" = ? WHERE "command_id" = ?',
                       (str(created_at + COMMAND_LIFETIME), command_id))


def _revoke_duplicates(db, placeholder):
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    stamp = now if placeholder == "%s" else str(now)
    for (device_id,) in db.execute_sql(DUPLICATE_KEYS).fetchall():
        db.execute_sql(REVOKE_DEVICE.format(p=placeholder), (stamp, device_id))
        db.execute_sql(EXPIRE_COMMANDS.format(p=placeholder), (stamp, device_id))


def up(migrator, db):
    postgres = isinstance(db, PostgresqlDatabase)
    if "expires_at" not in {c.name for c in db.get_columns("device_commands")}:
        db.execute_sql(ADD_EXPIRES_AT["postgresql" if postgres else "sqlite"])
    if not postgres:
        _backfill_sqlite(db)
        _revoke_duplicates(db, "?")
        db.execute_sql(UNIQUE_KEY)
        return
    tables = ('"devices"', '"device_commands"')
    for table in tables:
        db.execute_sql(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    db.execute_sql(BACKFILL_POSTGRESQL)
    _revoke_duplicates(db, "%s")
    for table in tables:
        db.execute_sql(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    db.execute_sql(UNIQUE_KEY)
