# -*- test-case-name: tests.test_store_sqlite,tests.test_store_contract -*-
"""The durable single-node L{IStore}: one SQLite file in WAL mode, with group commit.

Every write becomes a job (a plain function over the write connection). All jobs issued during
one reactor turn, or while the batch before them commits, are committed together, in one
transaction on one writer thread (L{jim.store.sqlite_batch}), and their Deferreds fire only after
that COMMIT returned: one fsync acknowledges hundreds of writes.
Reads run on their own connection and thread, so they never wait behind a commit.
See C{docs/storage.md}.
"""
import os
import sqlite3

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from jim.errors import JimError
from jim.interfaces import IStore
from jim.store import check_paging, group_conversation, private_conversation, with_id
from jim.store import sqlite_queries as q
from jim.store.migrations import migrate
from jim.store.serial_thread import SerialThread, observe, server_error
from jim.store.sqlite_batch import BatchWriter

#: how often the WAL is folded back into the database file (by its own thread)
CHECKPOINT_SECONDS = 2.0
#: the least time from the start of one commit to the start of the next (docs/storage.md)
COMMIT_GAP_SECONDS = 0.002
#: the WAL file is cut back to this size when it starts over after a checkpoint
WAL_SIZE_LIMIT = 64 * 1024 * 1024
#: ids L{SqliteStore.prepare_message} may hand out beyond the last committed message; a start
#: skips as many, so that none of them is ever given to another message (docs/storage.md)
EARLY_IDS = 10_000
#: a commit slower than this is logged as a warning
SLOW_COMMIT_SECONDS = 1.0
#: prepared statements the writer connection keeps: every multi-row INSERT shape (1 to
#: sqlite_queries.ROWS_PER_INSERT rows, messages and offline marks) and the rest; about 11 MB
WRITER_STATEMENT_CACHE = 2 * q.ROWS_PER_INSERT + 64

_NEW, _STARTING, _RUNNING, _STOPPING, _STOPPED = "new", "starting", "running", "stopping", "stopped"
_SYNCHRONOUS = {"full": "FULL", "normal": "NORMAL"}


def _settle(result, done):
    if type(result) is Failure:
        done.errback(result)
    else:
        done.callback(result)


