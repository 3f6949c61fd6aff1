# -*- test-case-name: tests.store_contract.test_reports -*-
"""The SQL of the report area of L{jim.store.sqlite.SqliteStore} (migration 13).

Messages up to C{conversation_index_state.indexed_upto} are found through the report tables
(the app-wide and per-user scopes, the figures) or C{conversation_index} (the group and chat room
scopes); later ones by a scan of the short tail of C{messages} above it, as history is.
"""
from jim.cursors import group_conversation, room_conversation
from jim.model import REPORT_HOUR_MS, SINGLE
from jim.store.sqlite_message_queries import MESSAGE_COLUMNS, message_from

#: the tail: the messages the index job has not indexed yet
_TAIL = "FROM messages WHERE id > (SELECT indexed_upto FROM conversation_index_state)"
_HOUR = f"(created - created % {REPORT_HOUR_MS})"
#: rows a sweep job deletes (or, for the per-user index, looks at) at most
SWEEP_BATCH = 5000


def index_reports(db):
    """Copy what the index job is indexing (the tail) into the report tables; called by
    L{jim.store.sqlite_history_queries.index_conversations} before it moves C{indexed_upto}."""
    db.execute(f"INSERT OR IGNORE INTO report_index (app, created, id)"
               f" SELECT app, created, id {_TAIL} AND retracted = 0")
    # private messages need no row here: a user's scope reads its private conversations
    db.execute(f"INSERT OR IGNORE INTO report_user_index (app, username, created, id)"
               f" SELECT app, sender, created, id {_TAIL} AND retracted = 0"
               f" AND target_type != '{SINGLE}'")
    db.execute(f"INSERT INTO report_hours (app, hour, target_type, msg_type, count)"
               f" SELECT app, {_HOUR}, target_type, msg_type, COUNT(*) {_TAIL}"
               f" GROUP BY 1, 2, 3, 4"
               f" ON CONFLICT (app, hour, target_type, msg_type)"
               f" DO UPDATE SET count = count + excluded.count")
    # (UNION: each name once, not once a message, before the index is probed for it)
    db.execute(f"INSERT OR IGNORE INTO report_names (app, what, hour, name)"
               f" SELECT app, 'sender', {_HOUR}, sender {_TAIL}"
               f" UNION SELECT app, 'group', {_HOUR}, target {_TAIL}"
               f" AND target_type = 'group'")


def _scope_sql(app, scope):
    """(the indexed parts: a list of SELECTs of (created, id) with their parameters, the tail's
    condition with its parameters) of a scope; each part and the tail take the window's
    conditions after them."""
    if scope is None:
        return [("SELECT created, id FROM report_index WHERE app = ?", [app])], \
            "app = ?", [app]
    kind, name = scope
    if kind == "user":
        # what they sent to groups and rooms; their private conversations since the sweep
        return [
            ("SELECT created, id FROM report_user_index WHERE app = ? AND username = ?",
             [app, name]),
            ("SELECT created, id FROM conversation_index WHERE conv IN (SELECT conv FROM"
             " private_conversations WHERE app = ? AND username = ?)"
             " AND created >= (SELECT swept_before FROM report_state)", [app, name]),
        ], f"app = ? AND (sender = ? OR (target_type = '{SINGLE}' AND target = ?))", \
            [app, name, name]
    key = group_conversation(name) if kind == "group" else room_conversation(name)
    conv = "(SELECT id FROM conversations WHERE app = ? AND key = ?)"
    return [(f"SELECT created, id FROM conversation_index WHERE conv = {conv}", [app, key])], \
        f"conv = {conv}", [app, key]


