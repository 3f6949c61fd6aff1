# -*- test-case-name: tests.store_contract.test_callbacks -*-
"""The SQL of the callback backlog of L{jim.store.sqlite.SqliteStore}: the table
C{callbacks}, its C{seq} the order the items were added and their ids (writes on the writer
thread inside a batch, reads on the reader thread)."""


def insert_items(db, app, items):
    db.executemany("INSERT INTO callbacks (app, kind, data) VALUES (?, ?, ?)",
                   [(app, kind, text) for kind, text in items])


def select_batch(db, app, count):
    return [tuple(row) for row in db.execute(
        "SELECT seq, kind, data FROM callbacks WHERE app = ? ORDER BY seq LIMIT ?",
        (app, count))]


def delete_items(db, app, ids):
    db.executemany("DELETE FROM callbacks WHERE app = ? AND seq = ?",
                   [(app, item_id) for item_id in ids])


def count_items(db, app):
    (count,) = db.execute("SELECT COUNT(*) FROM callbacks WHERE app = ?", (app,)).fetchone()
    return count


def trim_items(db, app, most):
    """Delete the app's items older than its newest C{most}; how many."""
    return db.execute(
        "DELETE FROM callbacks WHERE app = ? AND seq <= (SELECT seq FROM callbacks"
        " WHERE app = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)", (app, app, most)).rowcount


def select_apps(db):
    """The apps with items: one index look-up per app (not a scan of every item)."""
    apps = []
    (app,) = db.execute("SELECT MIN(app) FROM callbacks").fetchone()
    while app is not None:
        apps.append(app)
        (app,) = db.execute("SELECT MIN(app) FROM callbacks WHERE app > ?", (app,)).fetchone()
    return apps
