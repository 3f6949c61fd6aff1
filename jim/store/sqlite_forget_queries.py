# -*- test-case-name: tests.store_contract.test_forget_app -*-
"""The SQL that forgets an app in L{jim.store.sqlite.SqliteStore}
(L{jim.interfaces.IStore.forget_app}): one write job, run inside its batch's transaction like
any other (docs/storage.md, "Forgetting an app").

The tables are found at run time: every table with an C{app} column loses the app's rows, so
that a table a later migration adds is included without a change here. The only tables of app
data without that column are keyed by conversation id, and are named here.
"""
from jim.store.sqlite_history_queries import index_conversations

#: the tables of the app's data keyed by the id of a conversation (conversations.id) alone
BY_CONVERSATION = ("conversation_index", "conversation_retracted")

#: every table with an app column (one statement over the schema SQLite keeps parsed in memory;
#: about 0.2 ms for the schema of migration 10)
_APP_TABLES = ("SELECT m.name FROM sqlite_master AS m JOIN pragma_table_info(m.name) AS c"
               " WHERE m.type = 'table' AND c.name = 'app' ORDER BY m.name")
#: every foreign key as (child table, parent table)
_FOREIGN_KEYS = ("SELECT m.name, f.\"table\" FROM sqlite_master AS m"
                 " JOIN pragma_foreign_key_list(m.name) AS f WHERE m.type = 'table'")


def quoted(name):
    """A table name as an SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def forget_app(db, conversations, app):
    """Delete every row of C{app}, and its row in C{apps}. C{conversations} is the writer's
    L{jim.store.sqlite_message_queries.ConversationIds}: it forgets the ids of the deleted
    conversations (SQLite may give a deleted id again: every row keyed by it goes with it).

    Foreign keys are checked at the COMMIT (C{defer_foreign_keys}), so the order of the deletes
    does not matter. Turning that off again discards what it would check, so a table whose
    foreign keys point into a table emptied of the app, and that has no app column itself, is
    checked first: a row left pointing at a deleted one fails the job (a bug: it is logged),
    and nothing is forgotten.
    Turned off, it leaves the batch's later jobs their usual immediate checks."""
    keep_the_sequence_mark(db)
    db.execute("PRAGMA defer_foreign_keys = ON")
    try:
        for table in BY_CONVERSATION:
            db.execute(f"DELETE FROM {table} WHERE conv IN"
                       " (SELECT id FROM conversations WHERE app = ?)", (app,))
        # conversation_index_lows has no app: a lower bound of `created` per block of ids,
        # which rows of other apps' messages still satisfy; stale rows only widen a read
        emptied = {"apps", *BY_CONVERSATION}
        for (table,) in db.execute(_APP_TABLES).fetchall():
            db.execute(f"DELETE FROM {quoted(table)} WHERE app = ?", (app,))
            emptied.add(table.lower())
        db.execute("DELETE FROM apps WHERE key = ?", (app,))
        check_children(db, emptied)
    finally:
        db.execute("PRAGMA defer_foreign_keys = OFF")
    conversations.forget()


def keep_the_sequence_mark(db):
    """Keep in C{conversation_index_state.indexed_upto} the highest id of the message sequence
    written so far (messages and events), which the app's rows may hold: a start takes its
    next id above it (L{jim.store.sqlite.SqliteStore}), so that no id given before is given
    again. Every message up to it is indexed first: that is what C{indexed_upto} says."""
    index_conversations(db)
    db.execute("UPDATE conversation_index_state SET indexed_upto ="
               " MAX(indexed_upto, (SELECT COALESCE(MAX(id), 0) FROM events))")


def check_children(db, emptied):
    """RuntimeError (a bug: the store logs it and answers SERVER_ERROR) if a table without an
    app column has a row whose foreign key points into one of the C{emptied} tables (names in
    lower case) and finds nothing there now."""
    children = {child for child, parent in db.execute(_FOREIGN_KEYS).fetchall()
                if parent.lower() in emptied and child.lower() not in emptied}
    for child in sorted(children):
        if db.execute(f"PRAGMA foreign_key_check({quoted(child)})").fetchone() is not None:
            raise RuntimeError(f"cannot forget an app: table {child} has rows that point at the"
                               " app's rows, and no app column to find them by")
