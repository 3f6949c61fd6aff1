# -*- test-case-name: tests.store_contract.test_nonces -*-
"""The SQL of the nonce area of L{jim.store.sqlite.SqliteStore}: the table C{nonces}, keyed by
C{(app, nonce)}, and its index on C{expires} (writes on the writer thread inside a batch)."""

#: the most rows one job of the sweep deletes
SWEEP_BATCH = 5000


def claim_nonce(db, app, nonce, expires, now):
    """Insert the nonce's row, or take over its row when that use expired by C{now}; whether
    either was done (False: the nonce is in use)."""
    return db.execute(
        "INSERT INTO nonces (app, nonce, expires) VALUES (?, ?, ?)"
        " ON CONFLICT (app, nonce) DO UPDATE SET expires = excluded.expires"
        " WHERE nonces.expires <= ?", (app, nonce, expires, now)).rowcount == 1


def sweep_nonces(db, before):
    """Delete up to SWEEP_BATCH rows that expired before C{before} (through the index on
    C{expires}); how many went."""
    return db.execute(
        "DELETE FROM nonces WHERE (app, nonce) IN (SELECT app, nonce FROM nonces"
        " WHERE expires < ? LIMIT ?)", (before, SWEEP_BATCH)).rowcount
