# -*- test-case-name: tests.test_store_sqlite_timing -*-
"""The checkpoint half of L{jim.store.sqlite.SqliteStore}: folding the WAL back into the
database file every few seconds, on a connection and thread of its own, so that no commit does
it (docs/storage.md, "Checkpoints")."""
from jim.store.sqlite_connections import connect


class WalCheckpoints:
    """Mixed into L{jim.store.sqlite.SqliteStore}, whose state it uses: C{_checkpointer} and
    C{_writer} (the threads), C{_checkpoint_db} and C{_write_db} (their connections),
    C{_checkpoint_every}, C{_checkpoint_call} (the timer), C{_unindexed} and C{_index} (the
    conversation index job that runs with each checkpoint), and C{_running()}."""

    def _checkpoint(self):
        """Every few seconds: fold the WAL back into the database, off the commit path.

        The checkpoint thread copies what was committed when it began; the writer then copies,
        between two batches, the little that was committed meanwhile. Only a WAL copied to its
        end starts over at the next commit: without that second step a store that never stops
        writing would grow its WAL for ever (docs/storage.md, "Checkpoints")."""
        self._checkpoint_call = None
        if not self._running():
            return
        if self._unindexed:
            self._index()
        done = self._checkpointer.submit(self._run_checkpoint)
        done.addCallback(self._checkpoint_tail)
        done.addErrback(lambda f: self.log.failure("store checkpoint failed", f))
        done.addBoth(self._checkpoint_done)

    def _checkpoint_tail(self, _):
        if not self._running():
            return None
        return self._writer.submit(self._run_checkpoint_tail)

    def _run_checkpoint_tail(self):
        self._write_db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()

    def _checkpoint_done(self, _):
        if self._running():
            self._checkpoint_call = self._reactor.callLater(self._checkpoint_every,
                                                            self._checkpoint)

    def _run_checkpoint(self):
        self._checkpoint_db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()

    def _open_checkpointer(self):
        self._checkpoint_db = connect(self.path, self._busy_timeout)
