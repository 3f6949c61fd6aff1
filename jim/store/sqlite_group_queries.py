# -*- test-case-name: tests.store_contract.test_groups -*-
"""The SQL of the groups area of L{jim.store.sqlite.SqliteStore}: plain functions over a
connection (writes on the writer thread inside a batch, reads on the reader thread).

Groups are listed in creation order (their rowid, C{seq}); members in joining order (theirs,
C{joined}). A write that changes several rows is one function, so one job: it is committed
whole or, if it fails, undone whole by its savepoint."""
import attr

from jim import errors, model
from jim.errors import JimError
from jim.model import Group, Member
from jim.store import next_gid
from jim.store.sqlite_silence_queries import keep_silences_of
from jim.store.sqlite_sql_helpers import (
    assignments, changes_a_row, counted_page, prefix_range, prefixed,
)

#: the columns of a Group, in the order of its fields
_COLUMNS = "app, gid, name, description, avatar, owner, flag, max_members, ctime, mtime, alias"
#: the fields whose column has another name ("desc" is an SQL keyword)
_GROUP_COLUMN = {"desc": "description"}
#: the columns of a Member, in the order of its fields
_MEMBER_COLUMNS = "username, role, silenced, joined_ms"


def _member(row):
    username, role, silenced, joined = row
    return Member(username, role, bool(silenced), joined)


def select_group(db, app, gid):
    row = db.execute(f"SELECT {_COLUMNS} FROM groups WHERE app = ? AND gid = ?",
                     (app, gid)).fetchone()
    return None if row is None else Group(*row)


def _existing(db, app, gid):
    group = select_group(db, app, gid)
    if group is None:
        raise JimError(errors.NO_SUCH_GROUP, f"no group {gid}")
    return group


def _insert_members(db, app, gid, members):
    insert = ("INSERT OR IGNORE INTO members (app, gid, username, role, silenced, joined_ms)"
              " VALUES (?, ?, ?, ?, ?, ?)")
    return [member.username for member in members if changes_a_row(
        db, insert, (app, gid, member.username, member.role, member.silenced, member.joined))]


def insert_group(db, group, members):
    """The group and its members, and the app's mark in C{gid_marks} raised to its gid, in
    one job. A gid of 0 becomes one above the mark: never a gid the app ever had, since a
    deleted group's history is still keyed by it."""
    app = group.app
    if group.gid == 0:
        row = db.execute("SELECT last_gid FROM gid_marks WHERE app = ?", (app,)).fetchone()
        last = 0 if row is None else row[0]
        group = attr.evolve(group, gid=next_gid(last))
    if select_group(db, app, group.gid) is not None:
        raise JimError(errors.GROUP_EXISTS, f"group {group.gid} exists")
    if group.alias is not None and select_group_by_alias(db, app, group.alias) is not None:
        raise JimError(errors.GROUP_EXISTS, f"group {group.alias!r} exists")
    db.execute(f"INSERT INTO groups ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
               attr.astuple(group, recurse=False))
    db.execute("INSERT INTO gid_marks (app, last_gid) VALUES (?, ?) ON CONFLICT (app)"
               " DO UPDATE SET last_gid = MAX(last_gid, excluded.last_gid)", (app, group.gid))
    _insert_members(db, app, group.gid, members)
    return group


def select_group_by_alias(db, app, alias):
    row = db.execute(f"SELECT {_COLUMNS} FROM groups WHERE app = ? AND alias = ?",
                     (app, alias)).fetchone()
    return None if row is None else Group(*row)


def update_group(db, app, gid, changes):
    _existing(db, app, gid)
    if changes:
        clause, values = assignments(changes, _GROUP_COLUMN)
        db.execute(f"UPDATE groups SET {clause} WHERE app = ? AND gid = ?", (*values, app, gid))
    return select_group(db, app, gid)


def delete_group(db, app, gid):
    _existing(db, app, gid)
    db.execute("DELETE FROM members WHERE app = ? AND gid = ?", (app, gid))
    db.execute("DELETE FROM groups WHERE app = ? AND gid = ?", (app, gid))


def select_groups(db, app, start, count):
    where = "FROM groups WHERE app = ?"
    return counted_page(db, f"SELECT COUNT(*) {where}", f"SELECT {_COLUMNS} {where} ORDER BY seq",
                        (app,), start, count, lambda row: Group(*row))


def insert_members(db, app, gid, members):
    _existing(db, app, gid)
    return _insert_members(db, app, gid, members)


def delete_members(db, app, gid, usernames):
    """The members removed; the silences of those silenced are kept (table C{silences})."""
    names = list(dict.fromkeys(usernames))
    keep_silences_of(db, "members", "gid", app, gid,
                     model.silence_place(model.GROUPS_AREA, gid), names)
    delete = "DELETE FROM members WHERE app = ? AND gid = ? AND username = ?"
    return [username for username in names if changes_a_row(db, delete, (app, gid, username))]


def _select_member(db, app, gid, username):
    row = db.execute(f"SELECT {_MEMBER_COLUMNS} FROM members"
                     " WHERE app = ? AND gid = ? AND username = ?", (app, gid, username)).fetchone()
    if row is None:
        raise JimError(errors.NOT_MEMBER, f"{username!r} is not a member of group {gid}")
    return _member(row)


def update_member(db, app, gid, username, changes):
    _select_member(db, app, gid, username)
    if changes:
        clause, values = assignments(changes)
        db.execute(f"UPDATE members SET {clause} WHERE app = ? AND gid = ? AND username = ?",
                   (*values, app, gid, username))
    return _select_member(db, app, gid, username)


def update_owner(db, app, gid, username):
    """The owner becomes a plain member and C{username} the owner, in one job."""
    group = _existing(db, app, gid)
    _select_member(db, app, gid, username)
    if group.owner != username:
        db.execute("UPDATE members SET role = ? WHERE app = ? AND gid = ? AND username = ?",
                   (model.MEMBER, app, gid, group.owner))
    db.execute("UPDATE members SET role = ? WHERE app = ? AND gid = ? AND username = ?",
               (model.OWNER, app, gid, username))
    db.execute("UPDATE groups SET owner = ? WHERE app = ? AND gid = ?", (username, app, gid))
    return select_group(db, app, gid)


def select_members(db, app, gid):
    rows = db.execute(f"SELECT {_MEMBER_COLUMNS} FROM members WHERE app = ? AND gid = ?"
                      " ORDER BY joined", (app, gid))
    return [_member(row) for row in rows]


def select_user_groups(db, app, username):
    rows = db.execute(
        f"SELECT {prefixed(_COLUMNS, 'g')} FROM members AS m JOIN groups AS g ON g.app = m.app AND g.gid = m.gid"
        " WHERE m.app = ? AND m.username = ? ORDER BY m.joined",
        (app, username),
    )
    return [Group(*row) for row in rows]


def select_members_with_prefix(db, app, prefix):
    """A range of the (app, username) index (C{members_by_user}), sorted here: an ORDER BY
    gid would have SQLite read every member of the app in the (app, gid) index instead."""
    rows = db.execute("SELECT gid, username FROM members WHERE app = ? AND username >= ?"
                      " AND username < ?", (app, *prefix_range(prefix)))
    return sorted((gid, username) for gid, username in rows)
