-- Events kept in their users' inboxes (docs/storage.md, "Events"): one row an event, its id
-- from the message sequence (the store hands out one sequence for both), and one row for each
-- user it concerns. body is the event as jim.wire.busjson.encode_event writes it (id 0).

CREATE TABLE events (
    id      INTEGER PRIMARY KEY,
    app     TEXT NOT NULL,
    created INTEGER NOT NULL,
    body    BLOB NOT NULL
);
CREATE INDEX events_by_created ON events (created);

CREATE TABLE event_audience (
    app      TEXT NOT NULL,
    username TEXT NOT NULL,
    id       INTEGER NOT NULL REFERENCES events (id),
    PRIMARY KEY (app, username, id)
) WITHOUT ROWID;
CREATE INDEX event_audience_by_id ON event_audience (id);
