"""When the SQLite store commits and checkpoints: the commit gap, and a WAL that starts over
though writes never stop (docs/storage.md, "Group commit" and "Checkpoints")."""
import os
import sqlite3
import threading

from twisted.internet import defer, reactor
from twisted.internet.task import deferLater
from twisted.internet.testing import EventLoggingObserver
from twisted.logger import globalLogPublisher
from twisted.trial import unittest

from jim.metrics import Metrics
from jim.model import User
from jim.store import serial_thread
from jim.store import sqlite as sqlite_module
from jim.store.sqlite import SqliteStore
from jim.store.sqlite_batch import BatchWriter
from tests.support.waiting import until
from tests.test_store_sqlite import chat


class _FlushTimes(SqliteStore):
    """Records C{reactor.seconds()} whenever a batch goes to the writer."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.flushed_at = []

    def _flush(self):
        self.flushed_at.append(self._reactor.seconds())
        super()._flush()


class CommitGapTests(unittest.TestCase):
    def setUp(self):
        self.path = os.path.join(self.mktemp(), "jim.db")
        self.metrics = Metrics()

    async def open(self, store_class=_FlushTimes, **kwargs):
        kwargs.setdefault("checkpoint_every", 3600)
        store = store_class(self.path, reactor, metrics=self.metrics, **kwargs)
        await store.start()
        self.addCleanup(store.stop)
        return store

    def test_flush_delay(self):
        flush_delay = sqlite_module.flush_delay
        self.assertEqual(flush_delay(None, 0.002, 100.0), 0)  # nothing handed over yet
        self.assertAlmostEqual(flush_delay(100.0, 0.002, 100.0005), 0.0015)
        self.assertEqual(flush_delay(100.0, 0.002, 100.5), 0)  # the gap is over
        self.assertEqual(flush_delay(100.0, 0.002, 40.0), 0.002)  # the clock went back

    async def test_the_first_write_is_not_held_back(self):
        store = await self.open(commit_gap=60)
        began = reactor.seconds()
        await store.users.add_user(User("a", "ann", "h"))
        self.assertLess(reactor.seconds() - began, 30)

    async def test_writes_made_while_the_gap_runs_wait_for_it_together(self):
        store = await self.open(commit_gap=0.5)
        await store.messages.add_message(chat("ann", "bob", "0"))
        # As if that batch had just gone: however long its commit took, the gap runs now.
        gap_from = store._last_flush = reactor.seconds()
        later = []
        for i in range(1, 6):  # one reactor turn after another
            later.append(store.messages.add_message(chat("ann", "bob", str(i))))
            await deferLater(reactor, 0, lambda: None)
        stored = await defer.gatherResults(later)
        self.assertEqual([m.body["text"] for m in stored], ["1", "2", "3", "4", "5"])
        self.assertEqual((self.metrics.commit_count, self.metrics.commit_rows), (2, 6))
        self.assertGreaterEqual(store.flushed_at[1] - gap_from, 0.5 - 1e-6)
        # after a quiet spell longer than the gap, a write goes to the writer at once
        await deferLater(reactor, 0.6, lambda: None)
        quiet = store.messages.add_message(chat("ann", "bob", "6"))
        self.assertLessEqual(store._flush_call.getTime(), reactor.seconds())
        await quiet

    async def test_writes_made_while_a_batch_commits_wait_for_the_gap(self):
        # the path taken under load: the next batch is due when the one in flight returns
        release = threading.Event()
        self.addCleanup(release.set)

        class Store(_FlushTimes):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)

                class SlowFirst(BatchWriter):
                    def commit_batch(writer, jobs):
                        release.wait(30)  # the first batch commits when the test says so
                        return super().commit_batch(jobs)

                self.batch_writer_class = SlowFirst

        store = await self.open(Store, commit_gap=0.3)
        first = store.messages.add_message(chat("ann", "bob", "0"))
        await until(lambda: store._in_flight)
        second = [store.messages.add_message(chat("ann", "bob", str(i))) for i in (1, 2)]
        release.set()
        await first
        await defer.gatherResults(second)
        self.assertEqual((self.metrics.commit_count, self.metrics.commit_rows), (2, 3))
        self.assertGreaterEqual(store.flushed_at[1] - store.flushed_at[0], 0.3 - 1e-6)

    async def test_stop_does_not_wait_for_the_gap(self):
        store = await self.open(commit_gap=60)
        await store.messages.add_message(chat("ann", "bob", "0"))
        held = store.messages.add_message(chat("ann", "bob", "1"))  # due in a minute
        self.assertTrue(store._flush_call.active())
        began = reactor.seconds()
        await store.stop()
        self.assertLess(reactor.seconds() - began, 30)
        self.assertEqual((await held).body["text"], "1")  # committed before the store closed


class CheckpointTests(unittest.TestCase):
    def setUp(self):
        self.path = os.path.join(self.mktemp(), "jim.db")

    async def open(self, store_class=SqliteStore, **kwargs):
        store = store_class(self.path, reactor, **kwargs)
        await store.start()
        self.addCleanup(store.stop)
        return store

    async def checkpoint(self, store):
        """Run the store's checkpoint now, as its timer would, and wait for its end."""
        store._checkpoint_call.cancel()
        store._checkpoint()
        await until(lambda: store._checkpoint_call is not None)  # set again at the end

    def wal_frames(self):
        db = sqlite3.connect(self.path)
        try:
            return db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1]
        finally:
            db.close()

    async def test_commits_never_checkpoint_the_checkpoint_thread_does(self):
        store = await self.open(checkpoint_every=0.05)
        autocheckpoint = await store._writer.submit(
            lambda: store._write_db.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
        )
        self.assertEqual(autocheckpoint, 0)  # commits never fold the WAL back themselves
        before = os.path.getsize(self.path)
        await defer.DeferredList([store.messages.add_message(chat("ann", "bob")) for _ in range(2000)])
        # only a checkpoint writes pages into the database file
        for _ in range(250):
            if os.path.getsize(self.path) > before + 100_000:
                break
            await deferLater(reactor, 0.02, lambda: None)
        self.assertGreater(os.path.getsize(self.path), before + 100_000)

    async def test_the_wal_starts_over_though_writes_never_stop(self):
        # The checkpoint thread copies what it may when it begins. What it may not copy (here:
        # frames newer than a reader's snapshot; under load: frames committed meanwhile) the
        # writer copies after it, or the WAL never starts over and grows for as long as the
        # writes go on.
        at_work, finish = threading.Event(), threading.Event()
        self.addCleanup(finish.set)

        class Store(SqliteStore):
            def _run_checkpoint(self):
                super()._run_checkpoint()
                at_work.set()
                finish.wait(30)

        store = await self.open(Store, checkpoint_every=3600, index_every=10**9)
        await defer.gatherResults([store.messages.add_message(chat("ann", "bob")) for _ in range(50)])
        reader = sqlite3.connect(self.path, isolation_level=None)
        self.addCleanup(reader.close)
        reader.execute("BEGIN")
        reader.execute("SELECT COUNT(*) FROM messages").fetchone()  # a snapshot of the first 50
        await defer.gatherResults([store.messages.add_message(chat("ann", "bob")) for _ in range(50)])
        store._unindexed = 0  # no index job: just these frames
        store._checkpoint_call.cancel()
        store._checkpoint()
        await until(at_work.is_set)  # it copied the first 50, and not the next
        reader.execute("ROLLBACK")
        finish.set()
        await until(lambda: store._checkpoint_call is not None)
        await store.messages.add_message(chat("ann", "bob", "after"))
        self.assertEqual(self.wal_frames(), 1)  # just "after": the WAL started over

    async def test_a_wal_grown_by_a_burst_is_cut_back(self):
        store = await self.open(checkpoint_every=3600, wal_size_limit=64 * 1024)
        await defer.gatherResults(
            [store.messages.add_message(chat("ann", "bob", "x" * 1000)) for _ in range(300)])
        wal = self.path + "-wal"
        self.assertGreater(os.path.getsize(wal), 256 * 1024)
        await self.checkpoint(store)
        await store.messages.add_message(chat("ann", "bob", "after"))  # starts the WAL over
        self.assertLessEqual(os.path.getsize(wal), 64 * 1024)


