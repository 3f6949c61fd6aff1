-- Conversations get integer ids. The messages index then holds (conversation id, created)
-- instead of (app, "s:5:alice:bob", created): a third of the size, and each message written
-- costs about half as much (see docs/storage.md).

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
CREATE INDEX messages_by_conv ON messages (conv, created);
