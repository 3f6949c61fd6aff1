# -*- test-case-name: tests.store_contract.test_relations -*-
"""The SQL of the relations area of L{jim.store.sqlite.SqliteStore}: plain functions over a
connection (writes on the writer thread inside a batch, reads on the reader thread).

A relation's age is its rowid (C{seq}): lists are in C{seq} order, oldest first."""
from jim.model import Relation
from jim.store.sqlite_sql_helpers import changes_a_row, marks

#: the columns of a Relation, in the order of its fields
_COLUMNS = "app, kind, owner, target, note_name, others, ctime"
_KEY = "app = ? AND kind = ? AND owner = ? AND target = ?"


def _key(relation):
    return (relation.app, relation.kind, relation.owner, relation.target)


def insert_relations(db, relations):
    insert = f"INSERT OR IGNORE INTO relations ({_COLUMNS}) VALUES ({marks(7)})"
    return [relation for relation in relations if changes_a_row(
        db, insert, (*_key(relation), relation.note_name, relation.others, relation.ctime))]


def update_relations(db, relations):
    updated = []
    for relation in relations:
        db.execute(f"UPDATE relations SET note_name = ?, others = ? WHERE {_KEY}",
                   (relation.note_name, relation.others, *_key(relation)))
        row = db.execute(f"SELECT {_COLUMNS} FROM relations WHERE {_KEY}",
                         _key(relation)).fetchone()
        if row is not None:
            updated.append(Relation(*row))
    return updated


def delete_relations(db, app, kind, owner, targets):
    delete = f"DELETE FROM relations WHERE {_KEY}"
    return [target for target in dict.fromkeys(targets)
            if changes_a_row(db, delete, (app, kind, owner, target))]


def select_relations_of(db, app, owner, kinds):
    query = f"SELECT {_COLUMNS} FROM relations WHERE app = ? AND owner = ?"
    params = [app, owner]
    if kinds is not None:
        kinds = list(kinds)
        query += f" AND kind IN ({marks(len(kinds))})"
        params += kinds
    return [Relation(*row) for row in db.execute(query + " ORDER BY seq", params)]


def select_owners_of(db, app, kind, target):
    rows = db.execute(
        "SELECT owner FROM relations WHERE app = ? AND kind = ? AND target = ? ORDER BY seq",
        (app, kind, target),
    )
    return [owner for (owner,) in rows]


def select_targets_with_prefix(db, app, prefix):
    """A range of the (app, kind, target) index per kind: the targets >= prefix and below the
    prefix with its last character raised by one (no LIKE, whose case rules differ)."""
    if not prefix:
        raise ValueError("a prefix is needed")
    above = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    rows = db.execute("SELECT DISTINCT target FROM relations WHERE app = ? AND target >= ?"
                      " AND target < ? ORDER BY target", (app, prefix, above))
    return [target for (target,) in rows]


def delete_owned(db, app, owner):
    db.execute("DELETE FROM relations WHERE app = ? AND owner = ?", (app, owner))


def delete_targeting(db, app, kinds, target):
    kinds = list(kinds)
    db.execute("DELETE FROM relations WHERE app = ? AND target = ?"
               f" AND kind IN ({marks(len(kinds))})", (app, target, *kinds))
