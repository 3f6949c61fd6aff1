"""Schema migrations: applied once each, in order, atomically; a newer file is refused; and
files written by earlier versions of jim read the same after them."""
import os
import sqlite3
import time

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
from jim import model
from jim.cursors import Cursor
from jim.model import GROUP, SINGLE, TEXT, App, Group, Member, Message, User
from jim.store.sqlite import SqliteStore

TABLES = {
    "apps", "users", "groups", "members", "messages", "schema_version", "conversations",
    "conversation_index", "conversation_index_state", "relations", "gid_marks", "media",
    "cursors", "private_conversations", "conversation_retracted", "conversation_index_lows",
    "events", "event_audience", "sensitive_words", "rooms", "room_members", "room_id_marks",
    "callbacks", "report_index", "report_user_index", "report_hours", "report_names",
    "report_state", "nonces", "silences", "media_usage",
}


def tables(connection):
    rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    return {name for (name,) in rows}


def _schema(path):
    """The sorted (type, name, table, SQL) of everything in a store file's schema, its SQL with
    runs of white space made one space."""
    db = sqlite3.connect(path)
    try:
        rows = db.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall()
    finally:
        db.close()
    return sorted((kind, name, table, None if sql is None else " ".join(sql.split()))
                  for kind, name, table, sql in rows)



def old_conversation_id(db, app, sender, target_type, target):
    """The id of a message's conversation in an old file, made on first use as the old
    append made it."""
    if target_type == GROUP:
        key = f"g:{target}"
    else:
        first, second = sorted((sender, target))
        key = f"s:{len(first)}:{first}:{second}"
    row = db.execute("SELECT id FROM conversations WHERE app = ? AND key = ?",
                     (app, key)).fetchone()
    return row[0] if row else db.execute(
        "INSERT INTO conversations (app, key) VALUES (?, ?)", (app, key)).lastrowid

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
        connection.execute("INSERT INTO groups VALUES ('app1', 'g1', 'G', 'ann', '', 999)")
        connection.close()

        store = SqliteStore(path, reactor, early_ids=0)  # ids go on with no gap
        await store.start()
        self.addCleanup(store.stop)
        messages = store.messages
        private = await messages.private_history("app1", "bob", "ann")
        self.assertEqual([m.id for m in private], [1, 2])
        self.assertEqual((await store.groups.group_by_alias("app1", "g1")).gid, model.FIRST_GID)
        self.assertEqual([m.id for m in await messages.group_history("app1", model.FIRST_GID)], [3])
        self.assertEqual([m.id for m in await messages.private_history("app2", "ann", "bob")], [4])
        # bob's offline mark became the cursors of his device-less devices (migration 5)
        cursors = await store.inbox.cursors("app1", "bob")
        self.assertEqual({device: cursor.floor for device, cursor in cursors.items()},
                         {"w:~": 0, "j:~": 0})
        self.assertEqual([m.id for m in await store.inbox.read("app1", "bob", [],
                                                              cursors["w:~"])], [1, 2])
        # a new message joins its old conversation, and ids go on from the old ones
        stored = await messages.add_message(
            Message(0, "app1", "ann", SINGLE, "bob", TEXT, {"text": "new"}, None, None, 2000)
        )
        self.assertEqual(stored.id, 5)
        private = await messages.private_history("app1", "ann", "bob")
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
            await newer.users.get_user("a", "ann")
        self.assertEqual(caught.exception.code, errors.SERVER_ERROR)
        await newer.stop()


