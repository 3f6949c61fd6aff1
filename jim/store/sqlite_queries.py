# -*- test-case-name: tests.test_store_sqlite,tests.test_store_contract -*-
"""The SQL of L{jim.store.sqlite.SqliteStore}: one plain function per query, over a connection.

Writes run on the writer thread inside a batch's transaction, reads on the reader thread.
"""
import sqlite3

from jim import errors, model
from jim.errors import JimError
from jim.model import MAX_INT64, App, Group, Message, User
from jim.store import conversation_of

# The queries. Each is a plain function over a connection: writes run on the writer thread inside
# a batch's transaction (and their own savepoint), reads on the reader thread.

_APP_COLUMNS = "key, secret_hash, name, created"
_USER_COLUMNS = "app, username, password, nickname, avatar, signature, created"
_GROUP_COLUMNS = "app, gid, name, owner, avatar, created"
_MESSAGE_COLUMNS = "id, app, sender, target_type, target, msg_type, content, extras, client_id, created"
#: SQLite allows at most 32766 bound parameters per statement; stay far below
_IN_CHUNK = 500


def _prefixed(columns, table):
    return ", ".join(f"{table}.{column}" for column in columns.split(", "))


def insert_app(db, app):
    try:
        db.execute(f"INSERT INTO apps ({_APP_COLUMNS}) VALUES (?, ?, ?, ?)",
                   (app.key, app.secret_hash, app.name, app.created))
    except sqlite3.IntegrityError:
        raise JimError(errors.BAD_PARAMETER, f"app key {app.key!r} is taken") from None


def select_app(db, key):
    row = db.execute(f"SELECT {_APP_COLUMNS} FROM apps WHERE key = ?", (key,)).fetchone()
    return None if row is None else App(*row)


def insert_user(db, user):
    try:
        db.execute(
            f"INSERT INTO users ({_USER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (user.app, user.username, user.password, user.nickname, user.avatar,
             user.signature, user.created),
        )
    except sqlite3.IntegrityError:
        raise JimError(errors.USER_EXISTS, f"user {user.username!r} exists",
                       http_status=403) from None


def select_user(db, app, username):
    row = db.execute(f"SELECT {_USER_COLUMNS} FROM users WHERE app = ? AND username = ?",
                     (app, username)).fetchone()
    return None if row is None else User(*row)


def select_users(db, app, usernames):
    wanted = list(dict.fromkeys(usernames))
    found = []
    for start in range(0, len(wanted), _IN_CHUNK):
        chunk = wanted[start : start + _IN_CHUNK]
        marks = ", ".join("?" * len(chunk))
        rows = db.execute(
            f"SELECT {_USER_COLUMNS} FROM users WHERE app = ? AND username IN ({marks})",
            (app, *chunk),
        )
        found.extend(User(*row) for row in rows)
    return found


def update_password(db, app, username, password):
    changed = db.execute("UPDATE users SET password = ? WHERE app = ? AND username = ?",
                         (password, app, username))
    if changed.rowcount == 0:
        raise JimError(errors.NO_SUCH_USER, f"no user {username!r}", http_status=403)


def insert_group(db, group):
    added = db.execute(
        f"INSERT OR IGNORE INTO groups ({_GROUP_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
        (group.app, group.gid, group.name, group.owner, group.avatar, group.created),
    )
    return added.rowcount == 1


def select_group(db, app, gid):
    row = db.execute(f"SELECT {_GROUP_COLUMNS} FROM groups WHERE app = ? AND gid = ?",
                     (app, gid)).fetchone()
    return None if row is None else Group(*row)


def insert_member(db, app, gid, username):
    try:
        added = db.execute("INSERT OR IGNORE INTO members (app, gid, username) VALUES (?, ?, ?)",
                           (app, gid, username))
    except sqlite3.IntegrityError:  # the foreign key: no such group
        raise JimError(errors.BAD_PARAMETER, f"no group {gid!r}") from None
    return added.rowcount == 1


def select_group_members(db, app, gid):
    rows = db.execute("SELECT username FROM members WHERE app = ? AND gid = ? ORDER BY joined",
                      (app, gid))
    return [username for (username,) in rows]


def select_user_groups(db, app, username):
    rows = db.execute(
        f"SELECT {_prefixed(_GROUP_COLUMNS, 'g')} FROM members AS m"
        " JOIN groups AS g ON g.app = m.app AND g.gid = m.gid"
        " WHERE m.app = ? AND m.username = ? ORDER BY m.joined",
        (app, username),
    )
    return [Group(*row) for row in rows]