def select_report_messages(db, app, scope, begin, end, after, count):
    parts, tail, tail_args = _scope_sql(app, scope)
    low = (begin, -1) if after is None else tuple(after)
    window = " AND created >= ? AND created <= ? AND (created, id) > (?, ?)"
    window_args = [begin, end, *low]
    selects, params = [], []
    for part, args in parts:
        selects.append(f"SELECT * FROM ({part}{window} ORDER BY created, id LIMIT ?)")
        params += [*args, *window_args, count]
    selects.append(f"SELECT created, id {_TAIL} AND retracted = 0 AND {tail}{window}")
    params += [*tail_args, *window_args, count]
    query = (
        f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id IN ("
        f" SELECT id FROM ({' UNION ALL '.join(selects)}) ORDER BY created, id LIMIT ?"
        f") ORDER BY created, id"
    )
    return [message_from(row) for row in db.execute(query, params)]


def count_report_messages(db, app, scope, begin, end):
    parts, tail, tail_args = _scope_sql(app, scope)
    window = " AND created >= ? AND created <= ?"
    total = 0
    for part, args in parts:
        total += db.execute(f"SELECT COUNT(*) FROM ({part}{window})",
                            [*args, begin, end]).fetchone()[0]
    return total + db.execute(f"SELECT COUNT(*) {_TAIL} AND retracted = 0 AND {tail}{window}",
                              [*tail_args, begin, end]).fetchone()[0]


def select_message_counts(db, app, begin, end):
    counts = {}
    rows = db.execute(
        "SELECT hour, target_type, msg_type, count FROM report_hours"
        " WHERE app = ? AND hour >= ? AND hour < ?"
        f" UNION ALL SELECT {_HOUR}, target_type, msg_type, COUNT(*) {_TAIL}"
        f" AND app = ? AND {_HOUR} >= ? AND {_HOUR} < ? GROUP BY 1, 2, 3",
        (app, begin, end, app, begin, end))
    for hour, target_type, msg_type, count in rows:
        key = (hour, target_type, msg_type)
        counts[key] = counts.get(key, 0) + count
    return counts


def count_distinct(db, app, what, begin, end):
    tail = ""
    args = [app, what, begin, end]
    if what in ("sender", "group"):
        name = "sender" if what == "sender" else "target"
        only = "" if what == "sender" else " AND target_type = 'group'"
        tail = (f" UNION SELECT {name} {_TAIL} AND app = ?{only}"
                f" AND {_HOUR} >= ? AND {_HOUR} < ?")
        args += [app, begin, end]
    (count,) = db.execute(
        "SELECT COUNT(DISTINCT name) FROM (SELECT name FROM report_names"
        f" WHERE app = ? AND what = ? AND hour >= ? AND hour < ?{tail})", args).fetchone()
    return count


def insert_active(db, app, usernames, hour):
    db.executemany("INSERT OR IGNORE INTO report_names (app, what, hour, name)"
                   " VALUES (?, 'active', ?, ?)", [(app, hour, name) for name in usernames])


def created_histogram(db, app, kind, edges):
    table = "users" if kind == "user" else "groups"
    below = [db.execute(f"SELECT COUNT(*) FROM {table} WHERE app = ? AND ctime < ?",
                        (app, edge)).fetchone()[0] for edge in edges]
    (total,) = db.execute(f"SELECT COUNT(*) FROM {table} WHERE app = ?", (app,)).fetchone()
    marks = [0, *below, total]
    return [high - low for low, high in zip(marks, marks[1:])]


# -- the sweep: each function is one write job, deleting at most SWEEP_BATCH rows -------------

def report_apps(db):
    """The apps that have report rows (read)."""
    return [app for (app,) in db.execute(
        "SELECT DISTINCT app FROM report_hours UNION SELECT DISTINCT app FROM report_names"
        " UNION SELECT DISTINCT app FROM report_index")]


def sweep_app(db, app, before):
    """Delete up to SWEEP_BATCH rows of an app older than C{before} from each table but the
    per-user index; how many went."""
    gone = db.execute(
        "DELETE FROM report_index WHERE (app, created, id) IN (SELECT app, created, id"
        " FROM report_index WHERE app = ? AND created < ? LIMIT ?)",
        (app, before, SWEEP_BATCH)).rowcount
    gone += db.execute(
        "DELETE FROM report_hours WHERE (app, hour, target_type, msg_type) IN ("
        " SELECT app, hour, target_type, msg_type FROM report_hours WHERE app = ? AND hour < ?"
        " LIMIT ?)", (app, before, SWEEP_BATCH)).rowcount
    for what in ("sender", "group", "active"):
        gone += db.execute(
            "DELETE FROM report_names WHERE (app, what, hour, name) IN ("
            " SELECT app, what, hour, name FROM report_names WHERE app = ? AND what = ?"
            " AND hour < ? LIMIT ?)", (app, what, before, SWEEP_BATCH)).rowcount
    return gone


def mark_swept(db, before):
    """Note that the sweep forgot what is older than C{before} (never moves back)."""
    db.execute("UPDATE report_state SET swept_before = MAX(swept_before, ?)", (before,))


def sweep_user_index(db, resume, before):
    """Look at up to SWEEP_BATCH rows of the per-user index after C{resume} (a key, or None
    from the start) and delete those older than C{before}: (how many went, the key to resume
    after, or None at the end)."""
    if resume is None:
        rows = db.execute("SELECT app, username, created, id FROM report_user_index"
                          " ORDER BY app, username, created, id LIMIT ?",
                          (SWEEP_BATCH,)).fetchall()
    else:
        rows = db.execute("SELECT app, username, created, id FROM report_user_index"
                          " WHERE (app, username, created, id) > (?, ?, ?, ?)"
                          " ORDER BY app, username, created, id LIMIT ?",
                          (*resume, SWEEP_BATCH)).fetchall()
    old = [row for row in rows if row[2] < before]
    db.executemany("DELETE FROM report_user_index WHERE app = ? AND username = ?"
                   " AND created = ? AND id = ?", old)
    return len(old), (tuple(rows[-1]) if len(rows) == SWEEP_BATCH else None)
