-- Sensitive words (docs/storage.md, "Sensitive words"): each app's list, in the order added,
-- and two switches of an app: its word filter, and whether clients may register users by
-- logging in (NULL: the server's --open-registration decides).

ALTER TABLE apps ADD COLUMN word_filter INTEGER NOT NULL DEFAULT 0;
ALTER TABLE apps ADD COLUMN sdk_register INTEGER;

CREATE TABLE sensitive_words (
    seq   INTEGER PRIMARY KEY,  -- the order added
    app   TEXT NOT NULL,
    word  TEXT NOT NULL,
    itime INTEGER NOT NULL,     -- epoch ms it was added (or put in another's place)
    UNIQUE (app, word)
);