class ConversationIds:
    """The integer id of each conversation key (C{jim.store.conversation_of}), as the messages
    table and its index store it. Used on the writer thread only.

    Ids are created inside the writing transaction; after any rollback L{forget} must run, since
    ids created by the rolled-back work no longer exist. The cache holds at most C{limit} keys
    and simply starts over when full.
    """

    def __init__(self, limit=100_000):
        self._ids = {}
        self._limit = limit

    def forget(self):
        self._ids.clear()

    def known(self, app, key):
        """The id of a conversation already in the cache, else None (no query)."""
        return self._ids.get((app, key))

    def id_of(self, db, app, key):
        cached = self._ids.get((app, key))
        if cached is not None:
            return cached
        row = db.execute("SELECT id FROM conversations WHERE app = ? AND key = ?",
                         (app, key)).fetchone()
        if row is None:
            conversation = db.execute("INSERT INTO conversations (app, key) VALUES (?, ?)",
                                      (app, key)).lastrowid
        else:
            (conversation,) = row
        if len(self._ids) >= self._limit:
            self._ids.clear()
        self._ids[(app, key)] = conversation
        return conversation


_INSERT_MESSAGES = f"INSERT INTO messages ({_MESSAGE_COLUMNS}, conv) VALUES "
_MESSAGE_WIDTH = 11  # Message's fields (in _MESSAGE_COLUMNS order; test_store_sqlite checks), conv
_INSERT_OFFLINES = "INSERT OR IGNORE INTO offline (app, username, message_id) VALUES "

#: most rows per multi-row INSERT. Each row count is its own SQL text, and preparing a long
#: INSERT costs more than running it (about 2.5 ms for 500 rows): the writer's statement cache
#: (sqlite.WRITER_STATEMENT_CACHE) keeps every shape up to this many rows, for both tables.
ROWS_PER_INSERT = 128


def _values_sql(head, width, rows):
    """C{head} (an INSERT up to its VALUES) followed by C{rows} groups of C{width} placeholders."""
    return head + ", ".join(["(" + ", ".join("?" * width) + ")"] * rows)


_INSERT_OFFLINE = _values_sql(_INSERT_OFFLINES, 3, 1)


