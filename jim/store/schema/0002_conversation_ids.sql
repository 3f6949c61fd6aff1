-- Conversations get integer ids, and the per-conversation index of messages is kept in a table
-- of its own that the writer fills in large batches instead of at every commit
-- (see docs/storage.md, "The conversation index").

CREATE TABLE conversations (
    id  INTEGER PRIMARY KEY,
    app TEXT NOT NULL,
    key TEXT NOT NULL,  -- jim.store.private_conversation / group_conversation
    UNIQUE (app, key)
);

INSERT INTO conversations (app, key)
    SELECT app, conv FROM messages GROUP BY app, conv ORDER BY MIN(id);

ALTER TABLE messages ADD COLUMN conv_id INTEGER NOT NULL DEFAULT 0;

UPDATE messages SET conv_id = (
    SELECT c.id FROM conversations AS c WHERE c.app = messages.app AND c.key = messages.conv
);

DROP INDEX messages_by_conv;
ALTER TABLE messages DROP COLUMN conv;
ALTER TABLE messages RENAME COLUMN conv_id TO conv;

-- Messages with id <= indexed_upto are in conversation_index; later ones are found by a scan
-- of the (short) tail of messages above it.
CREATE TABLE conversation_index (
    conv    INTEGER NOT NULL,
    created INTEGER NOT NULL,
    id      INTEGER NOT NULL,
    PRIMARY KEY (conv, created, id)
) WITHOUT ROWID;

CREATE TABLE conversation_index_state (
    one          INTEGER PRIMARY KEY CHECK (one = 1),
    indexed_upto INTEGER NOT NULL
);

INSERT INTO conversation_index (conv, created, id) SELECT conv, created, id FROM messages;
INSERT INTO conversation_index_state VALUES (1, (SELECT COALESCE(MAX(id), 0) FROM messages));
