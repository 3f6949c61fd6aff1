"""The contract of IStore.forget_app: an app and everything of it goes, in every area, in one
call, and nothing of another app; for every store."""
import sqlite3

from twisted.internet import reactor
from twisted.trial import unittest
from zope.interface import implementer

from jim import errors, model
from jim.cursors import Cursor
from jim.interfaces import IWordStore
from jim.metrics import Metrics
from jim.model import (
    FIRST_GID, FIRST_ROOM_ID, GROUP, SINGLE, TEXT, App, Event, Group, Media, Member, Message,
    Relation, Room, RoomMember, User,
)
from jim.store.memory_words import MemoryWords
from jim.store.redis_forget import SCAN_COUNT, app_keys_pattern
from jim.store.redis_keys import key
from jim.store.sqlite import SqliteStore
from tests.store_contract.base import (
    ContractCase, OnMemory, OnRedis, OnSqlite, OnSqliteIndexTail,
)

NAMES = ("ann", "bob", "cid")
HASH = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def chat(app, sender, target, text, created=1000, client_id=None):
    return Message(0, app, sender, SINGLE, target, TEXT, {"text": text}, None, client_id,
                   created)


def group_chat(app, sender, gid, text, created=1000):
    return Message(0, app, sender, GROUP, str(gid), TEXT, {"text": text}, None, None, created)


