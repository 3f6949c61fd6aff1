-- jim store schema, version 1.
-- Every table is scoped by app: a username or gid means nothing without its app.
-- This file is applied once and never edited; later changes go into new numbered files.

CREATE TABLE apps (
    key         TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL,
    name        TEXT NOT NULL,
    created     INTEGER NOT NULL
);

CREATE TABLE users (
    app       TEXT NOT NULL,
    username  TEXT NOT NULL,
    password  TEXT NOT NULL,
    nickname  TEXT NOT NULL,
    avatar    TEXT NOT NULL,
    signature TEXT NOT NULL,
    created   INTEGER NOT NULL,
    PRIMARY KEY (app, username)
);

CREATE TABLE groups (
    app     TEXT NOT NULL,
    gid     TEXT NOT NULL,
    name    TEXT NOT NULL,
    owner   TEXT NOT NULL,
    avatar  TEXT NOT NULL,
    created INTEGER NOT NULL,
    PRIMARY KEY (app, gid)
);

-- joined is the rowid: SQLite hands out increasing values, so it orders members by joining
-- time, and the (app, username) index below is already sorted by it within one user.
CREATE TABLE members (
    joined   INTEGER PRIMARY KEY,
    app      TEXT NOT NULL,
    gid      TEXT NOT NULL,
    username TEXT NOT NULL,
    UNIQUE (app, gid, username),
    FOREIGN KEY (app, gid) REFERENCES groups (app, gid)
);
CREATE INDEX members_by_user ON members (app, username);

-- The message log. Offline and history are queries over it, never copies.
-- id is assigned by the store in commit order; conv names the conversation (see jim.store).
CREATE TABLE messages (
    id          INTEGER PRIMARY KEY,
    app         TEXT NOT NULL,
    sender      TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target      TEXT NOT NULL,
    conv        TEXT NOT NULL,
    msg_type    INTEGER NOT NULL,
    content     TEXT NOT NULL,
    extras      TEXT,
    client_id,  -- no declared type: a client id comes back exactly as given (text or int)
    created     INTEGER NOT NULL
);
-- History reads one conversation ordered by (created, id); the rowid is the implicit last
-- column of every index, so this one serves the order without a sort.
CREATE INDEX messages_by_conv ON messages (app, conv, created);
CREATE INDEX messages_by_client_id ON messages (app, sender, client_id)
    WHERE client_id IS NOT NULL;

-- Messages still to be fetched as offline messages, per user.
CREATE TABLE offline (
    app        TEXT NOT NULL,
    username   TEXT NOT NULL,
    message_id INTEGER NOT NULL REFERENCES messages (id),
    PRIMARY KEY (app, username, message_id)
) WITHOUT ROWID;