class _Version2File:
    """A store file as the jim before migration 3 wrote it: the version 1 and 2 schema, and rows
    written with that jim's own SQL."""

    def __init__(self, path):
        os.makedirs(os.path.dirname(path))
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA foreign_keys = ON")
        migrate(self.db, bundled_migrations()[:2])
        self.next_id = 1

    def app(self, key, created):
        self.db.execute("INSERT INTO apps (key, secret_hash, name, created) VALUES (?, ?, ?, ?)",
                        (key, "f00d", f"app {key}", created))

    def user(self, app, username, created):
        self.db.execute(
            "INSERT INTO users (app, username, password, nickname, avatar, signature, created)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (app, username, f"hash-{username}", username.title(), f"{username}.png", "hi", created))

    def group(self, app, gid, owner, created, members):
        self.db.execute("INSERT OR IGNORE INTO groups (app, gid, name, owner, avatar, created)"
                        " VALUES (?, ?, ?, ?, ?, ?)", (app, gid, f"group {gid}", owner, "g.png",
                                                       created))
        for username in members:
            self.db.execute("INSERT OR IGNORE INTO members (app, gid, username) VALUES (?, ?, ?)",
                            (app, gid, username))

    def message(self, app, sender, target_type, target, msg_type, content, offline_for=(),
                extras=None, client_id=None):
        """A message as the old append wrote it (its conversation made on first use); its id."""
        conv = old_conversation_id(self.db, app, sender, target_type, target)
        message_id, self.next_id = self.next_id, self.next_id + 1
        self.db.execute(
            "INSERT INTO messages (id, app, sender, target_type, target, msg_type, content,"
            " extras, client_id, created, conv) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (message_id, app, sender, target_type, target, msg_type, content, extras, client_id,
             1000 + message_id, conv))
        for username in offline_for:
            self.db.execute("INSERT OR IGNORE INTO offline (app, username, message_id)"
                            " VALUES (?, ?, ?)", (app, username, message_id))
        return message_id

    def index(self):
        """The old conversation index job: what is written so far is indexed."""
        self.db.execute("INSERT INTO conversation_index (conv, created, id) SELECT conv, created,"
                        " id FROM messages WHERE id > (SELECT indexed_upto FROM"
                        " conversation_index_state)")
        self.db.execute("UPDATE conversation_index_state SET indexed_upto ="
                        " (SELECT MAX(id) FROM messages)")