@implementer(IStore)
class SqliteStore:
    """The L{IStore} kept in one SQLite file, writes group-committed (see the module docstring).

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
    @param early_ids: how many ids L{prepare_message} may hand out beyond the last committed
        message (0: it never does). Each start skips as many ids.
    @param wal_size_limit: bytes the WAL file is cut back to when it starts over.
    """

    log = Logger()
    #: what runs each batch on the writer thread (tests put one there that fails on demand)
    batch_writer_class = BatchWriter

    def __init__(self, path, reactor, metrics=None, synchronous="full", max_batch=2000,
                 commit_gap=COMMIT_GAP_SECONDS, busy_timeout=5.0,
                 checkpoint_every=CHECKPOINT_SECONDS, index_every=q.INDEX_EVERY,
                 early_ids=EARLY_IDS, wal_size_limit=WAL_SIZE_LIMIT):
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
        self._early_ids = early_ids
        # The newest message id known to be in the file: prepare_message hands out ids at most
        # early_ids beyond it, and a start skips early_ids past the newest in the file.
        self._durable_id = None
        self._pending = []  # (job, args, then, then_args) not yet handed to the writer
        self._flush_call = None  # the callLater that hands the next batch to the writer
        self._in_flight = False  # a batch is being committed
        self._last_flush = None  # reactor.seconds() when the last batch was handed over
        self._idle_waiters = []
        self._lifecycle = None  # fires (None) when the running start() or stop() is over
        self._closed = False

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
        # Ids prepare_message handed out before a crash may have reached recipients without
        # being committed: they are all at most early_ids past the newest message in the file.
        self._next_id = last_id + 1 + self._early_ids
        self._durable_id = last_id
        self._unindexed = unindexed  # the next checkpoint indexes a tail left by the last run
        if self._state is _STARTING:  # stop() may have been called meanwhile
            self._state = _RUNNING
            self._checkpoint_call = self._reactor.callLater(self._checkpoint_every, self._checkpoint)
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

    def _checkpoint(self):
        """Every few seconds: fold the WAL back into the database, off the commit path.

        The checkpoint thread copies what was committed when it began; the writer then copies,
        between two batches, the little that was committed meanwhile. Only a WAL copied to its
        end starts over at the next commit: without that second step a store that never stops
        writing would grow its WAL for ever (docs/storage.md, "Checkpoints")."""
        self._checkpoint_call = None
        if self._state is not _RUNNING:
            return
        if self._unindexed:
            self._index()
        done = self._checkpointer.submit(self._run_checkpoint)
        done.addCallback(self._checkpoint_tail)
        done.addErrback(lambda f: self.log.failure("store checkpoint failed", f))
        done.addBoth(self._checkpoint_done)

    def _checkpoint_tail(self, _):
        if self._state is not _RUNNING:
            return None
        return self._writer.submit(self._run_checkpoint_tail)

    def _run_checkpoint_tail(self):
        self._write_db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()

    def _checkpoint_done(self, _):
        if self._state is _RUNNING:
            self._checkpoint_call = self._reactor.callLater(self._checkpoint_every, self._checkpoint)

    def _run_checkpoint(self):
        self._checkpoint_db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()

    def _open_checkpointer(self):
        self._checkpoint_db = self._connect()

    def _connect(self, cached_statements=128):
        return sqlite3.connect(self.path, timeout=self._busy_timeout, isolation_level=None,
                               cached_statements=cached_statements)

    def _open_writer(self):
        folder = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(folder, exist_ok=True)
        db = self._connect(WRITER_STATEMENT_CACHE)
        try:
            (mode,) = db.execute("PRAGMA journal_mode = WAL").fetchone()
            if mode.lower() != "wal":
                raise server_error(f"store {self.path} cannot use WAL mode (got {mode!r})")
            db.execute(f"PRAGMA synchronous = {self._synchronous}")
            db.execute("PRAGMA foreign_keys = ON")
            db.execute("PRAGMA wal_autocheckpoint = 0")  # see _checkpoint
            # a WAL that a burst made large is cut back when it starts over
            db.execute(f"PRAGMA journal_size_limit = {self._wal_size_limit}")
            # a multi-row INSERT in a transaction keeps a statement journal (to undo just
            # itself): in memory rather than a temporary file created and deleted per commit
            db.execute("PRAGMA temp_store = MEMORY")
            before, after, _ = migrate(db)
            (last_id,) = db.execute("SELECT COALESCE(MAX(id), 0) FROM messages").fetchone()
            (indexed,) = db.execute(
                "SELECT indexed_upto FROM conversation_index_state").fetchone()
        except BaseException:
            db.close()
            raise
        self._write_db = db
        self._batches = self.batch_writer_class(db, self._conversations)
        return before, after, last_id, last_id - indexed

    def _open_reader(self):
        db = self._connect()
        db.execute("PRAGMA query_only = ON")
        self._read_db = db

    def _close_db(self, attribute):
        db = getattr(self, attribute)
        setattr(self, attribute, None)
        if db is not None:
            db.close()

    def _refusal(self):
        if self._state in (_NEW, _STARTING):
            return defer.fail(server_error(f"store {self.path} is not started yet"))
        return defer.fail(server_error(f"store {self.path} is stopped"))

    # group commit (reactor thread)

    def _write(self, job, *args):
        """Queue a job; a Deferred of its result."""
        if self._state is not _RUNNING:
            return self._refusal()
        done = defer.Deferred()
        self._queue(job, args, _settle, (done,))
        return done

    def _queue(self, job, args, then, then_args):
        """Queue a job for this turn's batch; C{then(result or Failure, *then_args)} follows
        its commit."""
        self._pending.append((job, args, then, then_args))
        if self._flush_call is None and not self._in_flight:
            self._flush_call = self._reactor.callLater(self._flush_delay(), self._flush)

    def _flush_delay(self):
        return flush_delay(self._last_flush, self._commit_gap, self._reactor.seconds())

    def _flush(self):
        self._flush_call = None
        self._last_flush = self._reactor.seconds()
        batch = self._pending[: self._max_batch]
        del self._pending[: self._max_batch]
        self._in_flight = True
        jobs = [(job, args) for job, args, _, _ in batch]
        outcome = self._writer.submit(self._commit_batch, jobs)
        waiting = [(then, a) for _, _, then, a in batch]
        if outcome.called:
            # Refused at once (the writer has stopped). This may run inside _batch_done, whose
            # callers must hear first: answer these after it.
            self._reactor.callLater(0, outcome.addBoth, self._batch_done, waiting, jobs)
        else:
            outcome.addBoth(self._batch_done, waiting, jobs)

    def _batch_done(self, outcome, waiting, jobs):
        self._in_flight = False
        if not isinstance(outcome, Failure):
            # In the file now, so a restart starts early_ids past it. (Not the ids of a failed
            # commit or a refused row: the file does not have them, and a restart would not
            # skip past them.)
            newest = _newest_message_id(jobs, outcome[1])
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
            self.log.failure("store commit of {rows} writes failed", outcome, rows=len(waiting))
            for then, then_args in waiting:
                try:
                    then(Failure(server_error("the store could not commit this write")),
                         *then_args)
                except Exception:
                    self.log.failure("the caller of a failed store write failed")
        else:
            seconds, results = outcome
            if self._metrics is not None:
                self._metrics.observe_commit(seconds, len(results))
            if seconds > SLOW_COMMIT_SECONDS:
                self.log.warn("slow store commit: {rows} writes took {seconds:.3f} s",
                              rows=len(results), seconds=seconds)
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

    def _read(self, query, *args):
        if self._state is not _RUNNING:
            return self._refusal()
        answer = self._reader.submit(self._run_query, query, args)
        return answer.addErrback(self._read_failed, query)

    def _run_query(self, query, args):
        return query(self._read_db, *args)

    def _read_failed(self, failure, query):
        if failure.check(JimError):
            return failure
        self.log.failure("store read {query} failed", failure, query=query.__name__)
        raise server_error("the store could not answer this read")

    # IStore

    def add_app(self, app):
        return self._write(q.insert_app, app)

    def get_app(self, key):
        return self._read(q.select_app, key)

    def add_user(self, user):
        return self._write(q.insert_user, user)

    def get_user(self, app, username):
        return self._read(q.select_user, app, username)

    def get_users(self, app, usernames):
        return self._read(q.select_users, app, list(usernames))

    def set_password(self, app, username, password):
        return self._write(q.update_password, app, username, password)

    def add_group(self, group):
        return self._write(q.insert_group, group)

    def get_group(self, app, gid):
        return self._read(q.select_group, app, gid)

    def add_member(self, app, gid, username):
        return self._write(q.insert_member, app, gid, username)

    def group_members(self, app, gid):
        return self._read(q.select_group_members, app, gid)

    def user_groups(self, app, username):
        return self._read(q.select_user_groups, app, username)

    def add_message(self, message, offline_for=()):
        done = defer.Deferred()
        self.add_message_then(message, offline_for, _settle, done)
        return done

    def add_message_then(self, message, offline_for, then, *args):
        if self._state is not _RUNNING:
            self._refusal().addErrback(then, *args)
            return
        self._append(self._with_next_id(message), offline_for, then, args)

    def prepare_message(self, message):
        if self._state is not _RUNNING or self._next_id - self._durable_id > self._early_ids:
            return None
        return self._with_next_id(message)

    def append_message_then(self, stored, offline_for, then, *args):
        if self._state is not _RUNNING:
            self._refusal().addErrback(then, *args)
            return
        self._append(stored, offline_for, then, args)

    def _with_next_id(self, message):
        # Assigned here, in the reactor thread, so ids follow the order batches commit in.
        stored = with_id(message, self._next_id)
        self._next_id += 1
        return stored

    def _append(self, stored, offline_for, then, args):
        self._queue(q.insert_message, (self._conversations, stored, tuple(offline_for)), then, args)
        self._unindexed += 1
        if self._unindexed >= self._index_every:
            self._index()

    def _index(self):
        """Queue the job that brings the conversation index up to date."""
        self._unindexed = 0
        self._queue(q.index_conversations, (), self._indexed, ())

    def _indexed(self, result):
        if type(result) is Failure:  # the cause is logged; the tail scan still finds them all
            self.log.warn("the conversation index is behind; it is retried at the next"
                          " checkpoint: {error}", error=result.getErrorMessage())
            self._unindexed = max(self._unindexed, 1)

    def add_offline(self, app, message_id, usernames):
        return self._write(q.insert_offline, app, message_id, tuple(usernames))

    def message_by_client_id(self, app, sender, client_id, target_type, target):
        return self._read(q.select_by_client_id, app, sender, client_id, target_type, target)

    def take_offline(self, app, username, peer=None, gid=None, limit=None):
        return self._write(q.take_offline, app, username, peer, gid, limit)

    def private_history(self, app, user, peer, begin=None, end=None, offset=None, count=100):
        return self._history(private_conversation(user, peer), app, begin, end, offset, count)

    def group_history(self, app, gid, begin=None, end=None, offset=None, count=100):
        return self._history(group_conversation(gid), app, begin, end, offset, count)

    def _history(self, conversation, app, begin, end, offset, count):
        try:
            check_paging(offset, count, begin, end)
        except JimError as refusal:
            return defer.fail(refusal)
        return self._read(q.select_history, app, conversation, begin, end, offset, count)


def flush_delay(last_flush, gap, now):
    """Seconds until the next batch may go to the writer: none if no batch went for C{gap}
    seconds (or ever, C{last_flush} None), else what is left of the gap. Never more than
    C{gap}, even if the clock (the reactor's, wall time) was set back meanwhile."""
    if last_flush is None:
        return 0
    return min(gap, max(0, last_flush + gap - now))


def _newest_message_id(jobs, results):
    """The id of the last message C{jobs} wrote (the highest: ids are queued in order), or 0.
    C{results} are the jobs' C{(succeeded, value)}."""
    for (job, args), (succeeded, _) in zip(reversed(jobs), reversed(results)):
        if job is q.insert_message and succeeded:
            return args[1].id
    return 0
