"""What only the SQLite store promises: group commit, durability, restart, orderly stop.

The contract itself (shared with every store) is in tests/store_contract/.
"""
import os
import sqlite3
import sys

import attr
from twisted.internet import defer, protocol, reactor
from twisted.internet.task import deferLater
from twisted.internet.testing import EventLoggingObserver
from twisted.logger import Logger, LogLevel, formatEvent, globalLogPublisher
from twisted.python.failure import Failure
from twisted.trial import unittest

from jim import errors, model
from jim.cursors import Cursor
from jim.errors import JimError
from jim.metrics import Metrics
from jim.model import GROUP, OWNER, SINGLE, TEXT, Event, Group, Member, Message, User
from jim.store import sqlite as sqlite_module
from jim.store import sqlite_history_queries, with_id
from jim.store import sqlite_message_queries as q
from jim.store.migrations import bundled_migrations
from jim.store.sqlite import SqliteStore
from jim.store.sqlite_batch import BatchWriter, batch_end
from jim.store.sqlite_message_queries import MESSAGE_COLUMNS, ROWS_PER_INSERT
from tests.support.fakes import with_reserved_id

HERE = os.path.dirname(os.path.abspath(__file__))
CRASH_WRITER = os.path.join(HERE, "support", "crash_writer.py")


def chat(sender, target, text="hi", client_id=None):
    return Message(0, "a", sender, SINGLE, target, TEXT, {"text": text}, None, client_id, 0)


def texts(messages):
    return [message.body["text"] for message in messages]


class _FailingCommitStore(SqliteStore):
    """Its next COMMIT fails, as a full disk or an I/O error would make it."""

    fail_next_commit = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        store = self
        self.logged = []  # its log events
        self.log = Logger(observer=self.logged.append)

        class FailingBatchWriter(BatchWriter):
            def commit(self):
                store._maybe_fail()
                super().commit()

            def commit_alone(self, sql, values):
                store._maybe_fail()
                super().commit_alone(sql, values)

        self.batch_writer_class = FailingBatchWriter

    def _maybe_fail(self):
        if self.fail_next_commit:
            self.fail_next_commit = False
            raise sqlite3.OperationalError("disk I/O error (simulated)")

    def warnings(self):
        """The texts of the warnings it logged."""
        return [formatEvent(e) for e in self.logged if e["log_level"] == LogLevel.warn]


