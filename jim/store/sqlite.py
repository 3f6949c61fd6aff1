# -*- test-case-name: tests.test_store_sqlite,tests.store_contract -*-
"""The durable single-node L{IStore}: one SQLite file in WAL mode, with group commit.

L{SqliteStore} is the engine its areas share (C{store.apps}, C{.users}, C{.relations},
C{.groups}, C{.messages}, C{.media}, C{.inbox}, C{.events}, C{.words}, C{.rooms},
C{.callbacks}, C{.reports}, C{.nonces}, C{.silences}, each in its own module, its SQL in a
C{*_queries} one). Every write becomes a job (a plain function over the write connection).
All jobs issued during one reactor turn, or while the batch before them commits, are committed
together, in one transaction on one writer thread (L{jim.store.sqlite_batch}), and their
Deferreds fire only after that COMMIT returned: one fsync acknowledges hundreds of writes.
Reads run on their own connection and thread, so they never wait behind a commit.
See C{docs/storage.md}.
"""
import functools
import os
import sqlite3

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from jim.errors import JimError
from jim.interfaces import IStore
from jim.store import check_page, with_id
from jim.store import sqlite_forget_queries as forgetting
from jim.store import sqlite_history_queries as history
from jim.store import sqlite_message_queries as q
from jim.store.client_ids import MIN_CAPACITY, ClientIdFilter
from jim.store.serial_thread import SerialThread, observe, server_error, settle
from jim.store.sqlite_apps import SqliteApps
from jim.store.sqlite_batch import (
    BatchWriter, batch_end, flush_delay, newest_message_id,
)
from jim.store.sqlite_checkpoints import WalCheckpoints
from jim.store.sqlite_client_ids import load_client_ids
from jim.store.sqlite_connections import open_reader, open_writer
from jim.store.sqlite_events import SqliteEvents
from jim.store.sqlite_groups import SqliteGroups
from jim.store.sqlite_inbox import SqliteInbox
from jim.store.sqlite_media import SqliteMedia
from jim.store.sqlite_messages import SqliteMessages
from jim.store.sqlite_nonces import SqliteNonces
from jim.store.sqlite_silences import SqliteSilences
from jim.store.sqlite_relations import SqliteRelations
from jim.store.sqlite_rooms import SqliteRooms
from jim.store.sqlite_users import SqliteUsers
from jim.store.sqlite_words import SqliteWords
from jim.store.sqlite_callbacks import SqliteCallbacks
from jim.store.sqlite_reports import SqliteReports

#: how often the WAL is folded back into the database file (by its own thread)
CHECKPOINT_SECONDS = 2.0
#: the least time from the start of one commit to the start of the next (docs/storage.md)
COMMIT_GAP_SECONDS = 0.002
#: the WAL file is cut back to this size when it starts over after a checkpoint
WAL_SIZE_LIMIT = 64 * 1024 * 1024
#: ids L{SqliteStore.reserve_id} may hand out beyond the last committed message; a start
#: skips as many, so that none of them is ever given to another message (docs/storage.md)
EARLY_IDS = 10_000
#: a commit slower than this is logged as a warning
SLOW_COMMIT_SECONDS = 1.0
#: prepared statements the writer connection keeps: every multi-row INSERT shape (1 to
#: sqlite_message_queries.ROWS_PER_INSERT rows, messages with every column and ordinary ones)
#: and the rest
WRITER_STATEMENT_CACHE = 2 * q.ROWS_PER_INSERT + 64

_NEW, _STARTING, _RUNNING, _STOPPING, _STOPPED = "new", "starting", "running", "stopping", "stopped"
_SYNCHRONOUS = {"full": "FULL", "normal": "NORMAL"}
#: seconds between two warnings of commits the database refuses (a full disk)
COMMIT_WARNING_EVERY = 10.0


