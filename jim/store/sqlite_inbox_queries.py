# -*- test-case-name: tests.store_contract.test_inbox,tests.test_store_migrations -*-
"""The SQL of the inbox area of L{jim.store.sqlite.SqliteStore}: device cursors (writes, on the
writer thread inside a batch) and a user's inbox read from the message log (on the reader
thread). See docs/storage.md, "The inbox".

A read takes, of each of the user's conversations, its latest messages by id, and of those
what the cursor has not consumed. A conversation's messages are found as history finds them:
through C{conversation_index} up to C{indexed_upto}, by a scan of the short tail of
C{messages} above it. Two things differ from history:

- The latest by id, every message counted: C{conversation_index} leaves retracted messages
  out, so C{conversation_retracted} (keyed the same way) is read beside it.
- Ordered by id, not by C{(created, id)}, and only above what the cursor consumed: the index is
  ordered by C{created} first, and a message's C{created} does not always grow with its id (a
  clock set back). C{conversation_index_lows} bounds it: every indexed message with an id above
  x was created at or after L{_Lows.bound}C{(x)}, so the messages above x are a range of the
  index starting there, and a conversation with nothing new is one probe of it.
"""
import bisect
import heapq
import itertools

import orjson

from jim.cursors import Cursor, from_json, group_conversation, private_conversation
from jim.store.sqlite_history_queries import LOW_BLOCK_BITS
from jim.store.sqlite_message_queries import MESSAGE_COLUMNS, message_from
from jim.store.sqlite_sql_helpers import IN_CHUNK, chunks, marks

#: the fewest ids a read asks for at a time, when it needs fewer messages than that (some of
#: them may be left out: retracted, sent with no_offline, too old)
_LEAST_CHUNK = 32

# -- cursors (writes on the writer thread, reads on the reader thread) -------------------------


def _cursor_of(text):
    return from_json(orjson.loads(text))


def select_cursors(db, app, username):
    """C{{device: Cursor}} of the user's devices that have one."""
    rows = db.execute("SELECT device, cursor FROM cursors WHERE app = ? AND username = ?",
                      (app, username))
    return {device: _cursor_of(text) for device, text in rows}


def move_cursor(db, app, username, device, cursor):
    """Merge C{cursor} into the device's (read, merged and written in this one job: two moves
    of one cursor lose nothing whatever their order); the merged cursor."""
    row = db.execute("SELECT cursor FROM cursors WHERE app = ? AND username = ? AND device = ?",
                     (app, username, device)).fetchone()
    kept = Cursor() if row is None else _cursor_of(row[0])
    moved = kept.moved(cursor)
    if row is None or moved != kept:
        db.execute(
            "INSERT INTO cursors (app, username, device, cursor, seen) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (app, username, device) DO UPDATE"
            " SET cursor = excluded.cursor, seen = excluded.seen",
            (app, username, device, orjson.dumps(moved.to_json()).decode(), moved.seen))
    return moved


def forget_cursors(db, seen_before):
    """Forget the cursors of every app seen before C{seen_before}; how many."""
    return db.execute("DELETE FROM cursors WHERE seen < ?", (seen_before,)).rowcount


# -- reading an inbox (reader thread) ------------------------------------------------------------


def read_inbox(db, app, username, gids, cursor, after, peer, gid, since, limit, per_conversation):
    """The messages of the user's conversations (L{jim.interfaces.IInboxStore.read}), oldest
    first: of each conversation its latest C{per_conversation} by id, those the cursor has not
    consumed, none up to C{after}, none retracted or sent with C{no_offline}, none created
    before C{since}; at most C{limit}. One snapshot (one read transaction)."""
    if limit == 0 or per_conversation == 0:
        return []
    db.execute("BEGIN")
    try:
        return _read(db, app, username, gids, cursor, after, peer, gid, since, limit,
                     per_conversation)
    finally:
        db.execute("COMMIT")


