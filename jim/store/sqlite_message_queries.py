# -*- test-case-name: tests.test_store_sqlite,tests.store_contract.test_messages -*-
"""The SQL of the message log of L{jim.store.sqlite.SqliteStore}: appends (the hot path),
lookups and retraction. History and the conversation index are in
L{jim.store.sqlite_history_queries}.

Plain functions over a connection: writes run on the writer thread inside a batch's
transaction, reads on the reader thread.
"""
import functools

import orjson

from jim import errors, model
from jim.errors import JimError
from jim.model import Message
from jim.store import conversation_of

#: the columns of a Message, in the order of its fields (a row is written as the Message tuple
#: itself, its body as L{body_value} makes it, followed by the conversation id)
MESSAGE_COLUMNS = ("id, app, sender, target_type, target, msg_type, body, extras, client_id,"
                   " created, from_type, target_app, no_offline, no_notification, retracted")
_FIELDS = len(Message._fields)
#: where a message's body is among its row's values, counted from the end of the Message
_BODY_FROM_END = _FIELDS - Message._fields.index("body")
_MESSAGE_WIDTH = _FIELDS + 1  # the Message's fields, then conv
#: an ordinary message (a user's, to its own app, no flags) has these fields after
#: ``created``: the defaults of their columns, so its row leaves them out
_ORDINARY_TAIL = (model.FROM_USER, None, False, False, False)
_TAIL = Message._fields.index("created") + 1
assert Message._fields[_TAIL:] == ("from_type", "target_app", "no_offline", "no_notification",
                                   "retracted")
_ORDINARY_WIDTH = _TAIL + 1  # id .. created, then conv
_ORDINARY_BODY_FROM_END = _TAIL - Message._fields.index("body")


def message_from(row):
    """The L{Message} of a row of L{MESSAGE_COLUMNS}."""
    body = row[6]
    body = {"text": body} if type(body) is str else orjson.loads(body)
    return Message(row[0], row[1], row[2], row[3], row[4], row[5], body, row[7],
                   row[8], row[9], row[10], row[11], row[12] == 1, row[13] == 1, row[14] == 1)


def body_value(message):
    """How a message's body is stored: a plain text (a text message whose body is only its
    text) as that text, any other body as its JSON, a BLOB. The type of the value tells them
    apart when it is read: no JSON to write or parse for most messages."""
    body = message.body
    text = body.get("text")
    if type(text) is str and len(body) == 1 and message.msg_type == model.TEXT:
        return text
    return orjson.dumps(body)


class ConversationIds:
    """The integer id of each conversation key (C{jim.store.conversation_of}), as the messages
    table and its index store it. Used on the writer thread only.

    Ids are created inside the writing transaction, a private conversation's together with its
    participants' rows (L{add_participants}); after any rollback L{forget} must run, since ids
    created by the rolled-back work no longer exist. The cache holds at most C{limit} keys and
    simply starts over when full.
    """

    def __init__(self, limit=100_000):
        self._ids = {}
        self._routes = {}  # (app, sender, target type, target) -> id: no key to make
        self._limit = limit

    def forget(self):
        self._ids.clear()
        self._routes.clear()

    def known(self, app, key):
        """The id of a conversation already in the cache, else None (no query)."""
        return self._ids.get((app, key))

    def known_for(self, message):
        """The id of a message's conversation if the cache has it, else None (no query)."""
        route = (message.app, message.sender, message.target_type, message.target)
        found = self._routes.get(route)
        if found is None:
            found = self._ids.get((message.app, conversation_of(message)))
            if found is not None:
                self._route(route, found)
        return found

    def id_for(self, db, message):
        """The id of a message's conversation, made if it is new (L{id_of})."""
        route = (message.app, message.sender, message.target_type, message.target)
        found = self._routes.get(route)
        if found is None:
            found = self.id_of(db, message.app, conversation_of(message))
            self._route(route, found)
        return found

    def _route(self, route, conversation):
        if len(self._routes) >= self._limit:
            self._routes.clear()
        self._routes[route] = conversation

    def id_of(self, db, app, key):
        cached = self._ids.get((app, key))
        if cached is not None:
            return cached
        row = db.execute("SELECT id FROM conversations WHERE app = ? AND key = ?",
                         (app, key)).fetchone()
        if row is None:
            conversation = db.execute("INSERT INTO conversations (app, key) VALUES (?, ?)",
                                      (app, key)).lastrowid
            if key.startswith("s:"):
                add_participants(db, app, key, conversation)
        else:
            (conversation,) = row
        if len(self._ids) >= self._limit:
            self._ids.clear()
        self._ids[(app, key)] = conversation
        return conversation


