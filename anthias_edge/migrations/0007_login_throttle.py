"""Login throttling keeps one counter per key instead of one row per failure.

The throttle now delays by how many failures a key has had (doubling waits, see
``services/auth/login_throttle.py``), so each key needs a count and the time of its last
failure, updated in one statement by whichever worker sees the failure. The old rows
are only recent failures; they are dropped rather than converted.
"""

from peewee import DateTimeField, IntegerField, Model, PostgresqlDatabase, TextField


class LoginAttempt(Model):
    """Frozen copy of the table as this migration creates it."""

    key = TextField(primary_key=True)
    failures = IntegerField(default=0)
    last_failure_at = DateTimeField(index=True)

    class Meta:
        table_name = "login_attempts"


def up(migrator, db):
    db.execute_sql('DROP TABLE IF EXISTS "login_attempts"')
    with LoginAttempt.bind_ctx(db):
        LoginAttempt.create_table()


def down(migrator, db):
    postgres = isinstance(db, PostgresqlDatabase)
    auto = "BIGSERIAL PRIMARY KEY" if postgres else "INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT"
    ts = "timestamp" if postgres else "datetime"
    db.execute_sql('DROP TABLE IF EXISTS "login_attempts"')
    db.execute_sql(f'CREATE TABLE "login_attempts" ("id" {auto}, "key" text NOT NULL, '
                   f'"at" {ts} NOT NULL)')
    db.execute_sql('CREATE INDEX "login_attempts_key_at" ON "login_attempts" ("key", "at")')
    db.execute_sql('CREATE INDEX "login_attempts_at" ON "login_attempts" ("at")')