def _read(db, app, username, gids, cursor, after, peer, gid, since, limit, per_conversation):
    keys = _conversations(db, app, username, gids, peer, gid)  # {conv: key}
    if not keys:
        return []
    floor = max(after, cursor.floor)
    # conv -> the id up to which each of its messages is left out
    bounds = {conv: cursor.left_out_upto(key, floor) for conv, key in keys.items()}
    (indexed_upto,) = db.execute(
        "SELECT indexed_upto FROM conversation_index_state").fetchone()
    windows = _tail(db, bounds, indexed_upto, per_conversation)
    # Older ones, in conversation_index, where the tail leaves room in the window. The ids
    # above a bound are the top of any window: the latest per_conversation of a conversation
    # that are above its bound are the latest per_conversation of those above it.
    older = {conv: bound for conv, bound in bounds.items()
             if bound < indexed_upto
             and (per_conversation is None or len(windows.get(conv, ())) < per_conversation)}
    if older:
        _indexed(db, older, windows, indexed_upto, per_conversation, since)
    return _messages(db, _unconsumed(windows, keys, cursor), since, limit)


def _conversations(db, app, username, gids, peer, gid):
    """C{{conversation id: key}} of the conversations read: the one with C{peer}, or of
    C{gid}, or the user's private ones and those of the groups in C{gids}."""
    if peer is not None:
        keys, found = [private_conversation(username, peer)], {}
    elif gid is not None:
        keys, found = [group_conversation(gid)], {}
    else:
        keys = [group_conversation(g) for g in dict.fromkeys(gids)]
        found = dict(db.execute(
            "SELECT c.id, c.key FROM private_conversations AS p"
            " JOIN conversations AS c ON c.id = p.conv WHERE p.app = ? AND p.username = ?",
            (app, username)))
    for chunk in chunks(keys):
        found.update(db.execute(
            f"SELECT id, key FROM conversations WHERE app = ? AND key IN ({marks(len(chunk))})",
            (app, *chunk)))
    return found


def _tail(db, bounds, indexed_upto, per_conversation):
    """C{{conv: [id, ...]}}: of the messages not indexed yet, each conversation's latest
    C{per_conversation} above its bound, newest first (every message counted: retracted
    ones, those with C{no_offline}). The tail is short: one scan, from its newest."""
    start = max(indexed_upto, min(bounds.values()))
    windows = {}
    for chunk in chunks(list(bounds)):
        rows = db.execute(f"SELECT id, conv FROM messages WHERE id > ?"
                          f" AND conv IN ({marks(len(chunk))}) ORDER BY id DESC",
                          (start, *chunk))
        for message_id, conv in rows:
            if message_id > bounds[conv]:
                ids = windows.setdefault(conv, [])
                if per_conversation is None or len(ids) < per_conversation:
                    ids.append(message_id)
    return windows


class _Lows:
    """The rows of conversation_index_lows from one block on: L{bound}."""

    def __init__(self, db, first_id):
        rows = db.execute("SELECT block, low FROM conversation_index_lows WHERE block >= ?"
                          " ORDER BY block", (first_id >> LOW_BLOCK_BITS,)).fetchall()
        self._blocks = [block for block, _ in rows]
        self._lows = [low for _, low in rows]
        for n in range(len(rows) - 2, -1, -1):  # the least of each row and those after it
            self._lows[n] = min(self._lows[n], self._lows[n + 1])

    def bound(self, message_id):
        """A C{created} at or below that of every indexed message with an id above
        C{message_id} (at least C{first_id}); None when there is no such message."""
        at = bisect.bisect_left(self._blocks, message_id >> LOW_BLOCK_BITS)
        return self._lows[at] if at < len(self._lows) else None


# conversations with an indexed message above their bound, created at or after a time
_ACTIVE = ("WITH w(conv, bound, low) AS (VALUES {rows}) SELECT conv FROM w WHERE EXISTS ("
           "SELECT 1 FROM conversation_index AS i"
           " WHERE i.conv = w.conv AND i.created >= w.low AND i.id > w.bound)")

