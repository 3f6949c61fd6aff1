"""The client ids an SQLite file holds, read into memory when the store opens
(L{jim.store.sqlite_client_ids}): a reopened store says "maybe" for every id it holds and
"no" for others, the slices of the read cover the whole index, and a read that fails costs
reads, never a resend taken for a new message."""
import sqlite3

from twisted.internet import defer, reactor
from twisted.logger import globalLogPublisher
from twisted.trial import unittest

from jim import model
from jim.store import migrations
from jim.store import sqlite as sqlite_store
from jim.store.client_ids import Bits
from jim.store.sqlite import SqliteStore
from jim.store.sqlite_client_ids import add_client_ids
from tests.support.waiting import until


def chat(sender, target, client_id):
    return model.Message(0, "app", sender, model.SINGLE, target, model.TEXT, {"text": "hi"},
                         None, client_id, 0)


class ReopenedStoreTests(unittest.TestCase):
    @defer.inlineCallbacks
    def test_a_reopened_store_knows_its_client_ids(self):
        path = self.mktemp() + "/jim.db"
        store = SqliteStore(path, reactor)
        yield store.start()
        for n in range(30):
            yield store.messages.add_message(chat(f"u{n % 3}", "bob", f"c{n}"))
        yield store.messages.add_message(chat("u0", "bob", 77))
        yield store.stop()

        store = SqliteStore(path, reactor)
        yield store.start()
        self.addCleanup(store.stop)
        may_hold = store.messages.may_hold_client_id
        yield defer.ensureDeferred(until(lambda: not may_hold("app", "u0", "never sent")))
        for n in range(30):
            self.assertTrue(may_hold("app", f"u{n % 3}", f"c{n}"))
        self.assertTrue(may_hold("app", "u0", 77))
        misses = [may_hold("app", "u1", f"other{n}") for n in range(200)]
        self.assertLess(sum(misses), 3, "a filter this empty says no to nearly all")
        self.assertFalse(may_hold("app", "u0", "77"), "a text is not the int")
        yield store.messages.add_message(chat("u1", "bob", "new"))
        self.assertTrue(may_hold("app", "u1", "new"))


class GrowingStoreTests(unittest.TestCase):
    @defer.inlineCallbacks
    def test_a_full_filter_is_read_again_bigger(self):
        """A store whose filter passes its capacity reads its client ids again into a bigger
        one: "no" becomes right again for nearly every id never sent, and no id sent, before,
        during or after that read, is ever a "no"."""
        path = self.mktemp() + "/jim.db"
        store = SqliteStore(path, reactor, client_ids=16)  # room for 25 keys at the start
        yield store.start()
        self.addCleanup(store.stop)
        may_hold = store.messages.may_hold_client_id
        yield defer.ensureDeferred(until(lambda: not may_hold("app", "u0", "never sent")))
        # 600 keys in the 256 bits of the smallest filter: it says "maybe" to most ids
        yield defer.gatherResults([store.messages.add_message(chat(f"u{n % 5}", "bob", f"c{n}"))
                                   for n in range(600)])
        for n in range(600, 650):  # while it is read again: these are kept meanwhile
            store.messages.add_message(chat(f"u{n % 5}", "bob", f"c{n}"))

        def wrong():
            return sum(may_hold("app", "u1", f"other{n}") for n in range(1000))

        yield defer.ensureDeferred(until(lambda: wrong() < 50))
        yield store.messages.add_message(chat("u1", "bob", "after"))
        for n in range(650):
            self.assertTrue(may_hold("app", f"u{n % 5}", f"c{n}"), n)
        self.assertTrue(may_hold("app", "u1", "after"))


