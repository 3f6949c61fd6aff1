# -*- test-case-name: tests.store_contract.test_apps -*-
"""The SQL of the apps area of L{jim.store.sqlite.SqliteStore}: plain functions over a
connection (writes on the writer thread inside a batch, reads on the reader thread)."""
import orjson

from jim import errors
from jim.errors import JimError
from jim.model import App
from jim.store.sqlite_sql_helpers import assignments, counted_page

_COLUMNS = ("key, secret_hash, name, created, friend_mode, word_filter, sdk_register,"
            " callback_url, cross_apps, rest_rate, secret_box")


def _app(row):
    (key, secret_hash, name, created, friend_mode, word_filter, sdk_register, callback,
     cross_apps, rest_rate, secret_box) = row
    return App(key, secret_hash, name, created, bool(friend_mode), bool(word_filter),
               None if sdk_register is None else bool(sdk_register), callback,
               orjson.loads(cross_apps), rest_rate, secret_box)


def _keys(cross_apps):
    """How the column holds an app's C{cross_apps}: a JSON array."""
    return orjson.dumps(list(cross_apps)).decode()


def select_app(db, key):
    row = db.execute(f"SELECT {_COLUMNS} FROM apps WHERE key = ?", (key,)).fetchone()
    return None if row is None else _app(row)


def insert_app(db, app):
    if db.execute("SELECT 1 FROM apps WHERE key = ?", (app.key,)).fetchone():
        raise JimError(errors.APP_EXISTS, f"app key {app.key!r} is taken")
    db.execute(f"INSERT INTO apps ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
               (app.key, app.secret_hash, app.name, app.created, app.friend_mode,
                app.word_filter, app.sdk_register, app.callback_url, _keys(app.cross_apps),
                app.rest_rate, app.secret_box))



def update_app(db, key, changes):
    if changes:
        if "cross_apps" in changes:
            changes = {**changes, "cross_apps": _keys(changes["cross_apps"])}
        clause, values = assignments(changes)
        db.execute(f"UPDATE apps SET {clause} WHERE key = ?", (*values, key))
    app = select_app(db, key)
    if app is None:
        raise JimError(errors.NO_SUCH_APP, f"no app {key!r}")
    return app


def delete_app(db, key):
    db.execute("DELETE FROM apps WHERE key = ?", (key,))


def select_apps(db, start, count):
    return counted_page(db, "SELECT COUNT(*) FROM apps",
                        f"SELECT {_COLUMNS} FROM apps ORDER BY seq", (), start, count, _app)