# how many, up to a count, and the least id of the newest indexed messages by (created, id) of a
# conversation above a bound, created at or after a time, every message counted: the window
# (the latest by id) is among those from that id on
_NEWEST = (
    "SELECT COUNT(*), MIN(id) FROM ("
    " SELECT * FROM (SELECT created, id FROM conversation_index"
    "  WHERE conv = ? AND created >= ? AND id > ? ORDER BY created DESC, id DESC LIMIT ?)"
    " UNION ALL"
    " SELECT * FROM (SELECT created, id FROM conversation_retracted"
    "  WHERE conv = ? AND created >= ? AND id > ? AND id <= ?"
    "  ORDER BY created DESC, id DESC LIMIT ?)"
    " ORDER BY created DESC, id DESC LIMIT ?)"
)

# the latest indexed messages by id of a conversation, from an id on and created at or after
# a time, every message counted
_LATEST = (
    "SELECT id FROM ("
    " SELECT id FROM conversation_index WHERE conv = ? AND created >= ? AND id >= ?"
    " UNION ALL"
    " SELECT id FROM conversation_retracted WHERE conv = ? AND created >= ? AND id >= ?"
    "  AND id <= ?"
    ") ORDER BY id DESC LIMIT ?"
)


def _indexed(db, bounds, windows, indexed_upto, per_conversation, since):
    """Add to C{windows} each conversation's indexed messages above its bound (C{bounds}) that
    are among its latest C{per_conversation}: as many as the tail left room for."""
    lows = _Lows(db, min(bounds.values()))
    probes = []
    for conv, bound in bounds.items():
        low = lows.bound(bound)
        if low is not None:  # else nothing indexed is above it
            probes.append((conv, bound, low))
    active = set()
    for chunk in chunks(probes):
        rows = ", ".join(["(?, ?, ?)"] * len(chunk))
        # a message created before since is never read: it only takes a place in a window
        values = [v for conv, bound, low in chunk for v in (conv, bound, max(low, since))]
        active.update(conv for (conv,) in db.execute(_ACTIVE.format(rows=rows), values))
    for conv, bound, low in probes:
        if conv not in active:
            continue
        ids = windows.setdefault(conv, [])
        room = -1 if per_conversation is None else per_conversation - len(ids)
        (found, least), = db.execute(_NEWEST, (conv, low, bound, room, conv, low, bound,
                                               indexed_upto, room, room))
        if not found:
            continue
        # `found` messages from `least` on (all of those above the bound when fewer than
        # `room`): the window is the latest `room` of those from `least` on, every one of
        # which was created at or after the bound of the ids from `least` on
        since_least = lows.bound(least)
        ids += [i for (i,) in db.execute(_LATEST, (conv, since_least, least, conv, since_least,
                                                   least, indexed_upto, room))]


def _unconsumed(windows, keys, cursor):
    """The ids of C{windows} (C{{conv: [id, ...]}}) the cursor has not consumed, in order,
    found as they are asked for: a read of a few messages does not go through them all."""
    def ids_of(conv):
        key = keys[conv]
        for message_id in sorted(windows[conv]):
            if not cursor.consumed(message_id, key):
                yield message_id

    return heapq.merge(*[ids_of(conv) for conv in windows])


def _messages(db, ids, since, limit):
    """Of the messages with these ids (in order), those that are read, oldest first, at most
    C{limit}: fetched a chunk at a time, until there are enough."""
    found = []
    ids = iter(ids)
    while limit is None or len(found) < limit:
        wanted = min(IN_CHUNK, max(limit - len(found), _LEAST_CHUNK)) if limit else IN_CHUNK
        chunk = list(itertools.islice(ids, wanted))
        if not chunk:
            break
        rows = db.execute(f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id IN"
                          f" ({marks(len(chunk))}) AND retracted = 0 AND no_offline = 0"
                          " AND created >= ? ORDER BY id", (*chunk, since))
        found += [message_from(row) for row in rows]
    return found[:limit]