@implementer(IStore)
class SqliteStore(WalCheckpoints):
    """The L{IStore} kept in one SQLite file, writes group-committed (see the module docstring):
    the engine, and its areas as attributes.

    @param path: the database file; its directory is created if missing.
    @param reactor: provides C{callLater} and C{callFromThread}.
    @param metrics: a L{jim.metrics.Metrics} told about every commit, or None.
    @param synchronous: C{"full"} (a commit is on disk, even across power loss, when its
        Deferreds fire) or C{"normal"} (a commit survives a crash of the process, but the last
        ones may be lost if the machine loses power).
    @param max_batch: the most writes committed in one transaction.
    @param commit_gap: the least seconds from the start of one commit to the start of the
        next. Under load a batch gathers the writes of this long, not just of one reactor
        turn; a write after a quiet spell is committed at once.
    @param busy_timeout: seconds SQLite waits for a lock held by another connection.
    @param checkpoint_every: seconds between WAL checkpoints (run on their own thread).
    @param index_every: messages written between two updates of the conversation index
        (it is also brought up to date at every checkpoint).
    @param early_ids: how many ids L{reserve_id} may hand out beyond the last committed
        message (0: it never does). Each start skips as many ids.
    @param wal_size_limit: bytes the WAL file is cut back to when it starts over.
    @param client_ids: the fewest keys the filter of client ids is sized for (it grows).
    """

    log = Logger()
    #: what runs each batch on the writer thread (tests put one there that fails on demand)
    batch_writer_class = BatchWriter

    def __init__(self, path, reactor, metrics=None, synchronous="full", max_batch=2000,
                 commit_gap=COMMIT_GAP_SECONDS, busy_timeout=5.0,
                 checkpoint_every=CHECKPOINT_SECONDS, index_every=history.INDEX_EVERY,
                 early_ids=EARLY_IDS, wal_size_limit=WAL_SIZE_LIMIT,
                 client_ids=MIN_CAPACITY):
        if synchronous not in _SYNCHRONOUS:
            raise ValueError(f"synchronous must be one of {sorted(_SYNCHRONOUS)}: {synchronous!r}")
        self.path = os.fspath(path)
        self._reactor = reactor
        self._metrics = metrics
        self._synchronous = _SYNCHRONOUS[synchronous]
        self._max_batch = max_batch
        self._commit_gap = commit_gap
        self._wal_size_limit = int(wal_size_limit)
        self._busy_timeout = busy_timeout
        self._state = _NEW
        self._last_commit_warning = float("-inf")  # when a failing commit was last logged
        self._failed_rows = 0  # writes refused since
        # batch: a commit's wake-ups wait for the reactor's turn to end (docs/storage.md)
        self._writer = SerialThread(reactor, "jim-store-writer", batch=True)
        self._reader = SerialThread(reactor, "jim-store-reader")
        # Checkpoints (copying the WAL back into the database file) run on their own
        # connection and thread, so that no commit ever waits for one.
        self._checkpointer = SerialThread(reactor, "jim-store-checkpoint", batch=True)
        self._checkpoint_db = None  # touched only on the checkpoint thread
        self._checkpoint_call = None
        self._checkpoint_every = checkpoint_every
        self._index_every = index_every
        self._unindexed = 0  # messages queued since the last index job
        self._write_db = None  # touched only on the writer thread
        self._conversations = q.ConversationIds()  # likewise
        self._batches = None  # likewise: the BatchWriter over _write_db
        self._read_db = None  # touched only on the reader thread
        self._next_id = None
        self._first_id = None  # _next_id as start() set it
        self._newest_at_start = None  # the newest message id in the file at start()
        self._early_ids = early_ids
        # The newest message id known to be in the file: reserve_id hands out ids at most
        # early_ids beyond it, and a start skips early_ids past the newest in the file.
        self._durable_id = None
        self._pending = []  # (job, args, then, then_args) not yet handed to the writer
        self._pending_rows = 0  # what they write: a job each, a run's messages each
        # filled from the file once it is open, and again, bigger, whenever it is full
        self._client_ids = ClientIdFilter(on_full=self._client_ids_full)
        self._client_ids_minimum = client_ids
        self._flush_call = None  # the callLater that hands the next batch to the writer
        self._in_flight = False  # a batch is being committed
        self._last_flush = None  # reactor.seconds() when the last batch was handed over
        self._idle_waiters = []
        self._lifecycle = None  # fires (None) when the running start() or stop() is over
        self._closed = False
        self.apps = SqliteApps(self)
        self.users = SqliteUsers(self)
        self.relations = SqliteRelations(self)
        self.groups = SqliteGroups(self)
        self.messages = SqliteMessages(self)
        self.media = SqliteMedia(self)
        self.inbox = SqliteInbox(self)
        self.events = SqliteEvents(self)
        self.words = SqliteWords(self)
        self.rooms = SqliteRooms(self)
        self.callbacks = SqliteCallbacks(self)
        self.reports = SqliteReports(self)
        self.nonces = SqliteNonces(self, reactor)
        self.silences = SqliteSilences(self)

    # lifecycle

    def start(self):
        if self._state is not _NEW:
            return defer.fail(server_error(f"store {self.path} cannot start: it is {self._state}"))
        self._state = _STARTING
        started = defer.ensureDeferred(self._start())
        self._lifecycle = observe(started)
        return started

    async def _start(self):
        self._writer.start()
        self._reader.start()
        self._checkpointer.start()
        try:
            before, after, last_id, unindexed = await self._writer.submit(self._open_writer)
            await self._reader.submit(self._open_reader)
            await self._checkpointer.submit(self._open_checkpointer)
        except (sqlite3.OperationalError, OSError) as e:  # the file or folder, not a bug
            self.log.error("could not open store {path}: {error}", path=self.path, error=e)
            await self._close()
            raise ValueError(f"could not open the store {self.path}: {e}") from e
        except BaseException:
            self.log.failure("could not open store {path}", path=self.path)
            await self._close()
            raise
        # Ids reserve_id handed out before a crash may have reached recipients without
        # being committed: they are all at most early_ids past the newest message in the file.
        self._next_id = self._first_id = last_id + 1 + self._early_ids
        self._durable_id = self._newest_at_start = last_id
        self._unindexed = unindexed  # the next checkpoint indexes a tail left by the last run
        if self._state is _STARTING:  # stop() may have been called meanwhile
            self._state = _RUNNING
            self._checkpoint_call = self._reactor.callLater(self._checkpoint_every,
                                                            self._checkpoint)
            loading = defer.ensureDeferred(load_client_ids(
                self.read, self._client_ids, self.log, self._client_ids_minimum))
            loading.addErrback(self._client_ids_not_read)
        self.log.info(
            "opened store {path} at schema version {version} (found {before}), next message id"
            " {next_id}, synchronous={synchronous}",
            path=self.path, version=after, before=before, next_id=self._next_id,
            synchronous=self._synchronous,
        )

    def stop(self):
        if self._state is _NEW:
            self._state = _STOPPED
        if self._state is _STOPPED and self._lifecycle is None:
            return defer.succeed(None)
        if self._state in (_STOPPING, _STOPPED):
            return observe(self._lifecycle)
        opening = self._lifecycle if self._state is _STARTING else None
        self._state = _STOPPING
        stopped = defer.ensureDeferred(self._stop(opening))
        self._lifecycle = observe(stopped)
        return stopped

    async def _stop(self, opening):
        if opening is not None:
            await observe(opening)
        if self._flush_call is not None:
            self._flush_call.cancel()
            self._flush()
        while self._in_flight or self._pending:
            waiter = defer.Deferred()
            self._idle_waiters.append(waiter)
            await waiter
        await self._close()
        self.log.info("closed store {path}", path=self.path)

    async def _close(self):
        if self._closed:
            return
        self._closed = True
        if self._checkpoint_call is not None and self._checkpoint_call.active():
            self._checkpoint_call.cancel()
        self._checkpoint_call = None
        try:
            await self._checkpointer.submit(self._close_db, "_checkpoint_db")
            await self._writer.submit(self._close_db, "_write_db")  # checkpoints on close
            await self._reader.submit(self._close_db, "_read_db")
        finally:
            await self._writer.stop()
            await self._reader.stop()
            await self._checkpointer.stop()
            self._state = _STOPPED

    def _running(self):
        return self._state is _RUNNING

    def _open_writer(self):
        db, before, after, last_id, unindexed = open_writer(
            self.path, self._busy_timeout, self._synchronous, self._wal_size_limit,
            WRITER_STATEMENT_CACHE)
        self._write_db = db
        self._batches = self.batch_writer_class(db, self._conversations)
        # Forgetting an app may delete the newest messages and events: indexed_upto keeps
        # the highest id of the sequence then (sqlite_forget_queries), and may be above
        # every message left.
        (indexed,) = db.execute("SELECT indexed_upto FROM conversation_index_state").fetchone()
        return before, after, max(last_id, indexed), max(unindexed, 0)

    def _open_reader(self):
        self._read_db = open_reader(self.path, self._busy_timeout)

    def _close_db(self, attribute):
        db = getattr(self, attribute)
        setattr(self, attribute, None)
        if db is not None:
            db.close()

    def _refusal(self):
        if self._state in (_NEW, _STARTING):
            return defer.fail(server_error(f"store {self.path} is not started yet"))
        return defer.fail(server_error(f"store {self.path} is stopped"))

    def forget_app(self, key):
        """One write job (L{forgetting.forget_app}): every row of the app, in every table,
        goes in one transaction."""
        return self.write(forgetting.forget_app, self._conversations, key)

    # group commit (reactor thread)

    def _commit_failed(self, failure, rows):
        """Log a failed commit: a bug with its traceback; the database refusing (a full disk,
        an I/O error: the writers are told, and the next batch tries again) as a warning, at
        most one every L{COMMIT_WARNING_EVERY} seconds, with how many failed meanwhile."""
        if not failure.check(sqlite3.OperationalError):
            self.log.failure("store commit of {rows} writes failed", failure, rows=rows)
            return
        self._failed_rows += rows
        now = self._reactor.seconds()
        if now - self._last_commit_warning < COMMIT_WARNING_EVERY:
            return
        self.log.warn("store commits are failing: {why}; {rows} writes refused since the last"
                      " warning (their senders are told; each batch tries again)",
                      why=failure.getErrorMessage(), rows=self._failed_rows)
        self._last_commit_warning, self._failed_rows = now, 0

    def write(self, job, *args):
        """Queue a job, C{job(write connection, *args)}, for this turn's batch (the areas' one
        way to write); a Deferred of its result, fired after its commit."""
        if self._state is not _RUNNING:
            return self._refusal()
        done = defer.Deferred()
        self._queue(job, args, settle, (done,))
        return done

    def _queue(self, job, args, then, then_args, rows=1):
        """Queue a job for this turn's batch, writing C{rows} rows (a run: its messages);
        C{then(result or Failure, *then_args)} follows its commit."""
        self._pending.append((job, args, then, then_args))
        self._pending_rows += rows
        if self._flush_call is None and not self._in_flight:
            self._flush_call = self._reactor.callLater(self._flush_delay(), self._flush)

    def _flush_delay(self):
        return flush_delay(self._last_flush, self._commit_gap, self._reactor.seconds())

    def _flush(self):
        self._flush_call = None
        self._last_flush = self._reactor.seconds()
        pending, rows, most = self._pending, self._pending_rows, self._max_batch
        if rows <= most:
            batch, self._pending, self._pending_rows = pending, [], 0
        else:
            end, rows = batch_end(pending, most)
            batch = pending[:end]
            del pending[:end]
            self._pending_rows -= rows
        self._in_flight = True
        jobs = [(job, args) for job, args, _, _ in batch]
        outcome = self._writer.submit(self._commit_batch, jobs)
        waiting = [(then, a) for _, _, then, a in batch]
        if outcome.called:
            # Refused at once (the writer has stopped). This may run inside _batch_done, whose
            # callers must hear first: answer these after it.
            self._reactor.callLater(0, outcome.addBoth, self._batch_done, waiting, jobs, rows)
        else:
            outcome.addBoth(self._batch_done, waiting, jobs, rows)

    def _batch_done(self, outcome, waiting, jobs, rows):
        """A batch's outcome; C{rows}: what it writes, a run's messages counted each."""
        self._in_flight = False
        if not isinstance(outcome, Failure):
            # In the file now, so a restart starts early_ids past it. (Not the ids of a failed
            # commit or a refused row: the file does not have them, and a restart would not
            # skip past them.)
            newest = newest_message_id(jobs, outcome[1])
            if newest > self._durable_id:
                self._durable_id = newest
        if self._pending and self._flush_call is None:
            # The next batch starts committing now (or when the commit gap is over), while
            # this one's callers are answered: the writer need not wait for the reactor.
            delay = self._flush_delay()
            if delay:
                self._flush_call = self._reactor.callLater(delay, self._flush)
            else:
                self._flush()
        if isinstance(outcome, Failure):
            self._commit_failed(outcome, rows)
            for then, then_args in waiting:
                try:
                    then(Failure(server_error("the store could not commit this write")),
                         *then_args)
                except Exception:
                    self.log.failure("the caller of a failed store write failed")
        else:
            seconds, results = outcome
            if self._metrics is not None:
                self._metrics.observe_commit(seconds, rows)
            if seconds > SLOW_COMMIT_SECONDS:
                self.log.warn("slow store commit: {rows} writes took {seconds:.3f} s",
                              rows=rows, seconds=seconds)
            for (then, then_args), (job, _), (succeeded, value) in zip(waiting, jobs, results):
                if not succeeded and not value.check(JimError):
                    self.log.failure("store write {job} failed", value, job=job.__name__)
                    value = Failure(server_error("the store could not perform this write"))
                try:
                    then(value, *then_args)
                except Exception:  # must not keep the rest of the batch from its answers
                    self.log.failure("the caller of store write {job} failed", job=job.__name__)
        # Writes the callers made just now are in the next batch, or flushed by _queue's call.
        if not self._in_flight and not self._pending:
            waiters, self._idle_waiters = self._idle_waiters, []
            for waiter in waiters:
                waiter.callback(None)

    # group commit (writer thread)

    def _commit_batch(self, jobs):
        return self._batches.commit_batch(jobs)

    # reads (reader thread)

    def read(self, query, *args):
        """Run C{query(read connection, *args)} on the reader thread (the areas' one way to
        read); a Deferred of its result."""
        if self._state is not _RUNNING:
            return self._refusal()
        answer = self._reader.submit(self._run_query, query, args)
        return answer.addErrback(self._read_failed, query)

    def read_page(self, query, *args):
        """L{read} for a list page: the last two arguments (start, count) are checked first."""
        try:
            check_page(*args[-2:])
        except JimError as refusal:
            return defer.fail(refusal)
        return self.read(query, *args)

    def _run_query(self, query, args):
        return query(self._read_db, *args)

    def _read_failed(self, failure, query):
        if failure.check(JimError, defer.CancelledError):
            return failure  # the caller's to handle (a cancelled read: its caller gave up)
        self.log.failure("store read {query} failed", failure, query=query.__name__)
        raise server_error("the store could not answer this read")

    # message appends (reactor thread): the hot path of SqliteMessages

    def add(self, message, then, args):
        """Give C{message} the next id and append it (see L{append})."""
        if self._state is not _RUNNING:
            self._refusal().addErrback(then, *args)
            return
        self.append(self._with_next_id(message), then, args)

    def add_run(self, run, then, args):
        """Give each message of C{run} the next id and append them (see L{append_run})."""
        if self._state is not _RUNNING:
            self._refusal().addErrback(self._run_answered, len(run), then, args)
            return
        self.append_run([self._with_next_id(message) for message in run], then, args)

    def reserve_id(self):
        """The next message id, or None while C{early_ids} ids wait for their commit
        (docs/storage.md, "Ids handed out before their commit"). Assigned here, in the
        reactor thread, so ids follow the order batches commit in."""
        next_id = self._next_id
        if self._state is not _RUNNING or next_id - self._durable_id > self._early_ids:
            return None
        self._next_id = next_id + 1
        return next_id

    def last_message_id(self):
        """A fired Deferred of the last message id handed out (by L{reserve_id} or an append),
        or before the first one the newest in the file at start: every id handed out later is
        higher. Ids are global to the file, whatever the app. Touches no disk."""
        if self._state is not _RUNNING:
            return self._refusal()
        if self._next_id > self._first_id:
            return defer.succeed(self._next_id - 1)
        return defer.succeed(self._newest_at_start)

    def write_with_id(self, job, build, *args):
        """L{write} of C{job(write connection, build(id), *args)}, C{id} the next of the
        message sequence (an event's: it is ordered among the messages by it). Taken here,
        in the reactor thread, as messages take theirs, so ids follow the commit order."""
        if self._state is not _RUNNING:
            return self._refusal()
        new_id = self._next_id
        self._next_id += 1
        return self.write(job, build(new_id), *args)

    def _with_next_id(self, message):
        # Assigned here, in the reactor thread, so ids follow the order batches commit in.
        stored = with_id(message, self._next_id)
        self._next_id += 1
        return stored

    def add_once(self, message, then, args):
        """L{jim.interfaces.IMessageStore.add_message_once_then}: one write job that looks
        for the first message with the client id and stores this one if there is none (an id
        it does not use stays unused)."""
        running = self._state is _RUNNING
        if message.client_id is not None and running:
            self._client_ids.added(message.app, message.sender, message.client_id)
        self.write_with_id(q.insert_message_once, functools.partial(with_id, message),
                           self._conversations).addBoth(then, *args)
        if running:
            self._count_unindexed()

    def _count_unindexed(self, count=1):
        """C{count} more messages in the file's tail: the index job runs once there are
        enough."""
        self._unindexed += count
        if self._unindexed >= self._index_every:
            self._index()

    def may_hold_client_id(self, app, sender, client_id):
        """L{jim.interfaces.IMessageStore.may_hold_client_id}, from memory (a Bloom filter:
        jim.store.client_ids)."""
        return self._client_ids.may_hold(app, sender, client_id)

    def _client_ids_full(self, held):
        """The filter holds more keys than it was sized for: read them again, bigger."""
        self.log.info("the filter of client ids holds {held} keys, more than the {capacity} it"
                      " was sized for: reading them again into a bigger one", held=held,
                      capacity=self._client_ids.capacity)
        growing = defer.ensureDeferred(self._grow_client_ids())
        growing.addErrback(self._client_ids_not_read)

    async def _grow_client_ids(self):
        # A write queued now commits after every message given before the one that filled the
        # filter, so the reads that follow find them all in the file; that one and those given
        # later, the filter keeps aside.
        await self.write(_nothing)
        await load_client_ids(self.read, self._client_ids, self.log, self._client_ids_minimum)

    def _client_ids_not_read(self, failure):
        loaded = self._client_ids.loaded
        self._client_ids.read_failed()
        if self._state is _RUNNING:  # not a stop while reading them
            self.log.failure("could not read the client ids of {path}: {what}", failure,
                             path=self.path, what="the full filter goes on, with more reads"
                             if loaded else "a chat with a client id reads the store to check it")

    def append(self, stored, then, args):
        """Queue the append of a message that has its id; C{then(stored or Failure, *args)}
        follows its commit."""
        if self._state is not _RUNNING:
            self._refusal().addErrback(then, *args)
            return
        if stored.client_id is not None:
            self._client_ids.added(stored.app, stored.sender, stored.client_id)
        self._queue(q.insert_message, (self._conversations, stored), then, args)
        self._count_unindexed()

    def append_run(self, run, then, args):
        """L{append} of several messages with their ids, in id order, as one job: C{then(results,
        *args)} follows their commit once, C{results} a list with each message or the Failure
        of why it is not stored."""
        if self._state is not _RUNNING:
            self._refusal().addErrback(self._run_answered, len(run), then, args)
            return
        for stored in run:
            if stored.client_id is not None:
                self._client_ids.added(stored.app, stored.sender, stored.client_id)
        self._queue(q.insert_message_run, (self._conversations, run), self._run_answered,
                    (len(run), then, args), rows=len(run))
        self._count_unindexed(len(run))

    def _run_answered(self, results, count, then, args):
        if type(results) is Failure:  # the whole batch failed
            results = [results] * count
        elif any(type(value) is Failure for value in results):
            results = [value if type(value) is not Failure or value.check(JimError)
                       else self._run_failure(value) for value in results]
        then(results, *args)

    def _run_failure(self, failure):
        self.log.failure("store write insert_message failed", failure)
        return Failure(server_error("the store could not perform this write"))

    def _index(self):
        """Queue the job that brings the conversation index up to date."""
        self._unindexed = 0
        self._queue(history.index_conversations, (), self._indexed, ())

    def _indexed(self, result):
        if type(result) is Failure:  # the cause is logged; the tail scan still finds them all
            self.log.warn("the conversation index is behind; it is retried at the next"
                          " checkpoint: {error}", error=result.getErrorMessage())
            self._unindexed = max(self._unindexed, 1)


def _nothing(db):
    """A write job that writes nothing: its commit follows those of every job before it."""