class DomainMigrationTests(unittest.TestCase):
    """Migration 3 carries a version-2 file into the domain model and loses nothing."""

    async def test_a_version_2_file_reads_the_same(self):
        path = os.path.join(self.mktemp(), "jim.db")
        old = _Version2File(path)
        old.app("k2", 20)
        old.app("k1", 10)
        for name, created in (("zed", 1), ("ann", 2), ("bob", 3)):
            old.user("a", name, created)
        old.user("b", "ann", 4)
        # created in this order: "g1" is not a number, "100" is, the others are not canonical
        old.group("a", "g1", "bob", 50, ["bob", "ann"])
        old.group("a", "100", "ann", 51, ["zed", "ann", "bob"])
        for odd in ("007", "0", "-5", "1234567890123456789"):
            old.group("a", odd, "zed", 52, ["zed"])
        old.group("b", "20000000", "ann", 53, ["ann"])
        old.group("b", "g1", "ann", 54, ["ann"])
        old.group("c", "x", "ann", 55, [])
        old.group("c", "123456789012345678", "ann", 56, [])  # the longest number kept
        m = old.message  # old J-IM msgTypes: 0 text, 1 image, 2 voice, 3 video, 4 music, 5 news
        text = m("a", "ann", SINGLE, "bob", 0, "hello", ["bob"], '{"k":1}', "c1")
        image = m("a", "bob", SINGLE, "ann", 1, "pic.png", ["ann"], None, 7)
        in_100 = m("a", "ann", GROUP, "100", 2, "voice.amr", ["zed", "bob"])
        old.index()  # the messages so far are indexed, those below are the tail
        in_g1 = m("a", "bob", GROUP, "g1", 4, "song", ["ann"], '{"x":[1]}', "c2")
        video = m("a", "ann", SINGLE, "bob", 3, "clip.mp4")
        news = m("a", "ann", SINGLE, "bob", 5, "héadline 📰", ["bob"])
        orphan = m("b", "ann", GROUP, "30000000", 0, "to a group that has no row")
        in_b = m("b", "ann", GROUP, "g1", 0, "in b's g1", ["ann"])
        old.db.close()

        store = SqliteStore(path, reactor, early_ids=0)
        await store.start()
        self.addCleanup(store.stop)
        await self.check_apps_and_users(store)
        gids = await self.check_groups(store)
        await self.check_messages(store, gids, text, image, in_100, in_g1, video, news, orphan,
                                  in_b)
        self.check_file(path)

    async def test_new_gids_go_above_every_old_gid(self):
        """A gid of 0 never gets a number an old group or group conversation used: a message
        to a group that had no row keeps its conversation, which a new group would inherit."""
        path = os.path.join(self.mktemp(), "jim.db")
        old = _Version2File(path)
        old.group("d", "12", "ann", 50, ["ann"])
        orphan = old.message("d", "ann", GROUP, "10000000", 0, "to a group that has no row",
                             ["bob"])
        old.group("e", "g1", "ann", 51, ["ann"])  # renumbered: 10000000, its key follows
        in_g1 = old.message("e", "ann", GROUP, "g1", 0, "in g1")
        old.message("e", "ann", GROUP, "g2", 0, "a name is no gid")
        old.group("f", "10000007", "ann", 52, [])
        old.message("f", "ann", GROUP, "20000000", 0, "above every group of f")
        old.db.close()

        store = SqliteStore(path, reactor, early_ids=0)
        await store.start()
        self.addCleanup(store.stop)
        with sqlite3.connect(path) as db:
            marks = db.execute("SELECT app, last_gid FROM gid_marks ORDER BY app").fetchall()
        db.close()
        self.assertEqual(marks, [("d", 10000000), ("e", 10000000), ("f", 20000000)])
        groups, messages = store.groups, store.messages
        made = await groups.create_group(Group("d", 0), [])
        self.assertEqual(made.gid, model.FIRST_GID + 1)  # not the orphan's 10000000
        self.assertEqual(await messages.group_history("d", made.gid), [])
        self.assertEqual(await store.inbox.read("d", "bob", [made.gid], Cursor(), gid=made.gid),
                         [])
        self.assertEqual([m.id for m in await messages.group_history("d", model.FIRST_GID)],
                         [orphan])
        self.assertEqual((await groups.group_by_alias("e", "g1")).gid, model.FIRST_GID)
        self.assertEqual([m.id for m in await messages.group_history("e", model.FIRST_GID)],
                         [in_g1])
        self.assertEqual((await groups.create_group(Group("e", 0), [])).gid,
                         model.FIRST_GID + 1)
        self.assertEqual((await groups.create_group(Group("f", 0), [])).gid, 20000001)
        self.assertEqual((await groups.create_group(Group("g", 0), [])).gid, model.FIRST_GID)

    async def test_a_group_larger_than_500_keeps_room_for_its_members(self):
        """A server run with a larger --group-size had bigger groups: each keeps them all."""
        path = os.path.join(self.mktemp(), "jim.db")
        old = _Version2File(path)
        old.group("a", "big", "u0", 50, [f"u{n}" for n in range(501)])
        old.group("a", "small", "u0", 51, ["u0", "u1"])
        old.db.close()

        store = SqliteStore(path, reactor, early_ids=0)
        await store.start()
        self.addCleanup(store.stop)
        big = await store.groups.group_by_alias("a", "big")
        self.assertEqual(big.max_members, 501)
        self.assertEqual(len(await store.groups.members("a", big.gid)), 501)
        self.assertEqual((await store.groups.group_by_alias("a", "small")).max_members, 500)

    async def test_a_migrated_file_has_the_schema_of_a_fresh_one(self):
        """Every table, index and trigger a fresh store has, with the same SQL, and no other:
        a version-2 file with rows in it and a new file end up with the same schema."""
        old_path = os.path.join(self.mktemp(), "jim.db")
        old = _Version2File(old_path)
        old.app("k1", 10)
        old.user("a", "ann", 1)
        old.group("a", "g1", "ann", 50, ["ann"])
        old.message("a", "ann", GROUP, "g1", 0, "hi", ["ann"])
        old.index()
        old.message("a", "ann", SINGLE, "bob", 0, "not yet indexed", ["bob"])
        old.db.close()
        fresh_path = os.path.join(self.mktemp(), "jim.db")
        for path in (old_path, fresh_path):
            store = SqliteStore(path, reactor, early_ids=0)
            await store.start()
            await store.stop()
        migrated, fresh = _schema(old_path), _schema(fresh_path)
        self.assertGreater(len([row for row in fresh if row[0] == "index"]), 3)
        self.assertEqual(set(migrated) - set(fresh), set(), "only in the migrated file")
        self.assertEqual(set(fresh) - set(migrated), set(), "only in the fresh file")
        self.assertEqual(migrated, fresh)

    async def check_apps_and_users(self, store):
        self.assertEqual(await store.apps.list_apps(0, 5),
                         (2, [App("k2", "f00d", "app k2", 20), App("k1", "f00d", "app k1", 10)]))
        ann = User("a", "ann", "hash-ann", "Ann", "ann.png", "", "hi", model.GENDER_UNKNOWN, "",
                   "", None, 2, 2, False, False)
        self.assertEqual(await store.users.get_user("a", "ann"), ann)
        total, users = await store.users.list_users("a", 0, 5)
        self.assertEqual((total, [u.username for u in users]), (3, ["zed", "ann", "bob"]))
        self.assertEqual(await store.users.list_users("a", 0, 5, admin=True), (0, []))
        self.assertEqual((await store.users.get_user("b", "ann")).ctime, 4)

    async def check_groups(self, store):
        groups = store.groups
        hundred = await groups.get_group("a", 100)
        self.assertEqual(hundred, Group("a", 100, "group 100", "", "g.png", "ann", model.PUBLIC,
                                        500, 51, 51, None))
        g1 = await groups.group_by_alias("a", "g1")
        self.assertEqual(g1, Group("a", model.FIRST_GID, "group g1", "", "g.png", "bob",
                                   model.PUBLIC, 500, 50, 50, "g1"))
        total, listed = await groups.list_groups("a", 0, 10)  # in the old creation order
        self.assertEqual([(g.gid, g.alias) for g in listed], [
            (model.FIRST_GID, "g1"), (100, None), (model.FIRST_GID + 1, "007"),
            (model.FIRST_GID + 2, "0"), (model.FIRST_GID + 3, "-5"),
            (model.FIRST_GID + 4, "1234567890123456789")])
        self.assertEqual(total, 6)
        self.assertEqual(await groups.members("a", 100), [
            Member("zed"), Member("ann", model.OWNER), Member("bob")])
        self.assertEqual(await groups.members("a", model.FIRST_GID),
                         [Member("bob", model.OWNER), Member("ann")])
        self.assertEqual([g.gid for g in await groups.user_groups("a", "ann")],
                         [model.FIRST_GID, 100])
        # app b: its new gids start above its largest number, a conversation's included
        self.assertEqual((await groups.get_group("b", 20000000)).alias, None)
        b_g1 = await groups.group_by_alias("b", "g1")
        self.assertEqual(b_g1.gid, 30000001)
        self.assertEqual(await groups.members("b", b_g1.gid), [Member("ann", model.OWNER)])
        _, listed = await groups.list_groups("c", 0, 10)
        self.assertEqual([(g.gid, g.alias) for g in listed],
                         [(123456789012345679, "x"), (123456789012345678, None)])
        # new groups get gids above the migrated ones
        made = await groups.create_group(Group("a", 0), [])
        self.assertEqual(made.gid, model.FIRST_GID + 5)
        return {"g1": g1.gid, "b-g1": b_g1.gid}

    async def check_messages(self, store, gids, text, image, in_100, in_g1, video, news, orphan,
                             in_b):
        messages = store.messages
        g1 = str(gids["g1"])

        def message(id, sender, target_type, target, msg_type, body, extras=None, client_id=None,
                    app="a"):
            return Message(id, app, sender, target_type, target, msg_type, body, extras,
                           client_id, 1000 + id)

        wanted = {
            text: message(text, "ann", SINGLE, "bob", TEXT, {"text": "hello"}, '{"k":1}', "c1"),
            image: message(image, "bob", SINGLE, "ann", model.IMAGE, {"content": "pic.png"},
                           client_id=7),
            in_100: message(in_100, "ann", GROUP, "100", model.VOICE, {"content": "voice.amr"}),
            in_g1: message(in_g1, "bob", GROUP, g1, model.CUSTOM,
                           {"content": "song", "jim_msg_type": 4}, '{"x":[1]}', "c2"),
            video: message(video, "ann", SINGLE, "bob", model.VIDEO, {"content": "clip.mp4"}),
            news: message(news, "ann", SINGLE, "bob", model.CUSTOM,
                          {"content": "héadline 📰", "jim_msg_type": 5}),
            orphan: message(orphan, "ann", GROUP, "30000000", TEXT,
                            {"text": "to a group that has no row"}, app="b"),
            in_b: message(in_b, "ann", GROUP, str(gids["b-g1"]), TEXT, {"text": "in b's g1"},
                          app="b"),
        }
        for id, expected in wanted.items():
            got = await messages.get_message(expected.app, id)
            self.assertEqual(got, expected)
            self.assertEqual(list(got.body), list(expected.body))  # the keys in their order
        self.assertEqual(await messages.private_history("a", "bob", "ann"),
                         [wanted[i] for i in (text, image, video, news)])
        self.assertEqual(await messages.group_history("a", 100), [wanted[in_100]])
        self.assertEqual(await messages.group_history("a", gids["g1"]), [wanted[in_g1]])
        self.assertEqual(await messages.group_history("b", gids["b-g1"]), [wanted[in_b]])
        self.assertEqual(await messages.message_by_client_id("a", "bob", "c2", GROUP, g1),
                         wanted[in_g1])
        self.assertEqual(await messages.message_by_client_id("a", "bob", 7, SINGLE, "ann"),
                         wanted[image])
        # offline marks became the cursors of each user's device-less devices (migration 5),
        # from just below their oldest mark
        floors = {("a", "ann"): image - 1, ("a", "bob"): text - 1, ("a", "zed"): in_100 - 1,
                  ("b", "ann"): in_b - 1}
        for (app, name), floor in floors.items():
            cursors = await store.inbox.cursors(app, name)
            self.assertEqual({device: cursor.floor for device, cursor in cursors.items()},
                             {"w:~": floor, "j:~": floor}, (app, name))
        # new messages join the old conversations, and ids go on from the old ones
        new = await messages.add_message(
            Message(0, "a", "zed", GROUP, g1, TEXT, {"text": "new"}, created=5000))
        self.assertEqual(new.id, in_b + 1)
        self.assertEqual(await messages.group_history("a", gids["g1"]), [wanted[in_g1], new])

    def check_file(self, path):
        db = sqlite3.connect(path)
        self.addCleanup(db.close)
        self.assertEqual(tables(db), TABLES)
        self.assertEqual(db.execute("PRAGMA foreign_key_check").fetchall(), [])
        self.assertEqual(db.execute("PRAGMA integrity_check").fetchall(), [("ok",)])
        (custom,) = db.execute("SELECT body FROM messages WHERE msg_type = 'custom'"
                               " ORDER BY id LIMIT 1").fetchone()
        self.assertEqual(custom, b'{"content":"song","jim_msg_type":4}')  # JSON, a BLOB
        (text,) = db.execute("SELECT body FROM messages WHERE msg_type = 'text'"
                             " ORDER BY id LIMIT 1").fetchone()
        self.assertIs(type(text), str)  # a plain text is kept as itself
        keys = {key for (key,) in db.execute("SELECT key FROM conversations WHERE app = 'a'")}
        self.assertIn(f"g:{model.FIRST_GID}", keys)
        self.assertNotIn("g:g1", keys)


