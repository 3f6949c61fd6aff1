-- Chat rooms (docs/storage.md, "Chat rooms"): each app's rooms in creation order, their
-- members in the order they came in, and the highest room id each app ever gave, so that no id
-- is given twice in an app, not even that of a room since deleted.

CREATE TABLE rooms (
    seq         INTEGER PRIMARY KEY,  -- creation order
    app         TEXT NOT NULL,
    id          INTEGER NOT NULL,
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    owner       TEXT NOT NULL,
    max_members INTEGER NOT NULL,
    ctime       INTEGER NOT NULL,
    mtime       INTEGER NOT NULL,
    UNIQUE (app, id)
);
-- (app) then the rowid: an app's rooms in creation order
CREATE INDEX rooms_by_app ON rooms (app);

CREATE TABLE room_members (
    seq      INTEGER PRIMARY KEY,  -- the order they came in
    app      TEXT NOT NULL,
    room_id  INTEGER NOT NULL,
    username TEXT NOT NULL,
    silenced INTEGER NOT NULL,
    joined   INTEGER NOT NULL,     -- RoomMember.joined (epoch ms)
    UNIQUE (app, room_id, username),
    FOREIGN KEY (app, room_id) REFERENCES rooms (app, id)
);
-- (app, room_id) then the rowid: a room's members in the order they came in, a page of them
-- without a sort; (app, username) then the rowid: a user's rooms in that order
CREATE INDEX room_members_by_room ON room_members (app, room_id);
CREATE INDEX room_members_by_user ON room_members (app, username);

CREATE TABLE room_id_marks (
    app     TEXT PRIMARY KEY,
    last_id INTEGER NOT NULL  -- the highest room id the app ever gave
) WITHOUT ROWID;
