# -*- test-case-name: tests.store_contract.test_rooms -*-
"""The SQL of the chat-room area of L{jim.store.sqlite.SqliteStore}: the tables C{rooms},
C{room_members} and C{room_id_marks} (writes on the writer thread inside a batch, reads on the
reader thread).

Rooms are listed in creation order (their rowid, C{seq}), members in the order they came in
(theirs). A write that changes several rows is one function, so one job: it makes its checks
before its first change, and is committed whole or, if it fails, undone whole by its
savepoint. A read of several rows runs in one transaction, so from one snapshot."""
import attr

from jim import model
from jim.model import MAX_INT64, Room, RoomMember
from jim.store import next_room_id
from jim.store import in_room, no_such_room, not_in_room, room_full
from jim.store.sqlite_silence_queries import keep_silences_of
from jim.store.sqlite_sql_helpers import assignments, chunks, counted_page, marks, prefix_range

#: the columns of a Room, in the order of its fields
_COLUMNS = "app, id, name, description, owner, max_members, ctime, mtime"
#: the columns of a RoomMember, in the order of its fields
_MEMBER_COLUMNS = "username, silenced, joined"
#: a row of room_members, but its seq
_INSERT_MEMBER = ("INSERT INTO room_members (app, room_id, username, silenced, joined)"
                  " VALUES (?, ?, ?, ?, ?)")


def _member(row):
    username, silenced, joined = row
    return RoomMember(username, bool(silenced), joined)


def _ids(room_ids):
    """C{room_ids} without repeats, in order, but those no row can have (beyond 64 bits)."""
    return [i for i in dict.fromkeys(room_ids) if -MAX_INT64 - 1 <= i <= MAX_INT64]


def _select_room(db, app, room_id):
    if not _ids([room_id]):
        return None
    row = db.execute(f"SELECT {_COLUMNS} FROM rooms WHERE app = ? AND id = ?",
                     (app, room_id)).fetchone()
    return None if row is None else Room(*row)


def _existing(db, app, room_id):
    room = _select_room(db, app, room_id)
    if room is None:
        raise no_such_room(room_id)
    return room


def _is_member(db, app, room_id, username):
    return db.execute("SELECT 1 FROM room_members WHERE app = ? AND room_id = ? AND username = ?",
                      (app, room_id, username)).fetchone() is not None


def _insert_members(db, app, room_id, members):
    db.executemany(_INSERT_MEMBER, [(app, room_id, m.username, m.silenced, m.joined)
                                    for m in members])


def insert_room(db, room, members):
    """The room with the app's next id, its members, and the app's mark in C{room_id_marks}
    raised to that id, in one job."""
    app = room.app
    row = db.execute("SELECT last_id FROM room_id_marks WHERE app = ?", (app,)).fetchone()
    room = attr.evolve(room, id=next_room_id(0 if row is None else row[0]))
    db.execute(f"INSERT INTO rooms ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
               attr.astuple(room, recurse=False))
    db.execute("INSERT INTO room_id_marks (app, last_id) VALUES (?, ?) ON CONFLICT (app)"
               " DO UPDATE SET last_id = excluded.last_id", (app, room.id))
    _insert_members(db, app, room.id, members)
    return room


def select_rooms(db, app, room_ids):
    """The rooms of these ids that exist, in the order asked, from one snapshot."""
    found = {}
    db.execute("BEGIN")
    try:
        for part in chunks(_ids(room_ids)):
            rows = db.execute(f"SELECT {_COLUMNS} FROM rooms WHERE app = ?"
                              f" AND id IN ({marks(len(part))})", (app, *part))
            found.update((row[1], Room(*row)) for row in rows)
    finally:
        db.execute("COMMIT")
    return [found[i] for i in dict.fromkeys(room_ids) if i in found]


def update_room(db, app, room_id, changes):
    _existing(db, app, room_id)
    if changes:
        clause, values = assignments(changes)
        db.execute(f"UPDATE rooms SET {clause} WHERE app = ? AND id = ?",
                   (*values, app, room_id))
    return _select_room(db, app, room_id)


def delete_room(db, app, room_id):
    _existing(db, app, room_id)
    db.execute("DELETE FROM room_members WHERE app = ? AND room_id = ?", (app, room_id))
    db.execute("DELETE FROM rooms WHERE app = ? AND id = ?", (app, room_id))


