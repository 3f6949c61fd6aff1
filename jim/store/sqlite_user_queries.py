# -*- test-case-name: tests.store_contract.test_users -*-
"""The SQL of the users area of L{jim.store.sqlite.SqliteStore}: plain functions over a
connection (writes on the writer thread inside a batch, reads on the reader thread)."""
from jim import errors
from jim.errors import JimError
from jim.model import User
from jim.store.sqlite_sql_helpers import assignments, chunks, counted_page, marks

#: the columns of a User, in the order of its fields
_COLUMNS = ("app, username, password, nickname, avatar, birthday, signature, gender, region,"
            " address, extras, ctime, mtime, forbidden, admin")


def _user(row):
    *fields, forbidden, admin = row
    return User(*fields, forbidden=bool(forbidden), admin=bool(admin))


def select_user(db, app, username):
    row = db.execute(f"SELECT {_COLUMNS} FROM users WHERE app = ? AND username = ?",
                     (app, username)).fetchone()
    return None if row is None else _user(row)


def insert_user(db, user):
    if db.execute("SELECT 1 FROM users WHERE app = ? AND username = ?",
                  (user.app, user.username)).fetchone():
        raise JimError(errors.USER_EXISTS, f"user {user.username!r} exists")
    db.execute(
        f"INSERT INTO users ({_COLUMNS}) VALUES ({marks(15)})",
        (user.app, user.username, user.password, user.nickname, user.avatar, user.birthday,
         user.signature, user.gender, user.region, user.address, user.extras, user.ctime,
         user.mtime, user.forbidden, user.admin),
    )



def select_users(db, app, usernames):
    found = []
    for chunk in chunks(list(dict.fromkeys(usernames))):
        rows = db.execute(
            f"SELECT {_COLUMNS} FROM users WHERE app = ? AND username IN ({marks(len(chunk))})",
            (app, *chunk),
        )
        found.extend(_user(row) for row in rows)
    return found


def update_user(db, app, username, changes):
    if changes:
        clause, values = assignments(changes)
        db.execute(f"UPDATE users SET {clause} WHERE app = ? AND username = ?",
                   (*values, app, username))
    user = select_user(db, app, username)
    if user is None:
        raise JimError(errors.NO_SUCH_USER, f"no user {username!r}")
    return user


def replace_password(db, app, username, old, new):
    replaced = db.execute("UPDATE users SET password = ? WHERE app = ? AND username = ?"
                          " AND password = ?", (new, app, username, old))
    return replaced.rowcount == 1


def delete_user(db, app, username):
    gone = db.execute("DELETE FROM users WHERE app = ? AND username = ?", (app, username))
    if gone.rowcount == 0:
        raise JimError(errors.NO_SUCH_USER, f"no user {username!r}")


def select_user_page(db, app, admin, start, count):
    where = "FROM users WHERE app = ? AND admin = ?"
    return counted_page(db, f"SELECT COUNT(*) {where}",
                        f"SELECT {_COLUMNS} {where} ORDER BY seq", (app, int(admin)),
                        start, count, _user)
