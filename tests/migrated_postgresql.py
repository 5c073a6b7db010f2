"""A PostgreSQL database put back to "just migrated" before each test, without migrating again.

Dropping the public schema and running every migration cost each test about half a second on
PostgreSQL. The first reset of a database does exactly that, then remembers two things: a
fingerprint of the schema the migrations built (tables, columns, constraints, indexes,
policies, functions, grants, sequences) and the rows they wrote (their own history table's).
Every later reset checks the fingerprint and, when the schema is still that one, empties every
table, writes the remembered rows back and sets each sequence where the migrations left it,
in one transaction. A test that changed the schema (added a table, dropped a policy, migrated
only half way, dropped the schema) leaves another fingerprint behind, and the next reset
drops the schema and migrates for real.

The fingerprint is of the catalog's content, not of object ids: a schema that was dropped and
migrated again is the same schema, and its rows are what the fast path replaces anyway.
Roles (``anthias_app``, ``anthias_lookup``) belong to the server, not to a database; neither
reset touches them.
"""

from __future__ import annotations

import atexit
from graphlib import TopologicalSorter
from typing import TYPE_CHECKING

from anthias_edge.db import close_connections, open_database, run_migrations

if TYPE_CHECKING:  # psycopg is imported where PostgreSQL runs, as tests/cloud/pg.py does
    import psycopg
    from psycopg import sql

# Everything in the public schema that a migration could build or a test could change,
# one line per object, hashed. Object ids are left out (see the module's docstring).
FINGERPRINT = """
WITH ns AS (SELECT oid FROM pg_namespace WHERE nspname = 'public')
SELECT md5(coalesce(string_agg(item, E'\\n' ORDER BY item), '')) FROM (
  SELECT format('schema %s %s', pg_get_userbyid(n.nspowner), n.nspacl)
    FROM pg_namespace n JOIN ns ON n.oid = ns.oid
  UNION ALL
  SELECT format('relation %s %s %s %s %s %s %s', c.relname, c.relkind, c.relpersistence,
                pg_get_userbyid(c.relowner), c.relacl, c.relrowsecurity,
                c.relforcerowsecurity)
    FROM pg_class c JOIN ns ON c.relnamespace = ns.oid
  UNION ALL
  SELECT format('column %s.%s %s %s %s %s %s', c.relname, a.attname,
                format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attidentity,
                a.attgenerated, pg_get_expr(d.adbin, d.adrelid))
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN ns ON c.relnamespace = ns.oid
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT format('constraint %s %s %s', c.relname, k.conname, pg_get_constraintdef(k.oid))
    FROM pg_constraint k JOIN ns ON k.connamespace = ns.oid
    LEFT JOIN pg_class c ON c.oid = k.conrelid
  UNION ALL
  SELECT format('index %s', pg_get_indexdef(i.indexrelid))
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN ns ON c.relnamespace = ns.oid
  UNION ALL
  SELECT format('policy %s %s %s %s %s %s %s', c.relname, p.polname, p.polcmd,
                p.polpermissive, p.polroles::regrole[], pg_get_expr(p.polqual, p.polrelid),
                pg_get_expr(p.polwithcheck, p.polrelid))
    FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN ns ON c.relnamespace = ns.oid
  UNION ALL
  SELECT format('trigger %s', pg_get_triggerdef(t.oid))
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN ns ON c.relnamespace = ns.oid
    WHERE NOT t.tgisinternal
  UNION ALL
  SELECT format('rule %s', pg_get_ruledef(r.oid))
    FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN ns ON c.relnamespace = ns.oid
  UNION ALL
  SELECT format('function %s %s %s %s %s', p.proname, pg_get_function_identity_arguments(p.oid),
                pg_get_userbyid(p.proowner), p.proacl, md5(pg_get_functiondef(p.oid)))
    FROM pg_proc p JOIN ns ON p.pronamespace = ns.oid WHERE p.prokind IN ('f', 'p', 'w')
  UNION ALL
  SELECT format('type %s %s', t.typname, t.typtype)
    FROM pg_type t JOIN ns ON t.typnamespace = ns.oid
    WHERE t.typtype IN ('e', 'd', 'r', 'm') OR (t.typtype = 'c' AND t.typrelid IN (
      SELECT oid FROM pg_class WHERE relkind = 'c'))
  UNION ALL
  SELECT format('sequence %s %s %s %s %s %s %s', c.relname, s.seqtypid::regtype, s.seqstart,
                s.seqincrement, s.seqmin, s.seqmax, s.seqcycle)
    FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN ns ON c.relnamespace = ns.oid
  UNION ALL
  SELECT format('default privileges %s %s %s', pg_get_userbyid(d.defaclrole),
                d.defaclobjtype, d.defaclacl)
    FROM pg_default_acl d JOIN ns ON d.defaclnamespace = ns.oid
) AS objects(item)
"""