def _insert_rows(db, head, width, values):
    """INSERT many rows, given as one flat list of C{width} values per row, with few
    statements. Each statement releases and retakes the GIL once; one per row (executemany)
    makes the writer thread queue behind the busy reactor thread for the GIL at every row."""
    step = ROWS_PER_INSERT * width
    for start in range(0, len(values), step):
        chunk = values[start : start + step]
        db.execute(_values_sql(head, width, len(chunk) // width), chunk)


def _message_values(appends, conversation_id):
    """The flat INSERT values of the messages of C{appends}, each followed by
    C{conversation_id(app, key)}."""
    values = []
    for message, _ in appends:
        values += message
        values.append(conversation_id(message.app, conversation_of(message)))
    return values


def one_statement_appends(conversations, appends):
    """The C{(sql, values)} of one INSERT that stores C{appends} (L{insert_messages}' argument),
    or None when they need more than that: more rows than L{ROWS_PER_INSERT}, offline marks, or
    a conversation whose id is not cached (finding or making it is another statement).

    Run outside BEGIN...COMMIT, one statement is a transaction of its own, committed as durably
    as any other; the writer then takes the GIL back once for the whole batch instead of three
    times (BEGIN, INSERT, COMMIT)."""
    if len(appends) > ROWS_PER_INSERT or any(offline_for for _, offline_for in appends):
        return None
    values = _message_values(appends, conversations.known)
    if None in values[_MESSAGE_WIDTH - 1 :: _MESSAGE_WIDTH]:  # a conversation not cached
        return None
    return _values_sql(_INSERT_MESSAGES, _MESSAGE_WIDTH, len(appends)), values


def insert_messages(db, conversations, appends):
    """Store C{appends}, a list of C{(message, offline_for)}: the messages and the offline
    marks of each for the users in its C{offline_for}. Returns one C{(True, message)} each."""
    values = _message_values(appends, lambda app, key: conversations.id_of(db, app, key))
    _insert_rows(db, _INSERT_MESSAGES, _MESSAGE_WIDTH, values)
    marks = [v for m, offline_for in appends for user in offline_for for v in (m.app, user, m.id)]
    if marks:
        _insert_rows(db, _INSERT_OFFLINES, 3, marks)
    return [(True, message) for message, _ in appends]


def insert_message(db, conversations, message, offline_for):
    """One message and its offline marks (see L{insert_messages})."""
    insert_messages(db, conversations, [(message, offline_for)])
    return message


def insert_offline(db, app, message_id, usernames):
    row = db.execute("SELECT 1 FROM messages WHERE id = ? AND app = ?", (message_id, app)).fetchone()
    if row is None:
        raise JimError(errors.BAD_PARAMETER, f"no message {message_id}")
    _mark_offline(db, app, message_id, usernames)


def _mark_offline(db, app, message_id, usernames):
    db.executemany(_INSERT_OFFLINE, [(app, username, message_id) for username in usernames])


def select_by_client_id(db, app, sender, client_id, target_type, target):
    row = db.execute(
        f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE app = ? AND sender = ? AND client_id = ?"
        " AND target_type = ? AND target = ? ORDER BY id LIMIT 1",
        (app, sender, client_id, target_type, target),
    ).fetchone()
    return None if row is None else Message(*row)


def take_offline(db, app, username, peer, gid, limit=None):
    query = (f"SELECT {_prefixed(_MESSAGE_COLUMNS, 'm')} FROM offline AS o"
             " JOIN messages AS m ON m.id = o.message_id WHERE o.app = ? AND o.username = ?")
    params = [app, username]
    if peer is not None:
        query += " AND m.target_type = ? AND m.sender = ? AND m.target = ?"
        params += [model.SINGLE, peer, username]
    if gid is not None:
        query += " AND m.target_type = ? AND m.target = ?"
        params += [model.GROUP, gid]
    query += " ORDER BY o.message_id"
    if limit is not None:
        query += " LIMIT ?"
        params.append(limit)
    messages = [Message(*row) for row in db.execute(query, params)]
    db.executemany("DELETE FROM offline WHERE app = ? AND username = ? AND message_id = ?",
                   [(app, username, message.id) for message in messages])
    return messages


def select_history(db, app, conversation, begin, end, offset, count):
    """A page of a conversation's history in (created, id) order: the newest C{count}, or
    C{count} from C{offset} on. Messages up to the state's C{indexed_upto} come from
    conversation_index, later ones from a scan of the tail of messages (see
    L{index_conversations}). One statement: each one is a GIL hand-over for the reader thread."""
    where = ""
    bounds = []
    if begin is not None:
        where += " AND created >= ?"
        bounds.append(begin)
    if end is not None:
        where += " AND created <= ?"
        bounds.append(end)
    if offset is None:
        order, limit, limits = "created DESC, id DESC", "LIMIT ?", [count]
        wanted = count
    else:
        order, limit, limits = "created, id", "LIMIT ? OFFSET ?", [count, offset]
        wanted = min(count + offset, MAX_INT64)  # a LIMIT is a 64-bit integer
    query = (
        "WITH c(conv) AS (SELECT id FROM conversations WHERE app = ? AND key = ?)"
        f" SELECT {_MESSAGE_COLUMNS} FROM messages WHERE id IN ("
        f" SELECT id FROM ("
        f"  SELECT * FROM (SELECT created, id FROM conversation_index"
        f"   WHERE conv = (SELECT conv FROM c){where} ORDER BY {order} LIMIT ?)"
        f"  UNION ALL"
        f"  SELECT created, id FROM messages"
        f"   WHERE id > (SELECT indexed_upto FROM conversation_index_state)"
        f"   AND conv = (SELECT conv FROM c){where}"
        f" ) ORDER BY {order} {limit}"
        f") ORDER BY {order}"
    )
    params = [app, conversation, *bounds, wanted, *bounds, *limits]
    messages = [Message(*row) for row in db.execute(query, params)]
    return messages[::-1] if offset is None else messages


#: index the tail once this many messages were written since the last time
INDEX_EVERY = 1000


def index_conversations(db):
    """Copy the messages written since the last call into conversation_index (one batch into
    a B-tree keyed by conversation touches each leaf page once, where a per-row index would
    rewrite one leaf per conversation at every commit). Returns how many were indexed."""
    added = db.execute(
        "INSERT INTO conversation_index (conv, created, id) SELECT conv, created, id"
        " FROM messages WHERE id > (SELECT indexed_upto FROM conversation_index_state)"
    ).rowcount
    if added:
        db.execute("UPDATE conversation_index_state SET indexed_upto = (SELECT MAX(id) FROM messages)")
    return added