class FailedReadTests(unittest.TestCase):
    """The client ids cannot be read (the file fails under the reader): the store goes on,
    says so in its log, and its filter never answers "no" for an id it may hold."""

    def setUp(self):
        self.events = []
        globalLogPublisher.addObserver(self.events.append)
        self.addCleanup(globalLogPublisher.removeObserver, self.events.append)

    def failing_reads(self, after=0):
        """Reads of the client ids fail, but for the first C{after}."""
        real, calls = sqlite_store.load_client_ids, []

        async def load(*args):
            calls.append(args)
            if len(calls) <= after:
                return await real(*args)
            raise sqlite3.OperationalError("disk I/O error")

        self.patch(sqlite_store, "load_client_ids", load)
        return calls

    def logged_whats(self):
        return [event["what"] for event in self.events
                if event.get("log_format", "").startswith("could not read the client ids")]

    @defer.inlineCallbacks
    def test_a_failed_first_read_leaves_every_chat_checked_in_the_store(self):
        calls = self.failing_reads()
        store = SqliteStore(self.mktemp() + "/jim.db", reactor)
        yield store.start()
        self.addCleanup(store.stop)
        yield defer.ensureDeferred(until(lambda: self.logged_whats()))
        self.assertEqual(len(calls), 1)
        self.assertEqual(len(self.flushLoggedErrors(sqlite3.OperationalError)), 1)
        self.assertEqual(self.logged_whats(),
                         ["a chat with a client id reads the store to check it"])
        may_hold = store.messages.may_hold_client_id
        self.assertTrue(all(may_hold("app", "u0", f"never sent {n}") for n in range(50)))
        stored = yield store.messages.add_message(chat("u0", "bob", "c1"))
        found = yield store.messages.message_by_client_id("app", "u0", "c1", model.SINGLE,
                                                          "bob")
        self.assertEqual(found, stored)
        self.assertTrue(may_hold("app", "u0", "c1"))

    @defer.inlineCallbacks
    def test_a_failed_growth_keeps_the_full_filter_and_asks_again_later(self):
        calls = self.failing_reads(after=1)
        store = SqliteStore(self.mktemp() + "/jim.db", reactor, client_ids=16)
        yield store.start()
        self.addCleanup(store.stop)
        may_hold = store.messages.may_hold_client_id
        yield defer.ensureDeferred(until(lambda: not may_hold("app", "u0", "never sent")))
        yield defer.gatherResults([store.messages.add_message(chat(f"u{n % 5}", "bob", f"c{n}"))
                                   for n in range(40)])  # past the 25 keys it has room for
        yield defer.ensureDeferred(until(lambda: self.logged_whats()))
        self.assertEqual(len(calls), 2)
        self.assertEqual(len(self.flushLoggedErrors(sqlite3.OperationalError)), 1)
        self.assertEqual(self.logged_whats(), ["the full filter goes on, with more reads"])
        for n in range(40):
            self.assertTrue(may_hold("app", f"u{n % 5}", f"c{n}"), n)
        # it asks again only once it holds twice as many keys as when the read failed
        yield defer.gatherResults([store.messages.add_message(chat("u1", "bob", f"d{n}"))
                                   for n in range(30)])
        self.assertEqual(len(calls), 2)
        yield defer.gatherResults([store.messages.add_message(chat("u1", "bob", f"e{n}"))
                                   for n in range(20)])
        yield defer.ensureDeferred(until(lambda: len(calls) == 3))
        yield defer.ensureDeferred(until(lambda: len(self.logged_whats()) == 2))
        self.assertEqual(len(self.flushLoggedErrors(sqlite3.OperationalError)), 1)
        for n in range(30):
            self.assertTrue(may_hold("app", "u1", f"d{n}"), n)


class SliceTests(unittest.TestCase):
    def test_slices_cover_the_index_whatever_their_size(self):
        db = sqlite3.connect(":memory:", isolation_level=None)
        migrations.migrate(db)
        db.execute("INSERT INTO conversations (app, key) VALUES ('a', 'k')")
        keys = [("a", "ann", "x"), ("a", "ann", "x"), ("a", "ann", 3), ("a", "bob", "x"),
                ("b", "ann", "x"), ("a", "ann", "y"), ("a", "é", 10**12)]
        for n, (app, sender, client_id) in enumerate(keys, 1):
            db.execute("INSERT INTO messages (id, app, sender, target_type, target, msg_type,"
                       " body, client_id, created, conv) VALUES (?, ?, ?, 'single', 't',"
                       " 'text', 'hi', ?, 0, 1)", (n, app, sender, client_id))
        db.execute("INSERT INTO messages (id, app, sender, target_type, target, msg_type, body,"
                   " created, conv) VALUES (99, 'a', 'zed', 'single', 't', 'text', 'hi', 0, 1)")
        for size in (1, 2, 3, 100):
            bits, after, more, reads = Bits(1 << 12), None, True, 0
            while more:
                after, more = add_client_ids(db, bits, after, size)
                reads += 1
            for key in keys:
                self.assertTrue(bits.may_hold(key), (size, key))
            self.assertFalse(bits.may_hold(("a", "zed", None)), "no client id, no key")
            self.assertLessEqual(reads, len(set(keys)) // size + 2)
