# -*- test-case-name: tests.test_store_sqlite_client_ids -*-
"""The client ids an SQLite file holds, read into a L{jim.store.client_ids.ClientIdFilter}
when the store opens, and again, into bigger bits, when the filter is full.

The reads go through the store's reader thread a slice at a time (L{SLICE} messages), so that
the reads of the clients using the store go between them; at the start the filter answers
"maybe" until the last slice is in, when it grows the full filter answers meanwhile. The index
of client ids (C{messages_by_client_id}) holds everything they read: the messages table itself
is not read.
"""
import time

from jim.store.client_ids import MIN_CAPACITY, Bits, size_for

#: messages a read adds to the filter
SLICE = 50_000

_ALL = ("SELECT app, sender, client_id FROM messages WHERE client_id IS NOT NULL"
        " ORDER BY app, sender, client_id LIMIT ?")
_AFTER = ("SELECT app, sender, client_id FROM messages WHERE client_id IS NOT NULL"
          " AND (app, sender, client_id) > (?, ?, ?) ORDER BY app, sender, client_id LIMIT ?")


def count_client_ids(db):
    return db.execute("SELECT count(*) FROM messages WHERE client_id IS NOT NULL").fetchone()[0]


def add_client_ids(db, bits, after, count=SLICE):
    """Add to C{bits} the C{(app, sender, client id)} of up to C{count} messages past C{after}
    (one such triple, or None to start), in the index's order; C{(the last triple added, more)},
    C{more} False once there are no more. (Several messages with one triple are one key: a
    slice may end among them, and the next one starts past them.)"""
    if after is None:
        rows = db.execute(_ALL, (count,))
    else:
        rows = db.execute(_AFTER, (*after, count))
    last, added = after, 0
    for app, sender, client_id in rows:
        last = (app, sender, client_id)
        bits.add(last)
        added += 1
    return last, added == count


async def load_client_ids(read, client_ids, log, minimum=MIN_CAPACITY):
    """Fill C{client_ids} with what the file holds, reading with C{read} (the store's
    L{jim.store.sqlite.SqliteStore.read}), in bits sized for twice that (and at least
    C{minimum} keys). Fails as the reads do (a store stopped meanwhile). Every key the filter
    was given must be in the file or keep coming to it (L{ClientIdFilter.reading}) before the
    first read."""
    started = time.monotonic()
    growing = client_ids.loaded
    count = await read(count_client_ids)
    bits = Bits(size_for(count, minimum))  # filled on the reader thread, read here only later
    after, more = None, True
    while more:
        after, more = await read(add_client_ids, bits, after)
    client_ids.load(bits, count)
    log.info("{what} the client ids of {count} messages in {seconds:.1f} s, room for"
             " {capacity}: a chat with a new client id does not read the store to check it",
             what="grew the filter of" if growing else "loaded", count=count,
             capacity=client_ids.capacity, seconds=time.monotonic() - started)
