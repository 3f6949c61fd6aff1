-- The Report API v2 (docs/storage.md, "Reports"): what its reads need beside the message log.
-- Nothing here is written by a message's commit: the index job (jim.store.sqlite_history_queries)
-- fills these tables from the messages it indexes, in batches, and the tail above
-- conversation_index_state.indexed_upto is read from messages itself. The sweep
-- (--report-days) empties them of what is older, a bounded batch at a time.

-- every message of an app that is not retracted, by time: /v2/messages
CREATE TABLE report_index (
    app     TEXT NOT NULL,
    created INTEGER NOT NULL,
    id      INTEGER NOT NULL,
    PRIMARY KEY (app, created, id)
) WITHOUT ROWID;

-- what each user sent to groups and chat rooms (their private messages, both ways, are read
-- from their private conversations' conversation_index)
CREATE TABLE report_user_index (
    app      TEXT NOT NULL,
    username TEXT NOT NULL,
    created  INTEGER NOT NULL,
    id       INTEGER NOT NULL,
    PRIMARY KEY (app, username, created, id)
) WITHOUT ROWID;

-- how many messages were sent in each hour (epoch ms of its start, UTC), by target and type
CREATE TABLE report_hours (
    app         TEXT NOT NULL,
    hour        INTEGER NOT NULL,
    target_type TEXT NOT NULL,
    msg_type    TEXT NOT NULL,
    count       INTEGER NOT NULL,
    PRIMARY KEY (app, hour, target_type, msg_type)
) WITHOUT ROWID;

-- the names seen in each hour: 'sender' (users who sent), 'group' (gids sent to), 'active'
-- (users who logged in)
CREATE TABLE report_names (
    app  TEXT NOT NULL,
    what TEXT NOT NULL,
    hour INTEGER NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (app, what, hour, name)
) WITHOUT ROWID;

-- the time the last sweep forgot everything before: the private messages of a user's scope
-- (read from conversation_index, which the sweep leaves alone) start there
CREATE TABLE report_state (
    one          INTEGER PRIMARY KEY CHECK (one = 1),
    swept_before INTEGER NOT NULL
);
INSERT INTO report_state (one, swept_before) VALUES (1, -9223372036854775808);

-- the statistics count users and groups by creation time (both rarely written)
CREATE INDEX users_by_ctime ON users (app, ctime);
CREATE INDEX groups_by_ctime ON groups (app, ctime);

-- what the index job has indexed so far (later messages are its next batch's)
INSERT INTO report_index (app, created, id)
    SELECT app, created, id FROM messages
    WHERE id <= (SELECT indexed_upto FROM conversation_index_state) AND retracted = 0;
INSERT OR IGNORE INTO report_user_index (app, username, created, id)
    SELECT app, sender, created, id FROM messages
    WHERE id <= (SELECT indexed_upto FROM conversation_index_state) AND retracted = 0
        AND target_type != 'single';
INSERT INTO report_hours (app, hour, target_type, msg_type, count)
    SELECT app, created - created % 3600000, target_type, msg_type, COUNT(*) FROM messages
    WHERE id <= (SELECT indexed_upto FROM conversation_index_state)
    GROUP BY 1, 2, 3, 4;
INSERT OR IGNORE INTO report_names (app, what, hour, name)
    SELECT app, 'sender', created - created % 3600000, sender FROM messages
    WHERE id <= (SELECT indexed_upto FROM conversation_index_state)
    UNION ALL
    SELECT app, 'group', created - created % 3600000, target FROM messages
    WHERE id <= (SELECT indexed_upto FROM conversation_index_state) AND target_type = 'group';
