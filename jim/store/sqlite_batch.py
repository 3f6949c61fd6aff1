# -*- test-case-name: tests.test_store_sqlite -*-
"""The writer thread's half of L{jim.store.sqlite.SqliteStore}'s group commit: one batch of
jobs becomes one transaction (see C{docs/storage.md}, "Group commit"); and when the next batch
may go, and what a committed batch settled.

A job is a plain function over the write connection (one of the C{jim.store.sqlite_*_queries}
functions) with its arguments. Each job runs inside a savepoint so that a
failing one is undone alone. Message appends, the bulk of the traffic, are written together (one
statement per C{ROWS_PER_INSERT} rows) and, when the whole batch is appends, without savepoints
or even without BEGIN...COMMIT. Only if a row is refused are the appends redone one by one, to
find the culprit; any other error fails the batch.
"""
import sqlite3
import time

from twisted.python.failure import Failure

from jim.model import Resent
from jim.store import sqlite_message_queries as q
from jim.store.sqlite_event_queries import insert_event

#: errors that say a row was refused (a constraint, a value SQLite cannot store), not that the
#: database could not write: a batch that meets one is redone job by job to find the culprit
ROW_REFUSED = (sqlite3.IntegrityError, sqlite3.InterfaceError, sqlite3.DataError,
               sqlite3.ProgrammingError, OverflowError, TypeError, ValueError)


class BatchWriter:
    """Commits batches of jobs on one write connection. Used on the writer thread only.

    @param db: the write connection (autocommit: C{isolation_level=None}).
    @param conversations: the L{q.ConversationIds} cache the message appends use.
    """

    def __init__(self, db, conversations):
        self.db = db
        self.conversations = conversations

    def commit_batch(self, jobs):
        """Run C{jobs}, a list of C{(job, args)}, in one transaction. Returns the seconds taken
        and one C{(succeeded, value)} per job; raises if the batch as a whole failed (nothing
        of it was written)."""
        db = self.db
        started = time.monotonic()
        together = True  # False once the appends, written together, had a row refused
        if all(job in _APPENDS for job, _ in jobs):
            appends = _appended(jobs)
            try:
                single = q.one_statement_appends(self.conversations, appends)
                if single is not None:
                    self.commit_alone(*single)
                else:
                    self._appends_only(appends)
                return time.monotonic() - started, _all_written(jobs)
            except ROW_REFUSED:  # nothing was written; the path below finds the culprit
                together = False
        db.execute("BEGIN IMMEDIATE")
        try:
            results = []
            appending = []  # the append jobs since the last other job
            for job, args in jobs:
                if job in _APPENDS:
                    appending.append((job, args))
                    continue
                if appending:
                    results.extend(self._append_jobs(appending, together))
                    appending = []
                results.append(self._run_job(job, args))
            if appending:
                results.extend(self._append_jobs(appending, together))
            self.commit()
        except BaseException:
            self._rollback()
            raise
        return time.monotonic() - started, results

    def commit(self):
        self.db.execute("COMMIT")

    def commit_alone(self, sql, values):
        """Run one statement outside BEGIN...COMMIT: SQLite commits it as a transaction of its
        own. An error that is not about a row (I/O, a full disk, a lock) fails the batch, as a
        failed COMMIT does."""
        self.db.execute(sql, values)

    def _rollback(self, savepoint=None):
        if savepoint is not None:
            self.db.execute(f"ROLLBACK TO {savepoint}")
        elif self.db.in_transaction:
            self.db.execute("ROLLBACK")
        self.conversations.forget()  # ids made by the undone work are gone

    def _appends_only(self, appends):
        """The usual batch, only message appends: one transaction, no savepoints. Raises what
        the database raised, after rolling back."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            q.insert_messages(self.db, self.conversations, appends)
            self.commit()
        except BaseException:
            self._rollback()
            raise

    def _run_job(self, job, args):
        db = self.db
        db.execute("SAVEPOINT job")
        try:
            value = job(db, *args)
        except Exception:
            result = (False, Failure())
            self._rollback("job")
        else:
            result = (True, value)
        db.execute("RELEASE job")
        return result

    def _append_jobs(self, jobs, together=True):
        """Append jobs inside the batch's transaction: their messages together under one
        savepoint, or (not C{together}, or when a row is refused) one message at a time, each
        under its own; a run then answers a list with a Failure in place of each refused
        message."""
        db = self.db
        if together:
            db.execute("SAVEPOINT run")
            try:
                q.insert_messages(db, self.conversations, _appended(jobs))
            except ROW_REFUSED:
                self._rollback("run")
                db.execute("RELEASE run")
            else:
                db.execute("RELEASE run")
                return _all_written(jobs)
        results = []
        for job, args in jobs:
            if job is q.insert_message:
                results.append(self._run_job(q.insert_message, args))
            else:
                each = [self._run_job(q.insert_message, (self.conversations, message))
                        for message in args[1]]
                results.append((True, [value for _, value in each]))
        return results


#: the jobs that append messages: written together (see the module's doc)
_APPENDS = frozenset((q.insert_message, q.insert_message_run))


def _appended(jobs):
    """The messages of append jobs, in order: one of each L{q.insert_message}, all of each
    L{q.insert_message_run}."""
    appends = []
    for job, args in jobs:
        if job is q.insert_message:
            appends.append(args[1])
        else:
            appends.extend(args[1])
    return appends


def _all_written(jobs):
    """The results of append jobs that were all written: each job's own value."""
    return [(True, args[1]) for _, args in jobs]


def batch_end(pending, most):
    """C{(end, rows)}: how many of the C{pending} jobs (C{(job, args, ...)}) the next batch
    takes, as many as write at most C{most} rows (one a job, one a message of a run) and at
    least one; the rows they write."""
    rows = 0
    for end, (job, args, *_) in enumerate(pending):
        row = len(args[1]) if job is q.insert_message_run else 1
        if end and rows + row > most:
            return end, rows
        rows += row
    return len(pending), rows


def flush_delay(last_flush, gap, now):
    """Seconds until the next batch may go to the writer: none if no batch went for C{gap}
    seconds (or ever, C{last_flush} None), else what is left of the gap. Never more than
    C{gap}, even if the clock (the reactor's, wall time) was set back meanwhile."""
    if last_flush is None:
        return 0
    return min(gap, max(0, last_flush + gap - now))


def newest_message_id(jobs, results):
    """The id of the last message or event C{jobs} wrote (the highest: ids are queued in
    order), or 0. C{results} are the jobs' C{(succeeded, value)}."""
    for (job, args), (succeeded, value) in zip(reversed(jobs), reversed(results)):
        if job is q.insert_message and succeeded:
            return args[1].id
        if job is q.insert_message_run and succeeded:
            for message in reversed(value):  # (a Failure: a message refused alone)
                if type(message) is not Failure:
                    return message.id
        if job is q.insert_message_once and succeeded and type(value) is not Resent:
            return args[0].id  # (a resend found the first message and wrote nothing)
        if job is insert_event and succeeded:
            return args[0].id
    return 0