TABLES = """
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY c.relname
"""

# (referencing table, referenced table) of every foreign key between two public tables.
FOREIGN_KEYS = """
SELECT DISTINCT c.relname, r.relname FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class r ON r.oid = k.confrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE k.contype = 'f' AND n.nspname = 'public' AND c.oid <> r.oid
"""

SEQUENCES = """
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind = 'S' ORDER BY c.relname
"""


def schema_fingerprint(conn: psycopg.Connection) -> str:
    """The hash of the public schema's shape (see ``FINGERPRINT``)."""
    return conn.execute(FINGERPRINT).fetchone()[0]


class MigratedSchema:
    """The public schema of the database at ``url``, as the migrations leave it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._fingerprint: str | None = None
        self._restore: sql.Composed | None = None
        # Kept open between resets: connecting, and planning the fingerprint's query on a
        # new connection, were most of a reset's time; psycopg prepares it on this one.
        self._conn: psycopg.Connection | None = None

    def reset(self) -> None:
        """Leave the database as a fresh migration leaves it: quickly when the schema is
        still the migrated one, else by dropping it and migrating."""
        import psycopg

        if self._restore is not None:
            try:
                conn = self._connection()
                if schema_fingerprint(conn) == self._fingerprint:
                    with conn.transaction():
                        conn.execute(self._restore)
                    return
            except psycopg.errors.InsufficientPrivilege:
                pass  # a role the policies hold: the migrations' way always works for it
            except psycopg.OperationalError:
                self.close()  # the database was dropped (and maybe made again) meanwhile
        self._migrate_from_empty()

    def close(self) -> None:
        """Close the connection kept between resets."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _connection(self) -> psycopg.Connection:
        import psycopg

        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self.url, autocommit=True)
        return self._conn

    def _migrate_from_empty(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
            conn.execute("CREATE SCHEMA public")
        database = open_database(self.url)
        try:
            with database.connection_context():
                run_migrations(database)
        finally:
            close_connections(database)
        conn = self._connection()
        self._fingerprint = schema_fingerprint(conn)
        self._restore = restore_statement(conn)


def restore_statement(conn: psycopg.Connection) -> sql.Composed:
    """One statement that empties every table and puts back the rows and sequence values the
    database holds now (run in one transaction).

    DELETE, not TRUNCATE: on these few small tables it takes under a millisecond where
    TRUNCATE, making new files for every table and index, took 50-200. Row security is
    turned off for it, so that a role the policies would hold fails loudly instead of
    deleting only the rows it sees.
    """
    from psycopg import sql

    tables = [row[0] for row in conn.execute(TABLES)]
    parts = [sql.SQL("SET LOCAL row_security TO off"),
             # Nothing to keep if the server crashes: a test database.
             sql.SQL("SET LOCAL synchronous_commit TO off")]
    parts += [sql.SQL("DELETE FROM {}").format(sql.Identifier("public", name))
              for name in emptying_order(conn, tables)]
    for name in tables:
        table = sql.Identifier("public", name)
        rows = conn.execute(sql.SQL("SELECT json_agg(t)::text FROM {} t").format(table)
                            ).fetchone()[0]
        if rows is None:
            continue
        # The rows come back through their own row type, so every value keeps its type.
        parts.append(sql.SQL(
            "INSERT INTO {table} OVERRIDING SYSTEM VALUE "
            "SELECT * FROM json_populate_recordset(NULL::{table}, {rows})").format(
                table=table, rows=sql.Literal(rows)))
    for name in (row[0] for row in conn.execute(SEQUENCES)):
        sequence = sql.Identifier("public", name)
        last_value, is_called = conn.execute(
            sql.SQL("SELECT last_value, is_called FROM {}").format(sequence)).fetchone()
        parts.append(sql.SQL("SELECT setval({}, {}, {})").format(
            sql.Literal(f'public."{name}"'), sql.Literal(last_value), sql.Literal(is_called)))
    return sql.SQL("; ").join(parts)


def emptying_order(conn: psycopg.Connection, tables: list[str]) -> list[str]:
    """``tables`` with every table before the tables its foreign keys point to."""
    referenced_by: dict[str, set[str]] = {name: set() for name in tables}
    for referencing, referenced in conn.execute(FOREIGN_KEYS):
        referenced_by[referenced].add(referencing)
    return list(TopologicalSorter(referenced_by).static_order())


_schemas: dict[str, MigratedSchema] = {}


def migrated_schema(url: str) -> MigratedSchema:
    """The one ``MigratedSchema`` of ``url`` in this test process."""
    if url not in _schemas:
        if not _schemas:
            atexit.register(close_all)
        _schemas[url] = MigratedSchema(url)
    return _schemas[url]


def close_all() -> None:
    """Close the connections every ``MigratedSchema`` of this process keeps."""
    for schema in _schemas.values():
        schema.close()
