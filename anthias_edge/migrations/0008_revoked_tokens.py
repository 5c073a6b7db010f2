"""Signing out ends the session's access tokens too, not only its refresh tokens.

``revoked_tokens`` lists the ids (``jti``) of signed-out access tokens until they expire;
every access-token check looks the id up, in the same query that reads the member
(``services/auth/tokens.py``). ``refresh_tokens.access_jti`` names the access token issued
with each refresh token, so signing out can list every access token of the session.
The table holds no tenant's data (random ids and times), so it needs no row-level policy.
"""

from peewee import DateTimeField, Model, TextField


class RevokedToken(Model):
    """Frozen copy of the table as this migration creates it."""

    jti = TextField(primary_key=True)
    expires_at = DateTimeField(index=True)

    class Meta:
        table_name = "revoked_tokens"


def up(migrator, db):
    with RevokedToken.bind_ctx(db):
        RevokedToken.create_table()
    migrator.migrate(migrator.add_column("refresh_tokens", "access_jti", TextField(null=True)))


def down(migrator, db):
    migrator.migrate(migrator.drop_column("refresh_tokens", "access_jti"))
    db.execute_sql('DROP TABLE IF EXISTS "revoked_tokens"')