class SqliteStoreTests(unittest.TestCase):
    def setUp(self):
        self.path = os.path.join(self.mktemp(), "nested", "jim.db")
        self.metrics = Metrics()

    async def open(self, store_class=SqliteStore, **kwargs):
        store = store_class(self.path, reactor, metrics=self.metrics, **kwargs)
        await store.start()
        self.addCleanup(store.stop)
        return store

    async def test_one_turn_is_one_commit(self):
        store = await self.open()
        writes = [store.users.add_user(User("a", f"u{i}", "h")) for i in range(100)]
        writes += [store.messages.add_message(chat("u1", "u2")) for _ in range(50)]
        await defer.gatherResults(writes)
        self.assertEqual((self.metrics.commit_count, self.metrics.commit_rows), (1, 150))
        self.assertEqual(len(await store.messages.private_history("a", "u2", "u1")), 50)

    async def test_batches_are_capped_and_commit_in_order(self):
        store = await self.open(max_batch=10)
        fired = []
        writes = [store.messages.add_message(chat("ann", "bob", str(i))).addCallback(fired.append)
                  for i in range(25)]
        await defer.gatherResults(writes)
        self.assertEqual((self.metrics.commit_count, self.metrics.commit_rows), (3, 25))
        self.assertEqual(texts(fired), [str(i) for i in range(25)])
        ids = [m.id for m in fired]
        self.assertEqual(ids, sorted(ids))

    async def test_a_runs_messages_count_toward_the_batch_cap(self):
        store = await self.open(max_batch=10)
        await store.messages.add_message(chat("ann", "bob", "first"))  # ids are reserved now
        runs = [[with_reserved_id(store.messages, chat("ann", "bob", f"{r}.{i}"))
                 for i in range(4)] for r in range(4)]
        answered = []
        done = [defer.Deferred() for _ in runs]
        for run, d in zip(runs, done):
            store.messages.append_run_then(run, lambda results, d: (answered.extend(results),
                                                                    d.callback(None)), d)
        await defer.gatherResults(done)
        # 16 messages in runs of 4: two runs (8 rows) a batch, then the third would pass 10
        self.assertEqual((self.metrics.commit_count, self.metrics.commit_rows), (1 + 2, 1 + 16))
        self.assertEqual(answered, [m for run in runs for m in run])

    def test_what_a_batch_takes_of_runs_and_single_writes(self):
        def run(n):
            return (q.insert_message_run, (None, [None] * n))

        single = (q.insert_message, (None, None))
        pending = [single, run(4), single, run(4), single]
        self.assertEqual(batch_end(pending, 5), (2, 5))
        self.assertEqual(batch_end(pending, 6), (3, 6))
        self.assertEqual(batch_end(pending, 100), (5, 11))
        self.assertEqual(batch_end([run(9), single], 5), (1, 9))  # at least one job
        self.assertEqual(batch_end([single, single, single], 2), (2, 2))

    async def test_the_next_batch_commits_while_the_last_ones_callers_are_answered(self):
        # (when the commit gap is over, as it is at once without one: test_store_sqlite_timing)
        store = await self.open(max_batch=3, commit_gap=0)
        seen = []

        def answered(stored):
            # what the writer is doing while the store answers this caller
            seen.append((stored.body["text"], store._in_flight, len(store._pending)))

        writes = [store.messages.add_message(chat("ann", "bob", str(i))).addCallback(answered)
                  for i in range(7)]
        await defer.gatherResults(writes)
        self.assertEqual([text for text, _, _ in seen], [str(i) for i in range(7)])
        # batches of 3, 3 and 1: while the first two batches' callers ran, the next batch
        # was already handed to the writer; nothing was left after the last one
        self.assertEqual([(busy, left) for _, busy, left in seen],
                         [(True, 1)] * 3 + [(True, 0)] * 3 + [(False, 0)])
        self.assertEqual((self.metrics.commit_count, self.metrics.commit_rows), (3, 7))
        await store.stop()  # and stopping still waits for an idle writer, then closes
        self.assertEqual(store._state, "stopped")

    async def test_a_batch_the_writer_refuses_at_once_is_answered_after_the_last_one(self):
        store = await self.open(max_batch=2, checkpoint_every=3600)
        real_submit = store._writer.submit
        submitted = []

        def submit(function, *args):  # the first batch commits, the next is refused at once
            submitted.append(function)
            if len(submitted) == 1:
                return real_submit(function, *args)
            return defer.fail(JimError(errors.SERVER_ERROR, "the writer has stopped (simulated)"))

        store._writer.submit = submit
        self.addCleanup(setattr, store._writer, "submit", real_submit)
        answered = []
        writes = [
            store.messages.add_message(chat("ann", "bob", str(i))).addBoth(
                lambda result, i=i: answered.append((i, not isinstance(result, Failure)))
            )
            for i in range(4)
        ]
        await defer.DeferredList(writes)
        self.assertEqual(answered, [(0, True), (1, True), (2, False), (3, False)])
        self.assertEqual(len(self.flushLoggedErrors(JimError)), 1)
        self.assertFalse(store._in_flight)

    async def test_a_batch_longer_than_one_insert_statement(self):
        store = await self.open()
        n = 2 * ROWS_PER_INSERT + 3  # three INSERTs in one commit
        writes = [store.messages.add_message(chat("ann", "bob", str(i))) for i in range(n)]
        stored = await defer.gatherResults(writes)
        self.assertEqual((self.metrics.commit_count, self.metrics.commit_rows), (1, n))
        history = await store.messages.private_history("a", "ann", "bob", count=n)
        self.assertEqual(texts(history), [str(i) for i in range(n)])
        self.assertEqual([m.id for m in history], [m.id for m in stored])

    async def trace_writer(self, store):
        """The statements the writer connection runs from now on."""
        statements = []
        await store._writer.submit(store._write_db.set_trace_callback, statements.append)
        return statements

    async def test_appends_to_known_conversations_commit_as_one_statement(self):
        store = await self.open(checkpoint_every=3600)
        # the conversation gets its id
        await store.messages.add_message(chat("ann", "bob", "first"))
        statements = await self.trace_writer(store)
        stored = await defer.gatherResults(
            [store.messages.add_message(chat("bob", "ann", str(i))) for i in range(5)]
        )
        self.assertEqual(len(statements), 1, statements)
        self.assertTrue(statements[0].startswith("INSERT INTO messages"), statements[0])
        # no BEGIN...COMMIT around it, yet committed: another connection sees every row
        outsider = sqlite3.connect(self.path)
        self.addCleanup(outsider.close)
        rows = outsider.execute("SELECT id, body FROM messages WHERE id >= ? ORDER BY id",
                                (stored[0].id,)).fetchall()
        self.assertEqual(rows, [(m.id, m.body["text"]) for m in stored])  # a plain text, as is
        # a new conversation takes the transaction
        del statements[:]
        await defer.gatherResults([
            store.messages.add_message(chat("cid", "dan")),
            store.messages.add_message(chat("ann", "bob")),
        ])
        self.assertEqual(statements[0], "BEGIN IMMEDIATE")
        self.assertEqual(statements[-1], "COMMIT")

    async def test_a_failing_single_statement_batch_finds_its_culprit(self):
        store = await self.open(checkpoint_every=3600)
        taken = await store.messages.add_message(chat("ann", "bob", "first"))
        statements = await self.trace_writer(store)
        store._next_id = taken.id  # the next append reuses an id: its INSERT must fail
        results = await defer.DeferredList(
            [store.messages.add_message(chat("ann", "bob", text))
             for text in ("clash", "ok 1", "ok 2")],
            consumeErrors=True,
        )
        # the lone INSERT was tried first, then the batch was redone in a transaction, one
        # message at a time (not together again: that would only be refused again)
        self.assertTrue(statements[0].startswith("INSERT INTO messages"), statements)
        self.assertEqual(statements[1], "BEGIN IMMEDIATE")
        inserts = [st for st in statements if st.startswith("INSERT INTO messages")]
        self.assertEqual(len(inserts), 1 + 3, statements)
        self.assertEqual([ok for ok, _ in results], [False, True, True])
        self.assertEqual(results[0][1].value.code, errors.SERVER_ERROR)
        self.assertEqual(len(self.flushLoggedErrors(sqlite3.IntegrityError)), 1)
        history = await store.messages.private_history("a", "ann", "bob")
        self.assertEqual(texts(history), ["first", "ok 1", "ok 2"])

    async def run_of(self, store, texts_or_bodies):
        """Append a run (ids reserved, as the core's send_run_then does): its one answer."""
        await store.messages.add_message(chat("ann", "bob", "first"))  # ids are reserved now
        run = [with_reserved_id(store.messages, chat("ann", "bob", text))
               for text in texts_or_bodies]
        answers = []
        done = defer.Deferred()
        store.messages.append_run_then(run, lambda results, tag: (answers.append((results, tag)),
                                                                   done.callback(None)), "t")
        return run, answers, done

    async def test_a_run_with_a_refused_row_keeps_the_others(self):
        store = await self.open(checkpoint_every=3600)
        run, answers, done = await self.run_of(store, ["ok 1", object(), "ok 2"])
        await done
        [(results, tag)] = answers
        self.assertEqual(tag, "t")
        self.assertEqual(results[0], run[0])
        self.assertEqual(results[1].value.code, errors.SERVER_ERROR)
        self.assertEqual(results[2], run[2])
        self.assertEqual(len(self.flushLoggedErrors(TypeError)), 1)
        history = await store.messages.private_history("a", "ann", "bob")
        self.assertEqual(texts(history), ["first", "ok 1", "ok 2"])

    async def test_a_run_beside_other_writes_commits_with_them(self):
        store = await self.open(checkpoint_every=3600)
        run, answers, done = await self.run_of(store, ["r1", "r2"])
        user = store.users.add_user(User("a", "cid", "h"))  # the same batch, another job
        lone = with_reserved_id(store.messages, chat("ann", "bob", "lone"))
        lone_done = defer.Deferred()
        store.messages.append_message_then(lone, lone_done.callback)
        await done
        await user
        self.assertEqual(await lone_done, lone)
        self.assertEqual(answers, [(run, "t")])
        self.assertEqual(self.metrics.commit_count, 2)  # the first message's, then the rest's
        history = await store.messages.private_history("a", "ann", "bob")
        self.assertEqual(texts(history), ["first", "r1", "r2", "lone"])

    async def test_a_run_in_a_failed_commit_fails_each_message(self):
        store = await self.open(_FailingCommitStore)
        run, answers, done = await self.run_of(store, ["r1", "r2"])
        store.fail_next_commit = True
        await done
        [(results, _)] = answers
        self.assertEqual([r.value.code for r in results], [errors.SERVER_ERROR] * 2)
        self.assertEqual(texts(await store.messages.private_history("a", "ann", "bob")),
                         ["first"])

    def indexed_upto(self):
        with sqlite3.connect(self.path) as db:
            (upto,) = db.execute("SELECT indexed_upto FROM conversation_index_state").fetchone()
        db.close()
        return upto

    async def test_conversation_index_catches_up_in_batches(self):
        store = await self.open(index_every=5, checkpoint_every=3600)
        sent = []
        for i in range(7):  # one commit each: the index job follows the fifth
            sent.append(await store.messages.add_message(chat("ann", "bob", str(i))))
        self.assertEqual(self.indexed_upto(), sent[4].id)
        history = await store.messages.private_history("a", "bob", "ann")
        self.assertEqual(history, sent)  # five from the index, two from the tail
        self.assertEqual(await store.messages.private_history("a", "ann", "bob", count=3), sent[4:])
        self.assertEqual(await store.messages.private_history("a", "ann", "bob", offset=4, count=2),
                         sent[4:6])
        await store.stop()

        # reopened, the tail is still found, and the next checkpoint indexes it
        again = await self.open(index_every=5, checkpoint_every=0.05)
        self.assertEqual(await again.messages.private_history("a", "ann", "bob"), sent)
        for _ in range(100):
            if self.indexed_upto() == sent[6].id:
                break
            await deferLater(reactor, 0.02, lambda: None)
        self.assertEqual(self.indexed_upto(), sent[6].id)
        self.assertEqual(await again.messages.private_history("a", "ann", "bob"), sent)

    async def test_a_caller_that_raises_does_not_keep_others_from_their_answers(self):
        store = await self.open()

        def broken(result):
            raise RuntimeError("a bug in a caller")

        third = defer.Deferred()
        store.messages.add_message_then(chat("ann", "bob", "first"), broken)
        kept = store.messages.add_message(chat("ann", "bob", "second"))
        store.messages.add_message_then(chat("ann", "bob", "third"), third.callback)
        self.assertEqual((await kept).body["text"], "second")
        self.assertEqual((await third).body["text"], "third")
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)
        self.assertEqual(self.metrics.commit_count, 1)

    async def test_a_failed_index_update_loses_nothing(self):
        def broken(db):
            raise sqlite3.OperationalError("disk I/O error")

        self.patch(sqlite_history_queries, "index_conversations", broken)
        store = await self.open(index_every=2, checkpoint_every=3600)
        sent = [await store.messages.add_message(chat("ann", "bob", str(i))) for i in range(5)]
        self.assertEqual(self.indexed_upto(), 0)  # every update failed...
        # ...all found
        self.assertEqual(await store.messages.private_history("a", "ann", "bob"), sent)
        self.assertGreaterEqual(len(self.flushLoggedErrors(sqlite3.OperationalError)), 2)

    async def test_a_read_its_caller_cancels_is_no_error(self):
        """A caller that gives up a read (a service stopping) gets CancelledError, and the
        store logs no failure for it (a logged failure would be a bug's)."""
        store = await self.open()
        read = store.callbacks.batch("app", 10)
        read.cancel()
        with self.assertRaises(defer.CancelledError):
            await read
        self.assertEqual(self.flushLoggedErrors(), [])
        self.assertEqual(await store.callbacks.batch("app", 10), [])

    async def test_failing_write_fails_alone(self):
        store = await self.open()
        await store.users.add_user(User("a", "ann", "first"))
        results = await defer.DeferredList([
            store.users.add_user(User("a", "bob", "h")),
            store.users.add_user(User("a", "ann", "second")),
            store.groups.add_members("a", 404, [Member("bob")]),
            store.users.add_user(User("a", "cid", "h")),
        ], consumeErrors=True)
        self.assertEqual([ok for ok, _ in results], [True, False, False, True])
        self.assertEqual(results[1][1].value.code, errors.USER_EXISTS)
        self.assertEqual(results[2][1].value.code, errors.NO_SUCH_GROUP)
        self.assertEqual(self.metrics.commit_count, 2)
        found = await store.users.get_users("a", ["ann", "bob", "cid"])
        self.assertEqual(sorted((u.username, u.password) for u in found),
                         [("ann", "first"), ("bob", "h"), ("cid", "h")])

    async def test_half_done_write_is_undone(self):
        store = await self.open()
        # The message's new conversation goes in (its row and its participants'), then its
        # body cannot be stored: the job's savepoint must take the conversation back out while
        # its neighbours commit.
        results = await defer.DeferredList([
            store.messages.add_message(chat("ann", "bob", "kept")),
            store.messages.add_message(chat("ann", "zed", object())),
            store.messages.add_message(chat("ann", "bob", "kept too")),
        ], consumeErrors=True)
        self.assertEqual([ok for ok, _ in results], [True, False, True])
        self.assertEqual(results[1][1].value.code, errors.SERVER_ERROR)
        self.assertEqual(len(self.flushLoggedErrors(TypeError)), 1)
        history = await store.messages.private_history("a", "ann", "bob")
        self.assertEqual(texts(history), ["kept", "kept too"])
        self.assertEqual(self.metrics.commit_count, 1)
        outsider = sqlite3.connect(self.path)
        self.addCleanup(outsider.close)
        self.assertEqual(outsider.execute("SELECT count(*) FROM private_conversations"
                                          " WHERE username = 'zed'").fetchone(), (0,))
        # the conversation is made again, whole, by the next message
        later = await store.messages.add_message(chat("ann", "zed", "later"))
        self.assertEqual(await store.inbox.read("a", "zed", (), Cursor()), [later])

    async def test_a_write_of_several_rows_is_one_job(self):
        store = await self.open()
        made = await store.groups.create_group(Group("a", 5, owner="ann"),
                                               [Member("ann", OWNER), Member("bob")])
        message = await store.messages.add_message(chat("ann", "bob"))
        self.assertEqual((self.metrics.commit_count, self.metrics.commit_rows), (2, 2))
        # one job each, so one savepoint: a failure half way undoes the whole write
        results = await defer.DeferredList([
            store.groups.create_group(Group("a", 6), [Member("cid"), Member({"not": "a name"})]),
            store.groups.set_owner("a", 5, "bob"),
            store.messages.retract_message("a", message.id),
            store.groups.delete_group("a", 5),
        ], consumeErrors=True)
        self.assertEqual([ok for ok, _ in results], [False, True, True, True])
        self.assertEqual(results[0][1].value.code, errors.SERVER_ERROR)
        self.assertEqual(len(self.flushLoggedErrors(sqlite3.Error)), 1)
        self.assertEqual((self.metrics.commit_count, self.metrics.commit_rows), (3, 6))
        self.assertEqual(results[1][1], attr.evolve(made, owner="bob"))
        self.assertIsNone(await store.groups.get_group("a", 6))  # not the group...
        self.assertEqual(await store.groups.user_groups("a", "cid"), [])  # ...nor its members
        self.assertIsNone(await store.groups.get_group("a", 5))
        self.assertEqual(await store.groups.members("a", 5), [])
        self.assertEqual(await store.messages.private_history("a", "ann", "bob"), [])

    async def test_failed_commit_fails_every_write_of_the_batch(self):
        store = await self.open(_FailingCommitStore)
        store.fail_next_commit = True
        results = await defer.DeferredList(
            [store.users.add_user(User("a", "ann", "h")),
             store.messages.add_message(chat("ann", "bob"))],
            consumeErrors=True,
        )
        self.assertEqual([ok for ok, _ in results], [False, False])
        for _, failure in results:
            self.assertEqual(failure.value.code, errors.SERVER_ERROR)
        self.assertEqual(self.flushLoggedErrors(), [])  # a refusal, not a bug:
        self.assertIn("disk I/O error (simulated)", " ".join(store.warnings()))
        self.assertIsNone(await store.users.get_user("a", "ann"))
        await store.users.add_user(User("a", "ann", "h"))
        self.assertIsNotNone(await store.users.get_user("a", "ann"))

    async def test_a_failed_single_statement_commit_fails_the_batch(self):
        store = await self.open(_FailingCommitStore, checkpoint_every=3600)
        await store.messages.add_message(chat("ann", "bob", "first"))  # a known conversation
        statements = await self.trace_writer(store)
        store.fail_next_commit = True
        results = await defer.DeferredList(
            [store.messages.add_message(chat("ann", "bob", text)) for text in ("lost 1", "lost 2")],
            consumeErrors=True,
        )
        self.assertEqual([ok for ok, _ in results], [False, False])
        for _, failure in results:
            self.assertEqual(failure.value.code, errors.SERVER_ERROR)
        self.assertEqual(self.flushLoggedErrors(), [])  # a refusal, not a bug:
        self.assertIn("disk I/O error (simulated)", " ".join(store.warnings()))
        self.assertEqual(statements, [])  # failed like a COMMIT: not retried statement by statement
        await store.messages.add_message(chat("ann", "bob", "after"))
        history = await store.messages.private_history("a", "ann", "bob")
        self.assertEqual(texts(history), ["first", "after"])

    async def test_conversations_made_by_a_failed_commit_are_forgotten(self):
        store = await self.open(_FailingCommitStore)
        store.fail_next_commit = True
        with self.assertRaises(JimError):
            await store.messages.add_message(chat("ann", "bob", "lost"))
        self.assertEqual(self.flushLoggedErrors(), [])  # a refusal, not a bug:
        self.assertIn("disk I/O error (simulated)", " ".join(store.warnings()))
        # the undone conversation's id is free again: another conversation takes it...
        await store.messages.add_message(chat("cid", "dan", "for dan"))
        await store.messages.add_message(chat("ann", "bob", "for bob"))
        # ...and ann and bob get a conversation of their own, not a stale cached id
        self.assertEqual(texts(await store.messages.private_history("a", "cid", "dan")),
                         ["for dan"])
        self.assertEqual(texts(await store.messages.private_history("a", "ann", "bob")),
                         ["for bob"])

    async def test_acknowledged_means_committed(self):
        store = await self.open()
        stored = await store.messages.add_message(chat("ann", "bob", "durable"))
        # Another connection, as a new process after a crash would open: the row is there.
        outsider = sqlite3.connect(self.path)
        self.addCleanup(outsider.close)
        row = outsider.execute("SELECT body FROM messages WHERE id = ?", (stored.id,))
        self.assertEqual(row.fetchall(), [('durable',)])
        self.assertEqual(outsider.execute("PRAGMA journal_mode").fetchone(), ("wal",))

    async def test_restart_keeps_data_and_continues_ids(self):
        store = await self.open()
        group = await store.groups.create_group(Group("a", 0, "Friends"), [Member("ann")])
        last = (await defer.gatherResults([store.messages.add_message(chat("ann", "bob")),
                                           store.messages.add_message(chat("ann", "bob"))]))[-1]
        await store.stop()
        again = await self.open()
        self.assertEqual(await again.groups.get_group("a", group.gid), group)
        self.assertEqual(await again.groups.members("a", group.gid), [Member("ann")])
        following = await again.messages.add_message(chat("bob", "ann"))
        # a start skips the ids reserve_id could have handed out before a crash
        self.assertEqual(following.id, last.id + 1 + sqlite_module.EARLY_IDS)

    async def test_a_restart_continues_ids_after_the_newest_event(self):
        store = await self.open()
        await store.messages.add_message(chat("ann", "bob"))
        kept = await store.events.add_event(Event(model.GROUP_UPDATED, "a", gid=1), ["ann"])
        await store.stop()
        again = await self.open()
        following = await again.messages.add_message(chat("bob", "ann"))
        self.assertEqual(following.id, kept.id + 1 + sqlite_module.EARLY_IDS)
        self.assertEqual(await again.events.read_events("a", "ann", Cursor()), [kept])

    async def test_an_event_settles_the_ids_before_it(self):
        store = await self.open(early_ids=3)
        await store.messages.add_message(chat("ann", "bob", "before"))
        first = with_reserved_id(store.messages, chat("ann", "bob", "0"))
        store.messages.append_message_then(first, lambda _: None)
        await store.events.add_event(Event(model.GROUP_UPDATED, "a", gid=1), ["ann"])
        # the event's commit settles the ids up to it: three may be prepared again
        prepared = [with_reserved_id(store.messages, chat("ann", "bob")) for _ in range(3)]
        self.assertNotIn(None, prepared)

    async def test_a_message_stored_once_settles_the_ids_before_it(self):
        store = await self.open(early_ids=3)
        for n in range(5):  # more than early_ids of them, each committed
            d = defer.Deferred()
            store.messages.add_message_once_then(chat("ann", "bob", str(n))._replace(
                client_id=f"c{n}"), d.callback)
            await d
        # a resend finds the first and writes nothing: the id it took is not in the file
        d = defer.Deferred()
        store.messages.add_message_once_then(chat("ann", "bob", "0")._replace(client_id="c0"),
                                             d.callback)
        self.assertIsInstance(await d, model.Resent)
        # the fifth settled the ids up to it; the resend's unused one waits among the three
        prepared = [with_reserved_id(store.messages, chat("ann", "bob")) for _ in range(3)]
        self.assertEqual([m is None for m in prepared], [False, False, True])

    async def test_prepared_ids_run_ahead_of_the_commits_by_at_most_early_ids(self):
        store = await self.open(early_ids=3)
        # A start skips 3 ids past the newest in the file: until one of those is committed,
        # any prepared id could be one a crash before the start left unfinished.
        self.assertIsNone(with_reserved_id(store.messages, chat("ann", "bob")))
        await store.messages.add_message(chat("ann", "bob", "before"))
        prepared = [with_reserved_id(store.messages, chat("ann", "bob", str(i))) for i in range(4)]
        self.assertIsNone(prepared[3])  # three are waiting for their commit: no more now
        first, second, third = prepared[:3]
        self.assertEqual([second.id, third.id], [first.id + 1, first.id + 2])
        done = []
        for stored in (first, second, third):
            store.messages.append_message_then(stored, done.append)
        # still not committed
        self.assertIsNone(with_reserved_id(store.messages, chat("ann", "bob")))
        # add_message always can
        plain = await store.messages.add_message(chat("ann", "bob", "plain"))
        self.assertEqual(plain.id, third.id + 1)
        self.assertEqual([m.id for m in done], [first.id, second.id, third.id])
        self.assertEqual(with_reserved_id(store.messages, chat("ann", "bob")).id, plain.id + 1)
        history = await store.messages.private_history("a", "ann", "bob")
        self.assertEqual(texts(history), ["before", "0", "1", "2", "plain"])

    async def test_ids_prepared_but_never_committed_are_not_given_again(self):
        store = await self.open()
        committed = await store.messages.add_message(chat("ann", "bob"))
        prepared = with_reserved_id(store.messages,
                                    chat("ann", "bob", "pushed, then the process died"))
        await store.stop()  # never appended: as if the process had died before its commit
        again = await self.open()
        following = await again.messages.add_message(chat("ann", "bob"))
        self.assertGreater(following.id, prepared.id)
        self.assertEqual(following.id, committed.id + 1 + sqlite_module.EARLY_IDS)

    async def test_a_refused_row_leaves_its_id_unsettled(self):
        store = await self.open(early_ids=3)
        await store.messages.add_message(chat("ann", "bob", "first"))
        refused = await defer.DeferredList(
            [store.messages.add_message(chat("ann", "bob", object()))], consumeErrors=True)
        self.assertFalse(refused[0][0])  # its batch committed, without it
        self.flushLoggedErrors()
        prepared = [with_reserved_id(store.messages, chat("ann", "bob")) for _ in range(3)]
        self.assertIsNone(prepared[-1])  # the refused id is not in the file: it counts
        await store.stop()
        again = await self.open(early_ids=3)
        following = await again.messages.add_message(chat("ann", "bob"))
        self.assertGreater(following.id, max(p.id for p in prepared if p is not None))

    async def test_a_failed_commit_leaves_its_ids_unsettled(self):
        store = await self.open(_FailingCommitStore, early_ids=2)
        await store.messages.add_message(chat("ann", "bob"))
        store.fail_next_commit = True
        failed = await defer.DeferredList([store.messages.add_message(chat("ann", "bob"))],
                                          consumeErrors=True)
        self.assertFalse(failed[0][0])
        self.flushLoggedErrors(sqlite3.OperationalError)
        # the failed message's id is not in the file: after a crash the next start would not
        # skip past it, so it still counts against the ids that may run ahead
        self.assertIsNotNone(with_reserved_id(store.messages, chat("ann", "bob")))
        self.assertIsNone(with_reserved_id(store.messages, chat("ann", "bob")))

    async def test_stop_flushes_pending_writes(self):
        store = await self.open()
        writes = [store.messages.add_message(chat("ann", "bob", str(i))) for i in range(20)]
        await store.stop()
        self.assertTrue(all(write.called for write in writes))
        again = await self.open()
        history = await again.messages.private_history("a", "ann", "bob")
        self.assertEqual(texts(history), [str(i) for i in range(20)])

    async def test_calls_fail_cleanly_when_not_running(self):
        store = SqliteStore(self.path, reactor)
        refusal = await self.refused(store.users.get_user("a", "ann"))
        self.assertIn("not started", refusal.detail)
        await store.start()
        await store.stop()
        await store.stop()  # twice is harmless
        calls = [
            store.users.add_user(User("a", "ann", "h")),
            store.users.get_user("a", "ann"),
            store.messages.add_message(chat("ann", "bob")),
            store.messages.group_history("a", 1),
            store.groups.create_group(Group("a", 1), []),
            store.relations.relations_of("a", "ann"),
            store.apps.list_apps(0, 1),
            store.start(),
        ]
        for call in calls:
            refusal = await self.refused(call)
        self.assertIn("stopped", refusal.detail)
        reported = []
        store.messages.add_message_then(chat("ann", "bob"), lambda result, tag: reported.append(
            (result.value.code, tag)), "t")
        self.assertEqual(reported, [(errors.SERVER_ERROR, "t")])
        self.assertIsNone(with_reserved_id(store.messages, chat("ann", "bob")))
        store.messages.append_message_then(with_id(chat("ann", "bob"), 7), lambda result, tag:
                                           reported.append((result.value.code, tag)), "u")
        self.assertEqual(reported[1:], [(errors.SERVER_ERROR, "u")])
        # a run of messages: one answer, a refusal for each of them
        runs = []
        store.messages.append_run_then([with_id(chat("ann", "bob"), 8),
                                        with_id(chat("ann", "bob"), 9)],
                                       lambda results, tag: runs.append((results, tag)), "v")
        store.messages.add_run_then([chat("ann", "bob")] * 2,
                                    lambda results, tag: runs.append((results, tag)), "w")
        self.assertEqual([(tag, [r.value.code for r in results]) for results, tag in runs],
                         [("v", [errors.SERVER_ERROR] * 2), ("w", [errors.SERVER_ERROR] * 2)])

    async def refused(self, call):
        with self.assertRaises(JimError) as caught:
            await call
        self.assertEqual(caught.exception.code, errors.SERVER_ERROR)
        return caught.exception

    async def test_stop_while_starting(self):
        store = SqliteStore(self.path, reactor)
        starting = store.start()
        await store.stop()
        await starting
        await self.refused(store.users.get_user("a", "ann"))

    async def test_open_and_slow_commits_are_logged(self):
        events = EventLoggingObserver.createWithCleanup(self, globalLogPublisher)
        self.patch(sqlite_module, "SLOW_COMMIT_SECONDS", -1.0)
        store = await self.open()
        await store.users.add_user(User("a", "ann", "h"))
        opened = [e for e in events if e.get("path") == self.path and "version" in e]
        self.assertEqual(opened[0]["version"], len(bundled_migrations()))
        slow = [e for e in events if e["log_level"] == LogLevel.warn and "rows" in e]
        self.assertEqual(slow[0]["rows"], 1)

    def test_with_id_copies_every_field(self):
        self.assertEqual(
            list(Message._fields),
            ["id", "app", "sender", "target_type", "target", "msg_type", "body", "extras",
             "client_id", "created", "from_type", "target_app", "no_offline", "no_notification",
             "retracted"],
            "Message changed: update with_id and the messages table",
        )
        message = Message(0, "a", "ann", GROUP, "1", TEXT, {"text": "hi"}, "{}", "c1", 99,
                          "admin", "b", True, True, True)
        self.assertEqual(with_id(message, 7), Message(7, *message[1:]))

    def test_message_columns_are_the_message_fields_in_order(self):
        # rows are written as the Message tuple itself (its body as body_value makes it, its
        # last three fields, the flags, as integers) plus the conversation
        self.assertEqual(MESSAGE_COLUMNS.split(", "), list(Message._fields))
        self.assertEqual(Message._fields[-3:], ("no_offline", "no_notification", "retracted"))

    async def test_bodies_are_stored_as_text_or_json(self):
        store = await self.open()
        plain = await store.messages.add_message(chat("ann", "bob", "plain"))
        shaped = await store.messages.add_message(
            chat("ann", "bob", "x")._replace(body={"text": "x", "extras": {"k": 1}}))
        image = await store.messages.add_message(
            chat("ann", "bob", "x")._replace(msg_type="image", body={"media_id": "m"}))
        db = sqlite3.connect(self.path)
        self.addCleanup(db.close)
        rows = dict(db.execute("SELECT id, body FROM messages"))
        self.assertEqual(rows[plain.id], "plain")
        self.assertEqual(rows[shaped.id], b'{"text":"x","extras":{"k":1}}')
        self.assertEqual(rows[image.id], b'{"media_id":"m"}')
        self.assertEqual(await store.messages.get_message("a", shaped.id), shaped)
        self.assertEqual(await store.messages.get_message("a", image.id), image)

    def test_bad_synchronous_refused(self):
        self.assertRaises(ValueError, SqliteStore, self.path, reactor, synchronous="off")

    # the inbox area

    async def test_last_message_id_counts_ids_handed_out_before_their_commit(self):
        store = await self.open(early_ids=3)
        self.assertEqual(await store.inbox.last_message_id("a"), 0)
        committed = await store.messages.add_message(chat("ann", "bob"))
        self.assertEqual(await store.inbox.last_message_id("a"), committed.id)
        reserved = with_reserved_id(store.messages, chat("ann", "bob", "pushed, not committed"))
        self.assertEqual(await store.inbox.last_message_id("other app"), reserved.id)
        await store.stop()  # never appended
        again = await self.open(early_ids=3)
        # the newest in the file: every id handed out from now on is above it
        self.assertEqual(await again.inbox.last_message_id("a"), committed.id)
        following = await again.messages.add_message(chat("ann", "bob"))
        self.assertGreater(following.id, reserved.id)
        self.assertEqual(await again.inbox.last_message_id("a"), following.id)
        await again.stop()
        with self.assertRaises(JimError) as caught:
            await again.inbox.last_message_id("a")
        self.assertEqual(caught.exception.code, errors.SERVER_ERROR)

    async def test_an_inbox_reads_the_latest_by_id_when_the_clock_went_back(self):
        """The index is ordered by created first: a message created before an older one (the
        clock was set back) is still read above a cursor, and counted by its id."""
        store = await self.open(index_every=1, checkpoint_every=3600)
        send = store.messages.add_message
        first = await send(chat("ann", "bob", "first")._replace(created=5000))
        await send(chat("bob", "ann", "second")._replace(created=4000))
        third = await send(chat("bob", "ann", "third")._replace(created=4500))
        self.assertEqual(self.indexed_upto(), third.id)  # all of them from the index
        read = store.inbox.read
        self.assertEqual(texts(await read("a", "ann", [], Cursor(first.id))), ["second", "third"])
        self.assertEqual(texts(await read("a", "ann", [], Cursor(), per_conversation=1)),
                         ["third"])
        self.assertEqual(texts(await read("a", "ann", [], Cursor(), per_conversation=2)),
                         ["second", "third"])
        await store.messages.retract_message("a", third.id)  # still counted
        self.assertEqual(await read("a", "ann", [], Cursor(), per_conversation=1), [])
        self.assertEqual(texts(await read("a", "ann", [], Cursor(), per_conversation=2)),
                         ["second"])

    async def test_private_conversations_are_written_with_the_conversation_only(self):
        store = await self.open(_FailingCommitStore, checkpoint_every=3600)
        store.fail_next_commit = True
        with self.assertRaises(JimError):
            await store.messages.add_message(chat("ann", "bob", "lost"))
        self.assertEqual(self.flushLoggedErrors(), [])  # a refusal, not a bug:
        self.assertIn("disk I/O error (simulated)", " ".join(store.warnings()))
        statements = await self.trace_writer(store)
        await store.messages.add_message(chat("ann", "bob", "first"))
        self.assertEqual(len([s for s in statements if "private_conversations" in s]), 1)
        del statements[:]
        await defer.gatherResults([store.messages.add_message(chat("bob", "ann", str(i)))
                                   for i in range(3)])
        self.assertEqual(len(statements), 1, statements)  # the messages' INSERT alone
        await store.messages.add_message(chat("cid", "cid", "a note"))
        together = ["first", "0", "1", "2"]
        for username, wanted in (("ann", together), ("bob", together), ("cid", ["a note"])):
            self.assertEqual(texts(await store.inbox.read("a", username, [], Cursor())), wanted)
        with sqlite3.connect(self.path) as db:
            rows = db.execute("SELECT username FROM private_conversations ORDER BY username")
            self.assertEqual(rows.fetchall(), [("ann",), ("bob",), ("cid",)])
        db.close()