class ForgetAppContract(ContractCase):
    async def fill(self, app):
        """Something of C{app} in every area; what to read it by: C{{"gid", "room", "ids"}}."""
        store = self.store
        await store.apps.add_app(App(app, "f00d", f"the app {app}", 5, friend_mode=True))
        for name in NAMES:
            await store.users.add_user(User(app, name, "hash", nickname=name.title(),
                                            admin=name == "cid"))
        await store.relations.add_relations([
            Relation(app, model.FRIEND, "ann", "bob", "Bobby"),
            Relation(app, model.BLACKLIST, "bob", "cid")])
        group = await store.groups.create_group(
            Group(app, 0, "friends", owner="ann", alias=f"{app}-alias"),
            [Member("ann", model.OWNER), Member("bob")])
        sent = [await store.messages.add_message(message) for message in (
            chat(app, "ann", "bob", "hi", client_id="c-1"),
            chat(app, "bob", "ann", "oops"),
            group_chat(app, "ann", group.gid, "hello all"),
            chat(app, "bob", "cid", "psst", created=2000))]
        await store.messages.retract_message(app, sent[1].id)
        await store.inbox.move_cursor(app, "bob", "w:1", Cursor(sent[0].id, seen=3000))
        await store.inbox.move_cursor(app, "cid", "j:", Cursor(0, seen=4000))
        await store.events.add_event(Event(model.MEMBERS_ADDED, app, actor="ann",
                                           gid=group.gid, created=1500), ["ann", "bob"])
        await store.events.add_event(Event(model.MEMBERS_ADDED, app, created=1600), ["cid"])
        await store.media.add_media(Media(app, "qiniu/image/j/x.png", HASH, model.IMAGE, 10, 7))
        await store.words.add_words(app, ["bad", "worse"], 100, 10)
        room = await store.rooms.create_room(Room(app, 0, "lobby", owner="ann"),
                                             [RoomMember("ann"), RoomMember("cid", True)])
        await store.callbacks.append(app, [("message", '{"msg_id":1}')])
        await store.silences.keep_silences(app, model.silence_place(model.ROOMS_AREA, room.id),
                                           ["bob"])
        return {"gid": group.gid, "room": room.id, "ids": [m.id for m in sent]}

    async def snapshot(self, app, marks):
        """What every area's public reads say of C{app}, read by C{marks} (from L{fill})."""
        store, gid, room = self.store, marks["gid"], marks["room"]
        seen = {"app": await store.apps.get_app(app),
                "users": await store.users.list_users(app, 0, 10),
                "admins": await store.users.list_users(app, 0, 10, admin=True),
                "some users": sorted(u.username for u in
                                     await store.users.get_users(app, NAMES)),
                "owners": await store.relations.owners_of(app, model.FRIEND, "bob"),
                "group": await store.groups.get_group(app, gid),
                "alias": await store.groups.group_by_alias(app, f"{app}-alias"),
                "groups": await store.groups.list_groups(app, 0, 10),
                "members": await store.groups.members(app, gid),
                "messages": [await store.messages.get_message(app, i) for i in marks["ids"]],
                "client id": await store.messages.message_by_client_id(app, "ann", "c-1",
                                                                       SINGLE, "bob"),
                "private": await store.messages.private_history(app, "ann", "bob"),
                "group history": await store.messages.group_history(app, gid),
                "media": await store.media.get_media(app, "qiniu/image/j/x.png"),
                "words": await store.words.list_words(app, 0, 10),
                "all words": await store.words.all_words(app),
                "rooms": await store.rooms.list_rooms(app, 0, 10),
                "get rooms": await store.rooms.get_rooms(app, [room]),
                "room sizes": await store.rooms.room_sizes(app, [room]),
                "silences": await store.silences.silenced_among(
                    app, model.silence_place(model.ROOMS_AREA, room), NAMES),
                "callbacks": (await store.callbacks.count(app),
                              await store.callbacks.batch(app, 10),
                              app in await store.callbacks.pending_apps())}
        try:
            seen["room members"] = await store.rooms.room_members(app, room)
        except errors.JimError as refusal:
            seen["room members"] = refusal.code
        for name in NAMES:
            seen[name] = {
                "user": await store.users.get_user(app, name),
                "relations": await store.relations.relations_of(app, name),
                "groups": await store.groups.user_groups(app, name),
                "cursors": await store.inbox.cursors(app, name),
                "inbox": await store.inbox.read(app, name, [gid], Cursor()),
                "events": await store.events.read_events(app, name, Cursor()),
                "rooms": await store.rooms.user_rooms(app, name)}
        return seen

    async def test_every_area_forgets_the_app_and_only_it(self):
        marks = await self.fill("a")
        await self.fill("b")
        other = await self.fill("c")
        before = await self.snapshot("c", other)
        self.assertEqual(len(before["private"]), 1)  # the retracted one is left out
        self.assertEqual(len(before["ann"]["events"]), 1)
        self.assertEqual(before["room members"][0], 2)
        self.assertIsNone(await self.store.forget_app("a"))
        self.assertIsNone(await self.store.forget_app("b"))
        nothing = await self.snapshot("never", marks)  # an app that never had anything
        self.assertEqual(nothing["room members"], errors.NO_SUCH_ROOM)
        self.assertEqual(await self.snapshot("a", marks), nothing)
        self.assertEqual(await self.snapshot("c", other), before)
        self.assertIsNone(await self.store.apps.get_app("a"))
        self.assertEqual([app.key for app in (await self.store.apps.list_apps(0, 10))[1]],
                         ["c"])
        self.assertEqual(await self.store.users.list_users("a", 0, 10), (0, []))
        self.assertIsNone(await self.store.groups.get_group("a", marks["gid"]))
        self.assertEqual(await self.store.messages.private_history("a", "ann", "bob"), [])
        self.assertEqual(await self.store.inbox.cursors("a", "bob"), {})
        self.assertEqual(await self.store.events.read_events("a", "ann", Cursor()), [])
        self.assertEqual(await self.store.words.all_words("a"), [])
        self.assertEqual(await self.store.rooms.list_rooms("a", 0, 10), (0, []))

    async def test_the_sweeps_count_only_what_is_left(self):
        await self.fill("a")
        await self.fill("b")
        await self.store.forget_app("a")
        # the sweeps meet what the forgotten app left in their indexes, if anything: none of
        # it is counted, and the other app's go as before
        self.assertEqual(await self.store.events.forget_events(1550), 1)
        self.assertEqual(await self.store.inbox.forget_cursors(3500), 1)
        self.assertEqual(await self.store.events.forget_events(10_000), 1)
        self.assertEqual(await self.store.inbox.forget_cursors(10_000), 1)
        self.assertEqual(await self.store.events.read_events("b", "cid", Cursor()), [])
        self.assertEqual(await self.store.inbox.cursors("b", "cid"), {})
        self.assertEqual(await self.store.events.forget_events(10_000), 0)
        self.assertEqual(await self.store.inbox.forget_cursors(10_000), 0)

    async def test_no_such_app_is_no_error(self):
        self.assertIsNone(await self.store.forget_app("nobody"))  # an empty store
        marks = await self.fill("b")
        before = await self.snapshot("b", marks)
        self.assertIsNone(await self.store.forget_app("nobody"))
        self.assertIsNone(await self.store.forget_app(""))
        self.assertEqual(await self.snapshot("b", marks), before)
        await self.store.forget_app("b")
        self.assertIsNone(await self.store.forget_app("b"))  # again
        self.assertEqual(await self.store.apps.list_apps(0, 10), (0, []))

    async def test_the_key_can_be_used_again_by_an_app_that_starts_empty(self):
        marks = await self.fill("a")
        other = await self.fill("b")
        await self.store.forget_app("a")
        store = self.store
        again = App("a", "beef", "again")
        await store.apps.add_app(again)
        self.assertEqual(await store.apps.get_app("a"), again)
        self.assertEqual([app.key for app in (await store.apps.list_apps(0, 10))[1]],
                         ["b", "a"])
        self.assertEqual(await store.users.list_users("a", 0, 10), (0, []))
        await store.users.add_user(User("a", "ann", "new"))  # no USER_EXISTS
        self.assertEqual((await store.users.get_user("a", "ann")).password, "new")
        self.assertEqual(await store.relations.relations_of("a", "ann"), [])
        # ids start over as for a new app: none of the old ones is in use
        group = await store.groups.create_group(Group("a", 0, "new", owner="ann"),
                                                [Member("ann", model.OWNER)])
        self.assertEqual(group.gid, FIRST_GID)
        self.assertEqual(group.gid, marks["gid"])
        self.assertEqual(await store.groups.members("a", group.gid),
                         [Member("ann", model.OWNER)])
        self.assertIsNone(await store.groups.group_by_alias("a", "a-alias"))
        room = await store.rooms.create_room(Room("a", 0, "new"), [])
        self.assertEqual(room.id, FIRST_ROOM_ID)
        self.assertEqual(await store.rooms.room_members("a", room.id), (0, []))
        self.assertEqual(await store.rooms.user_rooms("a", "ann"), [])
        self.assertEqual(await store.words.add_words("a", ["bad"], 200, 1), 1)
        self.assertIsNone(await store.media.get_media("a", "qiniu/image/j/x.png"))
        # the old conversations are gone: a message starts them again, alone
        new = await store.messages.add_message(chat("a", "ann", "bob", "new"))
        said = await store.messages.add_message(group_chat("a", "ann", group.gid, "new too"))
        self.assertEqual(await store.messages.private_history("a", "ann", "bob"), [new])
        self.assertEqual(await store.messages.group_history("a", group.gid), [said])
        self.assertEqual(await store.inbox.read("a", "bob", [], Cursor()), [new])
        self.assertEqual(await store.inbox.read("a", "ann", [group.gid], Cursor()), [new, said])
        self.assertEqual(await store.inbox.cursors("a", "bob"), {})
        self.assertIsNone(await store.messages.message_by_client_id("a", "ann", "c-1",
                                                                    SINGLE, "bob"))
        self.assertEqual(await store.events.read_events("a", "ann", Cursor()), [])
        kept = await store.events.add_event(Event(model.MEMBERS_ADDED, "a", created=1), ["ann"])
        self.assertEqual(await store.events.read_events("a", "ann", Cursor()), [kept])
        self.assertGreater(await store.inbox.last_message_id("a"), 0)
        # the other app's sequence goes on above everything it had
        later = await store.messages.add_message(chat("b", "ann", "bob", "later"))
        self.assertGreater(later.id, max(other["ids"]))

    async def test_app_keys_of_any_text(self):
        """Keys that look alike, or hold what a pattern or a hash tag would read: forgetting
        one forgets no other."""
        keys = ["a", "a*", "ab", "a?", "[ab]", "b", "a\\", "a\\*", "{a}", "%7Ba%7D", "a}:x",
                "a:b", "", "*", "ü ✨", "x\x00y"]
        for app in keys:
            await self.store.apps.add_app(App(app, "f00d"))
            await self.store.users.add_user(User(app, "ann", "hash"))
            await self.store.words.add_words(app, [app or "empty"], 1, 5)
            await self.store.messages.add_message(chat(app, "ann", "bob", app))
        gone = {"a*", "[ab]", "a\\", "{a}", "", "ü ✨"}
        for app in gone:
            await self.store.forget_app(app)
        for app in keys:
            kept = app not in gone
            self.assertEqual(await self.store.apps.get_app(app) is not None, kept, app)
            self.assertEqual(await self.store.users.get_user(app, "ann") is not None, kept, app)
            self.assertEqual(await self.store.words.all_words(app),
                             [app or "empty"] if kept else [], app)
            self.assertEqual([m.body["text"] for m in
                              await self.store.messages.private_history(app, "ann", "bob")],
                             [app] if kept else [], app)
        self.assertEqual([app.key for app in (await self.store.apps.list_apps(0, 20))[1]],
                         [app for app in keys if app not in gone])