class ThreadPolicyTests(unittest.TestCase):
    """The writer and the checkpointer are background work to the scheduler: their wake-ups
    do not preempt the reactor thread in the middle of a turn."""

    async def test_the_writer_and_the_checkpointer_run_as_batch_work(self):
        if not hasattr(os, "SCHED_BATCH"):
            raise unittest.SkipTest("this system has no SCHED_BATCH")
        store = SqliteStore(os.path.join(self.mktemp(), "jim.db"), reactor)
        await store.start()
        self.addCleanup(store.stop)

        def policy():
            return os.sched_getscheduler(0)  # of the calling thread

        self.assertEqual(await store._writer.submit(policy), os.SCHED_BATCH)
        self.assertEqual(await store._checkpointer.submit(policy), os.SCHED_BATCH)
        self.assertEqual(await store._reader.submit(policy), os.SCHED_OTHER)  # answers clients

    async def test_a_refused_policy_is_logged_and_the_thread_works(self):
        def refused():
            raise PermissionError(1, "Operation not permitted")

        self.patch(serial_thread, "as_batch_work", refused)
        events = EventLoggingObserver.createWithCleanup(self, globalLogPublisher)
        thread = serial_thread.SerialThread(reactor, "jim-test-thread", batch=True)
        thread.start()
        self.addCleanup(thread.stop)
        self.assertEqual(await thread.submit(lambda: 42), 42)
        [event] = [e for e in events if e.get("thread") == "jim-test-thread"]
        self.assertIn("Operation not permitted", str(event["error"]))