class _LineCollector(protocol.ProcessProtocol):
    """Collects a child's output lines; C{enough} fires once C{wanted} lines came, C{prepared}
    of them "prepared" lines."""

    def __init__(self, wanted, prepared=0):
        self.wanted = wanted
        self.wanted_prepared = prepared
        self.prepared = 0
        self.lines = []
        self.partial = b""
        self.errors = b""
        self.enough = defer.Deferred()
        self.ended = defer.Deferred()

    def outReceived(self, data):
        complete = (self.partial + data).split(b"\n")
        self.partial = complete.pop()  # a line cut by the kill was never fully acknowledged
        self.lines.extend(line.decode() for line in complete)
        self.prepared += sum(line.startswith(b"prepared ") for line in complete)
        if (len(self.lines) >= self.wanted and self.prepared >= self.wanted_prepared
                and not self.enough.called):
            self.enough.callback(None)

    def errReceived(self, data):
        self.errors += data

    def processEnded(self, reason):
        self.ended.callback(None)


class CrashTests(unittest.TestCase):
    async def test_kill_9_loses_nothing_acknowledged(self):
        path = os.path.join(self.mktemp(), "jim.db")
        child = _LineCollector(wanted=1500, prepared=200)
        search_path = [os.path.dirname(HERE), os.environ.get("PYTHONPATH", "")]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, search_path)))
        reactor.spawnProcess(child, sys.executable, [sys.executable, CRASH_WRITER, path], env=env)
        deadline = reactor.callLater(60, child.transport.signalProcess, "KILL")
        await defer.DeferredList([child.enough, child.ended], fireOnOneCallback=True)
        if child.ended.called:
            deadline.cancel()
            self.fail(f"the writer died early: {child.errors.decode(errors='replace')}")
        child.transport.signalProcess("KILL")
        await child.ended
        if deadline.active():
            deadline.cancel()
        self.assertEqual(child.lines[0], "ready")

        store = SqliteStore(path, reactor)
        await store.start()
        self.addCleanup(store.stop)
        await self.check_acknowledged(store, [line.split(" ") for line in child.lines[1:]])

    async def check_acknowledged(self, store, acknowledged):
        inboxes = {}  # username -> ids expected in its inbox (its private conversations)
        newest = 0
        prepared = 0
        for kind, app, *rest in acknowledged:
            if kind == "user":
                self.assertIsNotNone(await store.users.get_user(app, rest[0]), rest)
            elif kind == "group":
                self.assertIsNotNone(await store.groups.get_group(app, int(rest[0])), rest)
            elif kind == "member":
                members = await store.groups.members(app, int(rest[0]))
                self.assertIn(rest[1], [member.username for member in members])
            elif kind == "message":
                message_id, sender, client_id, target = int(rest[0]), rest[1], rest[2], rest[3]
                found = await store.messages.message_by_client_id(app, sender, client_id, SINGLE,
                                                                  target)
                self.assertEqual(found.id if found else None, message_id)
                inboxes.setdefault(target, set()).add(message_id)
                newest = max(newest, message_id)
            else:
                self.assertEqual(kind, "prepared")
                prepared = max(prepared, int(rest[0]))
        for username, wanted in inboxes.items():
            read = {m.id for m in await store.inbox.read(app, username, (), Cursor())}
            self.assertLessEqual(wanted, read, username)
        self.assertGreater(newest, 100)
        later = await store.messages.add_message(
            Message(0, app, "x", SINGLE, "y", TEXT, {"text": "after"}))
        self.assertGreater(later.id, newest)
        # ids handed out before their commit (and maybe never committed) are not given again
        self.assertGreater(prepared, 100)
        self.assertGreater(later.id, prepared)
        early = with_reserved_id(store.messages,
                                 Message(0, app, "x", SINGLE, "y", TEXT, {"text": "early"}))
        self.assertGreater(early.id, later.id)