class _Version4File:
    """A store file as the jim before migration 5 (the inbox) wrote it: the version 1 to 4
    schema, and rows written with that jim's own SQL."""

    def __init__(self, path):
        os.makedirs(os.path.dirname(path))
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA foreign_keys = ON")
        migrate(self.db, bundled_migrations()[:4])
        self.next_id = 1

    def user(self, app, username):
        self.db.execute(
            "INSERT INTO users (app, username, password, nickname, avatar, birthday, signature,"
            " gender, region, address, extras, ctime, mtime, forbidden, admin)"
            " VALUES (?, ?, 'h', '', '', '', '', 0, '', '', NULL, 1, 1, 0, 0)", (app, username))

    def message(self, app, sender, target_type, target, text, offline_for=()):
        """A message and its offline marks as the old append wrote them; its id."""
        conv = old_conversation_id(self.db, app, sender, target_type, target)
        message_id, self.next_id = self.next_id, self.next_id + 1
        self.db.execute(
            "INSERT INTO messages (id, app, sender, target_type, target, msg_type, body, extras,"
            " client_id, created, conv) VALUES (?, ?, ?, ?, ?, 'text', ?, NULL, NULL, ?, ?)",
            (message_id, app, sender, target_type, target, text, 1000 + message_id, conv))
        for username in offline_for:
            self.db.execute("INSERT INTO offline (app, username, message_id) VALUES (?, ?, ?)",
                            (app, username, message_id))
        return message_id

    def retract(self, message_id):
        """The old retraction: the flag, and out of the conversation index."""
        self.db.execute("DELETE FROM conversation_index WHERE id = ?", (message_id,))
        self.db.execute("UPDATE messages SET retracted = 1 WHERE id = ?", (message_id,))

    def index(self):
        """The old conversation index job."""
        self.db.execute("INSERT INTO conversation_index (conv, created, id) SELECT conv, created,"
                        " id FROM messages WHERE id > (SELECT indexed_upto FROM"
                        " conversation_index_state) AND retracted = 0")
        self.db.execute("UPDATE conversation_index_state SET indexed_upto ="
                        " (SELECT MAX(id) FROM messages)")