def participants(key):
    """The usernames of a private conversation key (L{jim.cursors.private_conversation}):
    C{s:<len(first)>:<first>:<second>}, whatever characters the names hold."""
    length, _, names = key[2:].partition(":")
    first = names[: int(length)]
    return first, names[len(first) + 1 :]


def add_participants(db, app, key, conversation):
    """The inbox's rows of a private conversation just numbered: one per participant (one for
    a conversation with oneself). Written only here, with the conversation's own row, so the
    appends pay nothing for them."""
    usernames = set(participants(key))
    db.execute("INSERT OR IGNORE INTO private_conversations (app, username, conv) VALUES "
               + ", ".join(["(?, ?, ?)"] * len(usernames)),
               [v for username in usernames for v in (app, username, conversation)])


_INSERT_MESSAGES = f"INSERT INTO messages ({MESSAGE_COLUMNS}, conv) VALUES "
_INSERT_ORDINARY = ("INSERT INTO messages (" + ", ".join(MESSAGE_COLUMNS.split(", ")[:_TAIL])
                    + ", conv) VALUES ")

#: most rows per multi-row INSERT. Each row count is its own SQL text, and preparing a long
#: INSERT costs more than running it (about 2.5 ms for 500 rows): the writer's statement cache
#: (sqlite.WRITER_STATEMENT_CACHE) keeps every shape up to this many rows, for both row
#: widths.
ROWS_PER_INSERT = 128


def _values_sql(head, width, rows):
    """C{head} (an INSERT up to its VALUES) followed by C{rows} groups of C{width} placeholders."""
    return head + ", ".join(["(" + ", ".join("?" * width) + ")"] * rows)


