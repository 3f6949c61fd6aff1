# -*- test-case-name: tests.test_store_sqlite -*-
"""The three connections of L{jim.store.sqlite.SqliteStore} and how each is opened: the
writer's (which also migrates the file), the reader's and the checkpointer's. Each function
runs on the thread that will own the connection."""
import os
import sqlite3

from jim.store.migrations import migrate
from jim.store.serial_thread import server_error


def connect(path, busy_timeout, cached_statements=128):
    """A connection in autocommit mode (jim issues BEGIN and COMMIT itself)."""
    return sqlite3.connect(path, timeout=busy_timeout, isolation_level=None,
                           cached_statements=cached_statements)


def open_writer(path, busy_timeout, synchronous, wal_size_limit, cached_statements):
    """Create the folder, open the write connection, set it up and migrate the file.

    @return: C{(connection, schema version before, after, newest message or event id, messages not in
        the conversation index yet)}.
    """
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    db = connect(path, busy_timeout, cached_statements)
    try:
        (mode,) = db.execute("PRAGMA journal_mode = WAL").fetchone()
        if mode.lower() != "wal":
            raise server_error(f"store {path} cannot use WAL mode (got {mode!r})")
        db.execute(f"PRAGMA synchronous = {synchronous}")
        db.execute("PRAGMA foreign_keys = ON")
        # commits never checkpoint: the checkpoint thread does (docs/storage.md, "Checkpoints")
        db.execute("PRAGMA wal_autocheckpoint = 0")
        # a WAL that a burst made large is cut back when it starts over
        db.execute(f"PRAGMA journal_size_limit = {int(wal_size_limit)}")
        # a multi-row INSERT in a transaction keeps a statement journal (to undo just
        # itself): in memory rather than a temporary file created and deleted per commit
        db.execute("PRAGMA temp_store = MEMORY")
        before, after, _ = migrate(db)
        (last_message,) = db.execute("SELECT COALESCE(MAX(id), 0) FROM messages").fetchone()
        # events take their ids from the same sequence
        (last_event,) = db.execute("SELECT COALESCE(MAX(id), 0) FROM events").fetchone()
        (indexed,) = db.execute("SELECT indexed_upto FROM conversation_index_state").fetchone()
    except BaseException:
        db.close()
        raise
    return db, before, after, max(last_message, last_event), last_message - indexed


def open_reader(path, busy_timeout):
    """The read connection: it can only read."""
    db = connect(path, busy_timeout)
    db.execute("PRAGMA query_only = ON")
    return db
