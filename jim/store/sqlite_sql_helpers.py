# -*- test-case-name: tests.store_contract -*-
"""What the SQL of every area of L{jim.store.sqlite.SqliteStore} shares: long IN lists, column
lists of a joined table, the SET clause of a partial update, a counted page read from one
snapshot, and the range of the texts that begin with a prefix."""

#: SQLite allows at most 32766 bound parameters per statement; stay far below
IN_CHUNK = 500


def marks(count):
    """C{count} placeholders, comma-separated ("?, ?, ?")."""
    return ", ".join("?" * count)


def chunks(values):
    """C{values} (a list) cut into lists of at most L{IN_CHUNK}."""
    return [values[start : start + IN_CHUNK] for start in range(0, len(values), IN_CHUNK)]


def changes_a_row(db, sql, params):
    """Run C{sql} (an INSERT OR IGNORE, UPDATE or DELETE of one row by its key); whether it
    changed a row."""
    return db.execute(sql, params).rowcount > 0


def prefix_range(prefix):
    """C{(low, high)}: the texts that begin with C{prefix} (not empty) are those >= low and
    < high, its last character raised by one; a range of an index, where a LIKE's case rules
    would differ from Python's."""
    if not prefix:
        raise ValueError("a prefix is needed")
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)


def prefixed(columns, table):
    """C{columns} ("a, b, c"), each named as a column of C{table} (an alias): "t.a, t.b, t.c"."""
    return ", ".join(f"{table}.{column}" for column in columns.split(", "))


def assignments(changes, columns=None):
    """The SET clause and its values for an UPDATE that makes C{changes} (field -> value).

    The field names were checked against the value's changeable fields (C{jim.store.*_CHANGES})
    on the reactor thread: no other text reaches the SQL. C{columns} maps a field to its column
    where the names differ."""
    columns = columns or {}
    fields = list(changes)
    clause = ", ".join(f"{columns.get(field, field)} = ?" for field in fields)
    return clause, [changes[field] for field in fields]


def counted_page(db, count_sql, page_sql, params, start, count, row):
    """C{(total, [value, ...])}: the rows C{count_sql} counts and C{count} of those C{page_sql}
    lists from the C{start}th, both from one snapshot, each row made a value by C{row}."""
    db.execute("BEGIN")
    try:
        (total,) = db.execute(count_sql, params).fetchone()
        rows = db.execute(f"{page_sql} LIMIT ? OFFSET ?", (*params, count, start)).fetchall()
    finally:
        db.execute("COMMIT")
    return total, [row(values) for values in rows]
