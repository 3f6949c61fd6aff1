"""Schema migrations: applied once each, in order, atomically; a newer file is refused."""
import os
import sqlite3

from twisted.internet import reactor
from twisted.trial import unittest

from jim import errors
from jim.errors import JimError
from jim.store.migrations import (
    Migration,
    SchemaTooNew,
    bundled_migrations,
    check_sequence,
    migrate,
    schema_version,
    split_statements,
)
from jim.model import Message
from jim.store.sqlite import SqliteStore

TABLES = {
    "apps", "users", "groups", "members", "messages", "offline", "schema_version", "conversations",
    "conversation_index", "conversation_index_state",
}


def tables(connection):
    rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    return {name for (name,) in rows}


class MigrateTests(unittest.SynchronousTestCase):
    def connect(self, path=None):
        connection = sqlite3.connect(path or self.path, isolation_level=None)
        self.addCleanup(connection.close)
        return connection

    def setUp(self):
        folder = self.mktemp()
        os.makedirs(folder)
        self.path = os.path.join(folder, "jim.db")

    def test_bundled_files_are_found_in_order(self):
        migrations = bundled_migrations()
        self.assertEqual(migrations[0].version, 1)
        self.assertEqual(migrations[0].name, "init")
        self.assertEqual([m.version for m in migrations], list(range(1, len(migrations) + 1)))

    def test_fresh_file_gets_every_migration(self):
        before, after, applied = migrate(self.connect(), now=lambda: 1.5)
        self.assertEqual((before, after), (0, len(bundled_migrations())))
        self.assertEqual(applied, bundled_migrations())
        connection = self.connect()
        self.assertEqual(tables(connection), TABLES)
        self.assertEqual(connection.execute("SELECT version, name, applied FROM schema_version")
                         .fetchall()[0], (1, "init", 1500))

    def test_reopen_applies_nothing(self):
        migrate(self.connect())
        before, after, applied = migrate(self.connect())
        self.assertEqual(before, after)
        self.assertEqual(applied, [])
        (rows,) = self.connect().execute("SELECT count(*) FROM schema_version").fetchone()
        self.assertEqual(rows, len(bundled_migrations()))

    def test_only_new_migrations_are_applied(self):
        first = Migration(1, "one", "CREATE TABLE a (x);")
        second = Migration(2, "two", "CREATE TABLE b (x);\nINSERT INTO a VALUES (1);")
        self.assertEqual(migrate(self.connect(), [first])[:2], (0, 1))
        before, after, applied = migrate(self.connect(), [first, second])
        self.assertEqual((before, after, applied), (1, 2, [second]))
        self.assertEqual(self.connect().execute("SELECT x FROM a").fetchall(), [(1,)])

    def test_failing_migration_leaves_nothing_behind(self):
        first = Migration(1, "one", "CREATE TABLE a (x);")
        broken = Migration(2, "broken", "CREATE TABLE b (x);\nINSERT INTO nowhere VALUES (1);")
        migrate(self.connect(), [first])
        connection = self.connect()
        self.assertRaises(sqlite3.OperationalError, migrate, connection, [first, broken])
        self.assertFalse(connection.in_transaction)
        self.assertEqual(schema_version(connection), 1)
        self.assertNotIn("b", tables(connection))

    def test_newer_file_is_refused(self):
        migrate(self.connect())
        newest = len(bundled_migrations())
        self.connect().execute("INSERT INTO schema_version VALUES (?, 'future', 0)", (newest + 1,))
        with self.assertRaises(SchemaTooNew) as caught:
            migrate(self.connect())
        self.assertEqual((caught.exception.found, caught.exception.known), (newest + 1, newest))
        self.assertIn("newer", caught.exception.detail)

    def test_numbering_must_have_no_gaps(self):
        self.assertRaises(ValueError, check_sequence, [Migration(1, "a", ""), Migration(3, "c", "")])
        self.assertRaises(ValueError, check_sequence, [Migration(2, "b", "")])

    def test_statements_split_at_real_ends_only(self):
        script = (
            "-- a comment; not an end\n"
            "CREATE TABLE t (x TEXT DEFAULT 'a;b');\n"
            "CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n"
            "  UPDATE t SET x = 'c;d'; DELETE FROM t WHERE 0;\n"
            "END; INSERT INTO t VALUES ('e');\n"
            "-- trailing comment\n"
        )
        statements = split_statements(script)
        self.assertEqual(len(statements), 3)
        self.assertTrue(statements[1].startswith("CREATE TRIGGER"))
        self.assertEqual(statements[2], "INSERT INTO t VALUES ('e');")
        self.assertRaises(ValueError, split_statements, "CREATE TABLE t (x);\nCREATE TABLE")


