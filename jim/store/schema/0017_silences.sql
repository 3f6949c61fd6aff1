-- Kept silences (docs/storage.md, "Kept silences"): the users who left a group or a chat
-- room while silenced there, who come back silenced.

CREATE TABLE silences (
    app      TEXT NOT NULL,
    place    TEXT NOT NULL,  -- 'groups:<gid>' or 'rooms:<room id>' (jim.model.silence_place)
    username TEXT NOT NULL,
    PRIMARY KEY (app, place, username)
) WITHOUT ROWID;
-- what a deleted user's silences are found by
CREATE INDEX silences_by_user ON silences (app, username);