@implementer(IWordStore)
class WordsThatCannotForget(MemoryWords):
    """An area as one added without a forget_app."""

    forget_app = None


class MemoryForgetAppTests(ForgetAppContract, OnMemory, unittest.TestCase):
    async def test_an_area_that_cannot_forget_fails_loudly(self):
        self.store.more_words = WordsThatCannotForget()
        await self.store.apps.add_app(App("a", "f00d"))
        with self.assertRaises(TypeError) as caught:
            self.store.forget_app("a")
        self.assertIn("more_words", str(caught.exception))
        self.assertIsNotNone(await self.store.apps.get_app("a"))  # nothing was forgotten
        del self.store.more_words
        await self.store.forget_app("a")
        self.assertIsNone(await self.store.apps.get_app("a"))


class SqliteForgetAppTests(ForgetAppContract, OnSqlite, unittest.TestCase):
    def run_sql(self, sql, *args):
        """Run SQL as a write job of the store; a Deferred of its rows."""
        return self.store.write(lambda db: db.execute(sql, args).fetchall())

    async def test_foreign_keys_are_checked(self):
        self.assertEqual(await self.run_sql("PRAGMA foreign_keys"), [(1,)])
        with self.assertRaises(errors.JimError):  # a member of no group is refused
            await self.run_sql("INSERT INTO members (app, gid, username, role, silenced,"
                               " joined_ms) VALUES ('a', 5, 'ann', 'member', 0, 0)")
        self.flushLoggedErrors(sqlite3.IntegrityError)

    async def test_later_jobs_of_the_batch_check_foreign_keys_at_once(self):
        """Forgetting defers the checks to the COMMIT, for itself only: a bad write in the
        same batch is refused alone."""
        await self.fill("a")
        await self.fill("b")
        bad = ("INSERT INTO members (app, gid, username, role, silenced, joined_ms)"
               " VALUES ('b', 5, 'ann', 'member', 0, 0)")
        commits = self.metrics.commit_count
        done = await self.in_one_turn([
            (self.store.forget_app, "a"),
            (lambda: outcome(self.run_sql(bad)),),
            (self.store.words.add_words, "b", ["fine"], 1, 10)])
        self.assertEqual(done, [None, errors.SERVER_ERROR, 1])
        self.assertEqual(self.metrics.commit_count, commits + 1, "the three in one batch")
        self.flushLoggedErrors(sqlite3.IntegrityError)
        self.assertIsNone(await self.store.apps.get_app("a"))
        self.assertEqual(await self.store.words.all_words("b"), ["bad", "worse", "fine"])

    async def test_a_table_added_later_is_included(self):
        await self.run_sql("CREATE TABLE later_things (seq INTEGER PRIMARY KEY, app TEXT, x)")
        for app in ("a", "b", "a"):
            await self.run_sql("INSERT INTO later_things (app, x) VALUES (?, 1)", app)
        await self.store.forget_app("a")
        self.assertEqual(await self.run_sql("SELECT app FROM later_things"), [("b",)])

    async def test_rows_that_would_dangle_fail_the_forgetting(self):
        """A table without an app column whose rows point at the app's rows: nothing is
        forgotten (a bug: logged), rather than rows left pointing at nothing."""
        marks = await self.fill("a")
        await self.run_sql("CREATE TABLE group_notes (app_of TEXT, gid INTEGER, note TEXT,"
                           " FOREIGN KEY (app_of, gid) REFERENCES groups (app, gid))")
        await self.run_sql("INSERT INTO group_notes VALUES ('a', ?, 'hi')", marks["gid"])
        before = await self.snapshot("a", marks)
        await self.refused(self.store.forget_app("a"), errors.SERVER_ERROR)
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)
        self.assertEqual(await self.snapshot("a", marks), before)
        await self.run_sql("DELETE FROM group_notes")
        await self.store.forget_app("a")
        self.assertIsNone(await self.store.apps.get_app("a"))

    async def test_no_id_is_given_again_after_a_restart(self):
        """The forgotten app held the newest ids of the sequence: a start with no ids to skip
        still gives higher ones."""
        await self.store.stop()
        self.store = SqliteStore(self.store.path, reactor, metrics=Metrics(), early_ids=0)
        await self.store.start()
        self.addCleanup(self.store.stop)
        await self.fill("b")
        marks = await self.fill("a")
        kept = await self.store.events.add_event(Event(model.MEMBERS_ADDED, "a"), ["ann"])
        newest = max(marks["ids"] + [kept.id])
        await self.store.forget_app("a")
        for restart in range(2):
            await self.store.stop()
            self.store = SqliteStore(self.store.path, reactor, metrics=Metrics(), early_ids=0)
            await self.store.start()
            self.addCleanup(self.store.stop)
            self.assertGreaterEqual(await self.store.inbox.last_message_id("b"), newest)
            message = await self.store.messages.add_message(chat("b", "ann", "bob", "next"))
            self.assertGreater(message.id, newest)
            newest = message.id
            self.assertEqual(
                [m.body["text"] for m in await self.store.inbox.read("b", "ann", [], Cursor())],
                ["hi", "next"] + ["next"] * restart)