class InboxMigrationTests(unittest.TestCase):
    """Migration 5 gives every user the cursors of J-IM's two device-less devices, from their
    offline marks, and lists each user's private conversations."""

    async def test_offline_marks_become_cursors(self):
        path = os.path.join(self.mktemp(), "jim.db")
        old = _Version4File(path)
        for name in ("ann", "bob", "cid", "dan"):
            old.user("a", name)
        old.user("b", "ann")
        m = old.message
        seen = m("a", "bob", SINGLE, "ann", "ann was online")
        for_bob = m("a", "ann", SINGLE, "bob", "bob was away", ["bob"])
        away = m("a", "bob", SINGLE, "ann", "ann went away", ["ann"])
        in_100 = m("a", "bob", GROUP, "100", "to the group", ["ann", "cid"])
        old.index()  # these are indexed, the rest is the tail
        not_hers = m("a", "bob", SINGLE, "cid", "not hers")
        from_cid = m("a", "cid", SINGLE, "ann", "from cid", ["ann"])
        gone = m("a", "cid", SINGLE, "ann", "retracted", ["ann"])
        old.retract(gone)
        to_self = m("a", "dan", SINGLE, "dan", "a note")
        m("a", "bob", SINGLE, "eve", "to a deleted user", ["eve"])  # eve has no row
        m("b", "ann", SINGLE, "bob", "another app's", ["bob"])
        newest = old.next_id - 1
        old.db.close()

        before = int(time.time() * 1000) // 1000 * 1000
        store = SqliteStore(path, reactor, early_ids=0)
        await store.start()
        self.addCleanup(store.stop)
        after = int(time.time() * 1000)
        inbox = store.inbox

        # the two device-less devices of every user: from the oldest offline mark, or the end
        floors = {("a", "ann"): away - 1, ("a", "bob"): for_bob - 1,
                  ("a", "cid"): in_100 - 1, ("a", "dan"): newest, ("a", "eve"): newest - 2,
                  ("b", "ann"): newest, ("b", "bob"): newest - 1}
        for (app, username), floor in floors.items():
            cursors = await inbox.cursors(app, username)
            self.assertEqual(set(cursors), {"w:~", "j:~"}, (app, username))
            for cursor in cursors.values():
                self.assertEqual(cursor[:3], (floor, (), ()), (app, username))
                self.assertGreaterEqual(cursor.seen, before)
                self.assertLessEqual(cursor.seen, after)
        self.assertEqual(await inbox.cursors("a", "nobody"), {})

        # what waited offline for ann is her inbox from her w:~ cursor: nothing more
        cursor = (await inbox.cursors("a", "ann"))["w:~"]
        read = await inbox.read("a", "ann", [100], cursor)
        self.assertEqual([m.id for m in read], [away, in_100, from_cid])
        self.assertEqual(await inbox.read("a", "dan", [], (await inbox.cursors("a", "dan"))["j:~"]),
                         [])

        # the private conversations of every user, a conversation with oneself once
        everything = Cursor()
        self.assertEqual([m.id for m in await inbox.read("a", "ann", [], everything)],
                         [seen, for_bob, away, from_cid])
        self.assertEqual([m.id for m in await inbox.read("a", "cid", [], everything)],
                         [not_hers, from_cid])
        self.assertEqual([m.id for m in await inbox.read("a", "dan", [], everything)], [to_self])
        with sqlite3.connect(path) as db:
            rows = db.execute("SELECT app, username, COUNT(*) FROM private_conversations"
                              " GROUP BY app, username ORDER BY app, username").fetchall()
            left = tables(db)
        db.close()
        self.assertNotIn("offline", left)  # the marks are gone once they are cursors (migration 6)
        self.assertEqual(rows, [("a", "ann", 2), ("a", "bob", 3), ("a", "cid", 2),
                                ("a", "dan", 1), ("a", "eve", 1), ("b", "ann", 1),
                                ("b", "bob", 1)])
        # a new conversation gets its rows as it is made, an old one none again
        dan_ann = await store.messages.add_message(
            Message(0, "a", "dan", SINGLE, "ann", TEXT, {"text": "new"}, created=5000))
        await store.messages.add_message(
            Message(0, "a", "ann", SINGLE, "bob", TEXT, {"text": "again"}, created=5001))
        self.assertEqual([m.id for m in await inbox.read("a", "dan", [], Cursor(newest))],
                         [dan_ann.id])
        self.assertEqual([m.body["text"] for m in await inbox.read("a", "ann", [], cursor)],
                         ["ann went away", "from cid", "new", "again"])


