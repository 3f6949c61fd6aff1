# -*- test-case-name: tests.test_store_migrations -*-
"""Schema migrations: numbered, append-only SQL files applied once each, in order.

The files live in C{jim/store/schema/} as C{NNNN_name.sql} (package data). Each one runs in its
own transaction together with the row that records it in C{schema_version}, so a crash leaves
the file either before or after a migration, never half way. A file whose version is newer than
the newest migration this code ships is refused: old code must not write to a schema it does
not know.

Everything here is blocking sqlite3 work; the SQLite store runs it on its writer thread.
"""
import importlib.resources
import re
import sqlite3
import time

import attr

from jim import errors
from jim.errors import JimError

_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@attr.s(frozen=True, slots=True)
class Migration:
    version = attr.ib(type=int)
    name = attr.ib(type=str)
    sql = attr.ib(type=str, repr=False)


class SchemaTooNew(JimError):
    """The store file was written by a newer jim than this one."""

    def __init__(self, found, known):
        super().__init__(
            errors.SERVER_ERROR,
            f"store schema version {found} is newer than the newest this jim knows ({known});"
            " run a newer jim or restore an older store file",
        )
        self.found = found
        self.known = known


def bundled_migrations():
    """The migrations shipped in C{jim/store/schema/}, ordered by version.

    @raise ValueError: the files are not numbered 1, 2, 3... without gaps or repeats.
    """
    folder = importlib.resources.files("jim.store").joinpath("schema")
    found = []
    for entry in folder.iterdir():
        match = _FILE_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), match.group(2), entry.read_text("utf-8")))
    found.sort(key=lambda migration: migration.version)
    check_sequence(found)
    return found


def check_sequence(migrations):
    """Refuse a list of migrations that is not numbered 1..n in order."""
    for expected, migration in enumerate(migrations, start=1):
        if migration.version != expected:
            raise ValueError(f"schema migration {expected} expected, found {migration.version}")


def split_statements(sql):
    """Cut a script into complete SQL statements (a C{;} inside a literal or trigger body is
    not an end), dropping comment-only leftovers."""
    statements = []
    start = 0
    for position, char in enumerate(sql):
        if char == ";" and sqlite3.complete_statement(sql[start : position + 1]):
            statements.append(sql[start : position + 1].strip())
            start = position + 1
    rest = "\n".join(
        line for line in sql[start:].splitlines() if not line.strip().startswith("--")
    )
    if rest.strip():
        raise ValueError(f"incomplete SQL statement at the end of a migration: {rest.strip()!r}")
    return statements


def schema_version(connection):
    """The version recorded in the file, 0 for a file without migrations."""
    (exists,) = connection.execute(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).fetchone()
    if not exists:
        return 0
    (version,) = connection.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()
    return version


def migrate(connection, migrations=None, now=time.time):
    """Bring the file at C{connection} (autocommit mode, C{isolation_level=None}) up to date.

    @return: C{(version before, version after, [applied Migration, ...])}.
    @raise SchemaTooNew: the file is newer than C{migrations}.
    """
    if migrations is None:
        migrations = bundled_migrations()
    check_sequence(migrations)
    known = len(migrations)
    connection.execute(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied INTEGER NOT NULL)"
    )
    before = schema_version(connection)
    if before > known:
        raise SchemaTooNew(before, known)
    applied = []
    for migration in migrations[before:]:
        if _apply(connection, migration, int(now() * 1000)):
            applied.append(migration)
    return before, schema_version(connection), applied


def _apply(connection, migration, applied_ms):
    connection.execute("BEGIN IMMEDIATE")
    try:
        # Another process may have migrated while we waited for the write lock.
        if schema_version(connection) >= migration.version:
            connection.execute("ROLLBACK")
            return False
        for statement in split_statements(migration.sql):
            connection.execute(statement)
        connection.execute(
            "INSERT INTO schema_version (version, name, applied) VALUES (?, ?, ?)",
            (migration.version, migration.name, applied_ms),
        )
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    return True