def _v1_message(id, app, sender, target_type, target, conv, created):
    return (id, app, sender, target_type, target, conv, 0, f"m{id}", None, None, created)


class ConversationIdsMigrationTests(unittest.TestCase):
    """Migration 2 turns text conversation keys into ids; a version-1 file reads the same."""

    async def test_version_1_messages_survive(self):
        path = os.path.join(self.mktemp(), "jim.db")
        os.makedirs(os.path.dirname(path))
        connection = sqlite3.connect(path, isolation_level=None)
        migrate(connection, bundled_migrations()[:1])
        rows = [
            _v1_message(1, "app1", "ann", "single", "bob", "s:3:ann:bob", 1000),
            _v1_message(2, "app1", "bob", "single", "ann", "s:3:ann:bob", 1001),
            _v1_message(3, "app1", "ann", "group", "g1", "g:g1", 1002),
            _v1_message(4, "app2", "ann", "single", "bob", "s:3:ann:bob", 1003),
        ]
        connection.executemany(
            "INSERT INTO messages (id, app, sender, target_type, target, conv, msg_type, content,"
            " extras, client_id, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        connection.execute("INSERT INTO offline VALUES ('app1', 'bob', 1)")
        connection.close()

        store = SqliteStore(path, reactor, early_ids=0)  # ids go on with no gap
        await store.start()
        self.addCleanup(store.stop)
        private = await store.private_history("app1", "bob", "ann")
        self.assertEqual([m.id for m in private], [1, 2])
        self.assertEqual([m.id for m in await store.group_history("app1", "g1")], [3])
        self.assertEqual([m.id for m in await store.private_history("app2", "ann", "bob")], [4])
        self.assertEqual([m.id for m in await store.take_offline("app1", "bob")], [1])
        # a new message joins its old conversation, and ids go on from the old ones
        stored = await store.add_message(
            Message(0, "app1", "ann", "single", "bob", 0, "new", None, None, 2000)
        )
        self.assertEqual(stored.id, 5)
        private = await store.private_history("app1", "ann", "bob")
        self.assertEqual([m.id for m in private], [1, 2, 5])
        with sqlite3.connect(path) as check:
            (version,) = check.execute("SELECT MAX(version) FROM schema_version").fetchone()
            indexes = {name for (name,) in check.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'messages'")}
        check.close()
        self.assertEqual(version, len(bundled_migrations()))
        self.assertNotIn("messages_by_conv", indexes)  # conversation_index replaced it


class StoreRefusesNewerFileTests(unittest.TestCase):
    async def test_start_fails_cleanly(self):
        path = os.path.join(self.mktemp(), "jim.db")
        store = SqliteStore(path, reactor)
        await store.start()
        await store.stop()
        with sqlite3.connect(path) as connection:
            connection.execute("INSERT INTO schema_version VALUES (999, 'future', 0)")
        connection.close()
        newer = SqliteStore(path, reactor)
        with self.assertRaises(SchemaTooNew):
            await newer.start()
        self.assertEqual(len(self.flushLoggedErrors(SchemaTooNew)), 1)
        with self.assertRaises(JimError) as caught:
            await newer.get_user("a", "ann")
        self.assertEqual(caught.exception.code, errors.SERVER_ERROR)
        await newer.stop()