def _insert_rows(db, head, width, values):
    """INSERT many rows, given as one flat list of C{width} values per row, with few
    statements. Each statement releases and retakes the GIL once; one per row (executemany)
    makes the writer thread queue behind the busy reactor thread for the GIL at every row."""
    step = ROWS_PER_INSERT * width
    for start in range(0, len(values), step):
        chunk = values[start : start + step]
        db.execute(_values_sql(head, width, len(chunk) // width), chunk)


def _message_rows(appends, conversation_id):
    """C{(head, width, values)}: the INSERT up to its VALUES, the values of a row, and the flat
    values of the messages C{appends}, each body as L{body_value} makes it and each row
    followed by C{conversation_id(message)}; None as soon as that answers None (a conversation
    the caller only looks up). A body that is not JSON raises TypeError (a row refused).

    When every message is ordinary (L{_ORDINARY_TAIL}, nearly all of them), the rows stop at
    ``created`` and the table's defaults fill the rest: five parameters fewer a row, which the
    sqlite3 module binds one by one on the writer thread. A batch with another message in it
    starts over with every column (rare: the app server's options)."""
    values = []
    for message in appends:
        if message[_TAIL:] != _ORDINARY_TAIL:
            return _full_rows(appends, conversation_id)
        conversation = conversation_id(message)
        if conversation is None:
            return None
        values += message[:_TAIL]
        values[-_ORDINARY_BODY_FROM_END] = body_value(message)
        values.append(conversation)
    return _INSERT_ORDINARY, _ORDINARY_WIDTH, values


def _full_rows(appends, conversation_id):
    """L{_message_rows} with every column: the flags as integers.

    The flags are written 0 or 1, not False or True: the sqlite3 module binds a bool through
    its adapter lookup, which cost more than a microsecond a message for three of them."""
    values = []
    for message in appends:
        conversation = conversation_id(message)
        if conversation is None:
            return None
        values += message
        values[-_BODY_FROM_END] = body_value(message)
        values[-3] = 1 if message.no_offline else 0
        values[-2] = 1 if message.no_notification else 0
        values[-1] = 1 if message.retracted else 0
        values.append(conversation)
    return _INSERT_MESSAGES, _MESSAGE_WIDTH, values


def one_statement_appends(conversations, appends):
    """The C{(sql, values)} of one INSERT that stores C{appends} (L{insert_messages}' argument),
    or None when they need more than that: more rows than L{ROWS_PER_INSERT}, or a
    conversation whose id is not cached (finding or making it is another statement; nothing
    is built past it).

    Run outside BEGIN...COMMIT, one statement is a transaction of its own, committed as durably
    as any other; the writer then takes the GIL back once for the whole batch instead of three
    times (BEGIN, INSERT, COMMIT)."""
    if len(appends) > ROWS_PER_INSERT:
        return None
    rows = _message_rows(appends, conversations.known_for)
    if rows is None:
        return None
    head, width, values = rows
    return _values_sql(head, width, len(appends)), values


def insert_messages(db, conversations, appends):
    """Store C{appends}, a list of messages (with their ids). Returns one C{(True, message)}
    each."""
    head, width, values = _message_rows(appends,
                                        functools.partial(conversations.id_for, db))
    _insert_rows(db, head, width, values)
    return [(True, message) for message in appends]


def insert_message(db, conversations, message):
    """One message (see L{insert_messages})."""
    insert_messages(db, conversations, [message])
    return message


def insert_message_run(db, conversations, run):
    """Several messages appended together (C{run}, a list, each with its id: L{jim.interfaces.
    IMessageStore.append_run_then}); a job of its own, so that its caller hears once. Returns
    the list. Refused as a whole if one row is; L{jim.store.sqlite_batch} then redoes it one
    message at a time, and the job's value is the list with a Failure in place of each
    message refused."""
    insert_messages(db, conversations, run)
    return run


def insert_message_once(db, stored, conversations):
    """C{stored}, unless its sender stored a message with its client id to its target before:
    then L{model.Resent} of that one, and nothing is written."""
    if stored.client_id is not None:
        first = select_by_client_id(db, stored.app, stored.sender, stored.client_id,
                                    stored.target_type, stored.target)
        if first is not None:
            return model.Resent(first)
    insert_messages(db, conversations, [stored])
    return stored


def select_message(db, app, message_id):
    row = db.execute(f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ? AND app = ?",
                     (message_id, app)).fetchone()
    return None if row is None else message_from(row)


def select_by_client_id(db, app, sender, client_id, target_type, target):
    row = db.execute(
        f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE app = ? AND sender = ? AND client_id = ?"
        " AND target_type = ? AND target = ? ORDER BY id LIMIT 1",
        (app, sender, client_id, target_type, target),
    ).fetchone()
    return None if row is None else message_from(row)


def retract_message(db, app, message_id):
    """Mark a message retracted and take it out of the conversation index (into
    conversation_retracted), in one job."""
    message = select_message(db, app, message_id)
    if message is None:
        raise JimError(errors.NO_SUCH_MESSAGE, f"no message {message_id}")
    if message.retracted:
        raise JimError(errors.ALREADY_RETRACTED, f"message {message_id} is retracted already")
    db.execute("DELETE FROM conversation_index WHERE conv = (SELECT conv FROM messages"
               " WHERE id = ?) AND created = ? AND id = ?",
               (message_id, message.created, message_id))
    # the inbox still counts it among its conversation's latest messages
    db.execute("INSERT OR IGNORE INTO conversation_retracted (conv, created, id)"
               " SELECT conv, created, id FROM messages WHERE id = ?", (message_id,))
    db.execute("UPDATE messages SET retracted = 1 WHERE id = ?", (message_id,))
    # and out of the report's indexes (migration 13), if the index job put it there
    db.execute("DELETE FROM report_index WHERE app = ? AND created = ? AND id = ?",
               (app, message.created, message_id))
    db.execute("DELETE FROM report_user_index WHERE app = ? AND username IN (?, ?)"
               " AND created = ? AND id = ?",
               (app, message.sender, message.target, message.created, message_id))
    return message._replace(retracted=True)

