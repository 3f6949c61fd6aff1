# -*- test-case-name: tests.store_contract.test_silences -*-
"""The SQL of the silence area of L{jim.store.sqlite.SqliteStore}: the table C{silences}, a row
per kept silence, keyed by C{(app, place, username)}, and its index by user (writes on the
writer thread inside a batch, reads on the reader thread)."""
from jim.store.sqlite_sql_helpers import chunks, marks


def insert_silences(db, app, place, usernames):
    db.executemany("INSERT OR IGNORE INTO silences (app, place, username) VALUES (?, ?, ?)",
                   [(app, place, name) for name in usernames])


def keep_silences_of(db, table, place_column, app, number, place, usernames):
    """Keep in C{place} the silences of those of C{usernames} who are silenced members in
    C{table} (C{members} or C{room_members}, the group or room C{number} in C{place_column}):
    in the same transaction as their removal that follows."""
    for chunk in chunks(list(usernames)):
        db.execute(f"INSERT OR IGNORE INTO silences (app, place, username) SELECT app, ?, username"
                   f" FROM {table} WHERE app = ? AND {place_column} = ? AND silenced != 0"
                   f" AND username IN ({marks(len(chunk))})", (place, app, number, *chunk))


def select_silenced(db, app, place, usernames):
    """The usernames of C{usernames} with a row in C{place}, in the order given."""
    wanted = list(dict.fromkeys(usernames))
    found = set()
    for chunk in chunks(wanted):
        found.update(name for (name,) in db.execute(
            "SELECT username FROM silences WHERE app = ? AND place = ? AND username IN"
            f" ({marks(len(chunk))})", (app, place, *chunk)))
    return [name for name in usernames if name in found]


def delete_silences(db, app, place, usernames):
    db.executemany("DELETE FROM silences WHERE app = ? AND place = ? AND username = ?",
                   [(app, place, name) for name in usernames])


def delete_place(db, app, place):
    db.execute("DELETE FROM silences WHERE app = ? AND place = ?", (app, place))


def delete_user(db, app, username):
    db.execute("DELETE FROM silences WHERE app = ? AND username = ?", (app, username))


def delete_users_with_prefix(db, app, prefix):
    """Through the index by user: the names from C{prefix} up to (not including) C{prefix}
    with its last character raised by one."""
    db.execute("DELETE FROM silences WHERE app = ? AND username >= ? AND username < ?",
               (app, prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)))