class SqliteIndexTailForgetAppTests(ForgetAppContract, OnSqliteIndexTail, unittest.TestCase):
    pass


class RedisForgetAppTests(ForgetAppContract, OnRedis, unittest.TestCase):
    async def test_every_key_of_the_app_goes_however_many(self):
        client = self.store.client
        await self.fill("a")
        await self.fill("a*")
        # keys no area names (an old jim's offline marks, a later area's), and many of them
        await client.call("SADD", key("a", "offline", "ann"), "1")
        for start in range(0, 2 * SCAN_COUNT + 500, 500):
            await client.call("MSET", *[text for n in range(start, start + 500)
                                        for text in (key("a", "later", str(n)), "x")])
        others = sorted(await client.call("KEYS", app_keys_pattern("a*")))
        self.assertGreater(len(others), 10)
        await self.store.forget_app("a")
        self.assertEqual(await client.call("KEYS", app_keys_pattern("a")), [])
        self.assertEqual(await client.call("EXISTS", key(None, "app", "a")), 0)
        self.assertIsNone(await client.call("ZSCORE", key(None, "apps"), "a"))
        self.assertEqual(sorted(await client.call("KEYS", app_keys_pattern("a*"))), others)
        self.assertEqual(await client.call("EXISTS", key(None, "app", "a*")), 1)

    async def test_an_area_with_a_forget_app_forgets_what_is_not_under_the_tag(self):
        """An area that keeps the app in a key of every app's is called once the app's keys
        are gone, before its record goes."""
        client, seen = self.store.client, []

        class Area:
            async def forget_app(self, app):
                seen.append((app, await client.call("KEYS", app_keys_pattern(app)),
                             await client.call("EXISTS", key(None, "app", app))))

        self.store.later_area = Area()
        await self.fill("a")
        await self.store.forget_app("a")
        self.assertEqual(seen, [("a", [], 1)])
        self.assertIsNone(await self.store.apps.get_app("a"))

    def test_the_pattern_escapes_what_globs_read(self):
        self.assertEqual(app_keys_pattern("a"), "jim:{a}:*")
        self.assertEqual(app_keys_pattern("a*?[x]\\"), "jim:{a\\*\\?\\[x\\]\\\\}:*")
        self.assertEqual(app_keys_pattern("{a}%"), "jim:{%7Ba%7D%25}:*")


def outcome(pending):
    """C{pending}, firing with the code of the JimError it fails with, if it does."""
    return pending.addErrback(lambda failure: failure.trap(errors.JimError) and
                              failure.value.code)
