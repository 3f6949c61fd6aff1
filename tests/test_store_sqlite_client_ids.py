"""The client ids an SQLite file holds, read into memory when the store opens
(L{jim.store.sqlite_client_ids}): a reopened store says "maybe" for every id it holds and
"no" for others, and the slices of the read cover the whole index."""
import sqlite3

from twisted.internet import defer, reactor
from twisted.trial import unittest

from jim import model
from jim.store import migrations
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
