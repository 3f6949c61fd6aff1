-- The inbox (docs/storage.md, "The inbox"): each device's cursor, each user's private
-- conversations, and what a read of the latest messages of a conversation by id needs beside
-- conversation_index. Nothing here is written per message: private_conversations when a
-- conversation is numbered, conversation_retracted at a retraction, conversation_index_lows by
-- the index job. The offline table stays (its marks become cursors below).

CREATE TABLE cursors (
    app      TEXT NOT NULL,
    username TEXT NOT NULL,
    device   TEXT NOT NULL,    -- a device key (jim.core.devices)
    cursor   TEXT NOT NULL,    -- jim.cursors.Cursor.to_json() as compact JSON
    seen     INTEGER NOT NULL, -- the cursor's seen (epoch ms): what forget_cursors goes by
    PRIMARY KEY (app, username, device)
) WITHOUT ROWID;

CREATE INDEX cursors_by_seen ON cursors (seen);

-- one row per participant of each private conversation (one for a conversation with oneself),
-- written with the conversation's row
CREATE TABLE private_conversations (
    app      TEXT NOT NULL,
    username TEXT NOT NULL,
    conv     INTEGER NOT NULL REFERENCES conversations (id),
    PRIMARY KEY (app, username, conv)
) WITHOUT ROWID;

INSERT INTO private_conversations (app, username, conv)
    SELECT app, sender, conv FROM messages WHERE target_type = 'single'
    UNION
    SELECT app, target, conv FROM messages WHERE target_type = 'single';

-- The retracted messages, keyed as conversation_index is (which leaves them out): the latest
-- messages of a conversation by id count them.
CREATE TABLE conversation_retracted (
    conv    INTEGER NOT NULL,
    created INTEGER NOT NULL,
    id      INTEGER NOT NULL,
    PRIMARY KEY (conv, created, id)
) WITHOUT ROWID;

INSERT INTO conversation_retracted (conv, created, id)
    SELECT conv, created, id FROM messages WHERE retracted = 1;

-- For the indexed messages: a lower bound of their `created` per block of 4096 ids (id >> 12).
-- Every indexed message is counted in the row of its own block or of a later one, so every
-- indexed message with an id above x was created at or after the least `low` of the rows from
-- x's block on: a read finds a conversation's messages with ids above x as a range of
-- conversation_index, which is ordered by (created, id), not by id.
CREATE TABLE conversation_index_lows (
    block INTEGER PRIMARY KEY,
    low   INTEGER NOT NULL
);

INSERT INTO conversation_index_lows (block, low)
    SELECT id >> 12, MIN(created) FROM messages
    WHERE id <= (SELECT indexed_upto FROM conversation_index_state)
    GROUP BY id >> 12;

-- Offline marks become cursors, so that nothing waiting offline is lost: each user gets one
-- for each of the devices J-IM clients without a device id use (w:~ over TCP, j:~ over
-- WebSocket), from just below their oldest offline message, or from the newest message when
-- they have none (nothing old becomes offline).
INSERT INTO cursors (app, username, device, cursor, seen)
    SELECT u.app, u.username, d.device, json_array(u.floor, json_array(), json_array(), n.now),
           n.now
    FROM (SELECT app, username, MIN(message_id) - 1 AS floor FROM offline
          GROUP BY app, username
          UNION ALL
          SELECT app, username, (SELECT COALESCE(MAX(id), 0) FROM messages) FROM users
          WHERE NOT EXISTS (SELECT 1 FROM offline AS o
                            WHERE o.app = users.app AND o.username = users.username)) AS u
    CROSS JOIN (SELECT 'w:~' AS device UNION ALL SELECT 'j:~') AS d
    CROSS JOIN (SELECT CAST(strftime('%s', 'now') AS INTEGER) * 1000 AS now) AS n;
