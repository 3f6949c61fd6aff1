# -*- test-case-name: tests.store_contract.test_events -*-
"""The SQL of the event area of L{jim.store.sqlite.SqliteStore}: an event is one row of
C{events} and one row of C{event_audience} for each user it concerns. Writes run on the writer
thread inside a batch; reads on the reader thread. See docs/storage.md, "Events"."""
import attr

from jim.cursors import EVENTS
from jim.wire import busjson


def insert_event(db, event, audience):
    """Write an event that has its id (from the store's sequence) for its audience; the
    event."""
    db.execute("INSERT INTO events (id, app, created, body) VALUES (?, ?, ?, ?)",
               (event.id, event.app, event.created,
                busjson.encode_event(attr.evolve(event, id=0, kept=False))))
    db.executemany("INSERT INTO event_audience (app, username, id) VALUES (?, ?, ?)",
                   [(event.app, username, event.id) for username in audience])
    return event


def read_events(db, app, username, cursor, after, since, limit, per_user):
    """The user's events (L{jim.interfaces.IEventStore.read_events}), one snapshot."""
    if limit == 0 or per_user == 0:
        return []
    bound = cursor.left_out_upto(EVENTS, after)
    # the latest per_user above the bound are the latest per_user of all that are above it
    rows = db.execute(
        "SELECT e.id, e.created, e.body FROM event_audience AS a JOIN events AS e ON e.id = a.id"
        " WHERE a.app = ? AND a.username = ? AND a.id > ? ORDER BY a.id DESC LIMIT ?",
        (app, username, bound, -1 if per_user is None else per_user)).fetchall()
    found = []
    for event_id, created, body in reversed(rows):
        if created >= since and not cursor.consumed(event_id, EVENTS):
            found.append(attr.evolve(busjson.decode_event(body), id=event_id, kept=True))
            if limit is not None and len(found) == limit:
                break
    return found


def forget_events(db, created_before):
    """Forget the events of every app created before a time; how many."""
    db.execute("DELETE FROM event_audience WHERE id IN"
               " (SELECT id FROM events WHERE created < ?)", (created_before,))
    return db.execute("DELETE FROM events WHERE created < ?", (created_before,)).rowcount