class _Version12File(_Version4File):
    """A store file as the jim before migration 13 (reports) wrote it."""

    def __init__(self, path):
        os.makedirs(os.path.dirname(path))
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA foreign_keys = ON")
        migrate(self.db, bundled_migrations()[:12])
        self.next_id = 1

    def message(self, app, sender, target_type, target, text, offline_for=()):
        """A message as the jim of version 12 wrote it: a private one lists its conversation
        for both users."""
        message_id = super().message(app, sender, target_type, target, text, offline_for)
        if target_type == SINGLE:
            self.db.execute(
                "INSERT OR IGNORE INTO private_conversations (app, username, conv)"
                " SELECT app, ?, conv FROM messages WHERE id = ? UNION"
                " SELECT app, ?, conv FROM messages WHERE id = ?",
                (sender, message_id, target, message_id))
        return message_id


class ReportMigrationTests(unittest.TestCase):
    """Migration 13 indexes for the Report API v2 what was indexed before it; the tail is
    read from the log, as ever."""

    async def test_the_indexed_log_is_reported(self):
        path = os.path.join(self.mktemp(), "jim.db")
        old = _Version12File(path)
        for name in ("ann", "bob"):
            old.user("a", name)
        m = old.message
        first = m("a", "ann", SINGLE, "bob", "one")
        gone = m("a", "bob", SINGLE, "ann", "retracted")
        old.retract(gone)
        in_group = m("a", "bob", GROUP, "10000001", "to the group")
        old.index()
        tail = m("a", "ann", SINGLE, "bob", "not indexed yet")
        m("b", "ann", SINGLE, "bob", "another app's")
        old.db.close()

        store = SqliteStore(path, reactor, early_ids=0)
        await store.start()
        self.addCleanup(store.stop)
        reports = store.reports
        listed = await reports.report_messages("a", None, 0, 2**62, None, 10)
        self.assertEqual([message.id for message in listed], [first, in_group, tail])
        ann = await reports.report_messages("a", ("user", "ann"), 0, 2**62, None, 10)
        self.assertEqual([message.id for message in ann], [first, tail])
        counts = await reports.message_counts("a", 0, 3_600_000)
        self.assertEqual(counts, {(0, SINGLE, "text"): 3, (0, GROUP, "text"): 1})
        self.assertEqual(await reports.distinct_count("a", "sender", 0, 3_600_000), 2)
        self.assertEqual(await reports.created_histogram("a", "user", [1, 2]), [0, 2, 0])