def select_room_page(db, app, start, count):
    where = "FROM rooms WHERE app = ?"
    return counted_page(db, f"SELECT COUNT(*) {where}", f"SELECT {_COLUMNS} {where} ORDER BY seq",
                        (app,), start, count, lambda row: Room(*row))


def _size(db, app, room_id):
    (size,) = db.execute("SELECT COUNT(*) FROM room_members WHERE app = ? AND room_id = ?",
                         (app, room_id)).fetchone()
    return size


def insert_room_members(db, app, room_id, members):
    """All the members or none: none of them in the room yet, the room's most respected."""
    room = _existing(db, app, room_id)
    if any(_is_member(db, app, room_id, m.username) for m in members):
        raise in_room(room_id)
    if members and _size(db, app, room_id) + len(members) > room.max_members:
        raise room_full(room_id, room.max_members)
    _insert_members(db, app, room_id, members)


def delete_room_members(db, app, room_id, usernames):
    """All the members or none: each of them in the room."""
    _existing(db, app, room_id)
    if not all(_is_member(db, app, room_id, username) for username in usernames):
        raise not_in_room(room_id)
    keep_silences_of(db, "room_members", "room_id", app, room_id,
                     model.silence_place(model.ROOMS_AREA, room_id), usernames)
    db.executemany("DELETE FROM room_members WHERE app = ? AND room_id = ? AND username = ?",
                   [(app, room_id, username) for username in usernames])


def _select_member(db, app, room_id, username):
    row = db.execute(f"SELECT {_MEMBER_COLUMNS} FROM room_members"
                     " WHERE app = ? AND room_id = ? AND username = ?",
                     (app, room_id, username)).fetchone()
    if row is None:
        raise not_in_room(room_id)
    return _member(row)


def update_room_member(db, app, room_id, username, changes):
    _existing(db, app, room_id)
    _select_member(db, app, room_id, username)
    if changes:
        clause, values = assignments(changes)
        db.execute(f"UPDATE room_members SET {clause}"
                   " WHERE app = ? AND room_id = ? AND username = ?",
                   (*values, app, room_id, username))
    return _select_member(db, app, room_id, username)


def select_room_members(db, app, room_id, start, count):
    """C{(total, [RoomMember, ...])} from one snapshot (C{count} None: all from C{start})."""
    db.execute("BEGIN")
    try:
        _existing(db, app, room_id)
        total = _size(db, app, room_id)
        rows = db.execute(f"SELECT {_MEMBER_COLUMNS} FROM room_members"
                          " WHERE app = ? AND room_id = ? ORDER BY seq LIMIT ? OFFSET ?",
                          (app, room_id, -1 if count is None else count, start)).fetchall()
    finally:
        db.execute("COMMIT")
    return total, [_member(row) for row in rows]


def select_room_sizes(db, app, room_ids):
    """C{{room id: member count}} of the rooms that exist, from one snapshot."""
    sizes = {}
    db.execute("BEGIN")
    try:
        for part in chunks(_ids(room_ids)):
            sizes.update(db.execute(
                "SELECT r.id, (SELECT COUNT(*) FROM room_members AS m"
                "              WHERE m.app = r.app AND m.room_id = r.id)"
                f" FROM rooms AS r WHERE r.app = ? AND r.id IN ({marks(len(part))})",
                (app, *part)))
    finally:
        db.execute("COMMIT")
    return sizes


def select_user_rooms(db, app, username):
    return [room_id for (room_id,) in db.execute(
        "SELECT room_id FROM room_members WHERE app = ? AND username = ? ORDER BY seq",
        (app, username))]


def select_members_with_prefix(db, app, prefix):
    """A range of the (app, username) index (C{room_members_by_user}), sorted here: an ORDER
    BY room_id would have SQLite read every member of the app in another index instead."""
    rows = db.execute("SELECT room_id, username FROM room_members WHERE app = ?"
                      " AND username >= ? AND username < ?", (app, *prefix_range(prefix)))
    return sorted((room_id, username) for room_id, username in rows)


def delete_memberships(db, app, username):
    """Take the user out of every room of the app; how many."""
    return db.execute("DELETE FROM room_members WHERE app = ? AND username = ?",
                      (app, username)).rowcount
