-- The dialect-neutral domain (docs/storage.md, "Migration 3"): full user profiles, apps in
-- friend mode, integer gids with J-IM's other names kept as aliases, member roles, relations,
-- and messages with a JMessage type and a JSON body. Every row of version 2 is carried over.
--
-- Tables whose columns change are rebuilt: the old one is renamed old_<name>, the new one is
-- filled from it and the old one dropped. A child (members, offline) is renamed before its
-- parent, so that its foreign key follows the parent to old_<parent> and the new child can be
-- filled against the new parent. Explicit indexes keep their names when their table is
-- renamed, so they are made again only once the old table is gone. Each new table keeps the
-- old rowid in an INTEGER PRIMARY KEY (seq), so lists keep their creation order.

-- apps: friend mode

ALTER TABLE apps RENAME TO old_apps;

CREATE TABLE apps (
    seq         INTEGER PRIMARY KEY,  -- creation order
    key         TEXT NOT NULL UNIQUE,
    secret_hash TEXT NOT NULL,
    name        TEXT NOT NULL,
    created     INTEGER NOT NULL,
    friend_mode INTEGER NOT NULL
);

INSERT INTO apps (seq, key, secret_hash, name, created, friend_mode)
    SELECT rowid, key, secret_hash, name, created, 0 FROM old_apps ORDER BY rowid;

DROP TABLE old_apps;

-- users: the whole profile; ctime and mtime are the old created

ALTER TABLE users RENAME TO old_users;

CREATE TABLE users (
    seq       INTEGER PRIMARY KEY,  -- registration order
    app       TEXT NOT NULL,
    username  TEXT NOT NULL,
    password  TEXT NOT NULL,
    nickname  TEXT NOT NULL,
    avatar    TEXT NOT NULL,
    birthday  TEXT NOT NULL,
    signature TEXT NOT NULL,
    gender    INTEGER NOT NULL,
    region    TEXT NOT NULL,
    address   TEXT NOT NULL,
    extras    TEXT,  -- JSON text of an object, or NULL
    ctime     INTEGER NOT NULL,
    mtime     INTEGER NOT NULL,
    forbidden INTEGER NOT NULL,
    admin     INTEGER NOT NULL,
    UNIQUE (app, username)
);

INSERT INTO users (seq, app, username, password, nickname, avatar, birthday, signature, gender,
                   region, address, extras, ctime, mtime, forbidden, admin)
    SELECT rowid, app, username, password, nickname, avatar, '', signature, 0, '', '', NULL,
           created, created, 0, 0
    FROM old_users ORDER BY rowid;

DROP TABLE old_users;

-- (app, admin) then the rowid: an app's users, or its admins, in registration order
CREATE INDEX users_by_role ON users (app, admin);

-- groups: every old text gid gets its integer gid. A canonical decimal ("100") is that number;
-- any other name ("g1", "007", "0", "-5") becomes the group's alias, and the group a new gid
-- above both FIRST_GID - 1 (9999999) and the largest number the app's groups or group
-- conversations already use, in the order the groups were created.

CREATE TABLE migration_gids (
    app   TEXT NOT NULL,
    old   TEXT NOT NULL,
    gid   INTEGER NOT NULL,
    alias TEXT,
    PRIMARY KEY (app, old)
);

INSERT INTO migration_gids (app, old, gid, alias)
    SELECT app, gid, CAST(gid AS INTEGER), NULL FROM groups
    WHERE gid GLOB '[1-9]*' AND gid NOT GLOB '*[^0-9]*' AND length(gid) <= 18;

CREATE TABLE migration_gid_bases (
    app  TEXT PRIMARY KEY,
    base INTEGER NOT NULL
);

INSERT INTO migration_gid_bases (app, base)
    SELECT app, MAX(number) FROM (
        SELECT app, 9999999 AS number FROM groups
        UNION ALL
        SELECT app, gid FROM migration_gids
        UNION ALL
        SELECT app, CAST(substr(key, 3) AS INTEGER) FROM conversations
        WHERE substr(key, 1, 2) = 'g:' AND substr(key, 3) GLOB '[1-9]*'
            AND substr(key, 3) NOT GLOB '*[^0-9]*' AND length(key) <= 20
    ) GROUP BY app;

INSERT INTO migration_gids (app, old, gid, alias)
    SELECT g.app, g.gid,
           b.base + ROW_NUMBER() OVER (PARTITION BY g.app ORDER BY g.rowid),
           g.gid
    FROM groups AS g JOIN migration_gid_bases AS b ON b.app = g.app
    WHERE NOT (g.gid GLOB '[1-9]*' AND g.gid NOT GLOB '*[^0-9]*' AND length(g.gid) <= 18);

-- old J-IM groups were public (anyone could join with cmd 7), of at most --group-size members
-- (500 by default): each keeps room for the members it has

ALTER TABLE members RENAME TO old_members;
ALTER TABLE groups RENAME TO old_groups;

CREATE TABLE groups (
    seq         INTEGER PRIMARY KEY,  -- creation order
    app         TEXT NOT NULL,
    gid         INTEGER NOT NULL,
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    avatar      TEXT NOT NULL,
    owner       TEXT NOT NULL,
    flag        INTEGER NOT NULL,
    max_members INTEGER NOT NULL,
    ctime       INTEGER NOT NULL,
    mtime       INTEGER NOT NULL,
    alias       TEXT,  -- J-IM's groupId when it is not a number, else NULL
    UNIQUE (app, gid)
);

INSERT INTO groups (seq, app, gid, name, description, avatar, owner, flag, max_members, ctime,
                    mtime, alias)
    SELECT g.rowid, g.app, m.gid, g.name, '', g.avatar, g.owner, 2,
           max(500, (SELECT count(*) FROM old_members AS o
                     WHERE o.app = g.app AND o.gid = g.gid)),
           g.created, g.created, m.alias
    FROM old_groups AS g JOIN migration_gids AS m ON m.app = g.app AND m.old = g.gid
    ORDER BY g.rowid;

-- joined still orders members by joining time; joined_ms (Member.joined) is 0 for old rows
CREATE TABLE members (
    joined    INTEGER PRIMARY KEY,
    app       TEXT NOT NULL,
    gid       INTEGER NOT NULL,
    username  TEXT NOT NULL,
    role      TEXT NOT NULL,
    silenced  INTEGER NOT NULL,
    joined_ms INTEGER NOT NULL,
    UNIQUE (app, gid, username),
    FOREIGN KEY (app, gid) REFERENCES groups (app, gid)
);

INSERT INTO members (joined, app, gid, username, role, silenced, joined_ms)
    SELECT o.joined, o.app, m.gid, o.username,
           CASE WHEN o.username = g.owner THEN 'owner' ELSE 'member' END, 0, 0
    FROM old_members AS o
    JOIN migration_gids AS m ON m.app = o.app AND m.old = o.gid
    JOIN old_groups AS g ON g.app = o.app AND g.gid = o.gid
    ORDER BY o.joined;

DROP TABLE old_members;
DROP TABLE old_groups;

CREATE UNIQUE INDEX groups_by_alias ON groups (app, alias) WHERE alias IS NOT NULL;
-- (app) then the rowid: an app's groups in creation order
CREATE INDEX groups_by_app ON groups (app);
CREATE INDEX members_by_user ON members (app, username);

-- relations: what users keep about others (friends, blacklists, no-disturb, shields)

CREATE TABLE relations (
    seq       INTEGER PRIMARY KEY,  -- age: lists are oldest first
    app       TEXT NOT NULL,
    owner     TEXT NOT NULL,
    kind      TEXT NOT NULL,
    target    TEXT NOT NULL,
    note_name TEXT NOT NULL,
    others    TEXT NOT NULL,
    ctime     INTEGER NOT NULL,
    UNIQUE (app, owner, kind, target)
);
-- (app, kind, target) then the rowid: the owners of relations to a target, oldest first
CREATE INDEX relations_by_target ON relations (app, kind, target);

-- messages: J-IM's msgType n and content c become a JMessage msg_type and a JSON body:
-- 0 -> text {"text": c}; 1, 2, 3 -> image, voice, video {"content": c}; any other n ->
-- custom {"content": c, "jim_msg_type": n}. A group message's target becomes its group's new
-- gid (a message to a group that has no row keeps its target).

ALTER TABLE offline RENAME TO old_offline;
ALTER TABLE messages RENAME TO old_messages;

CREATE TABLE messages (
    id              INTEGER PRIMARY KEY,
    app             TEXT NOT NULL,
    sender          TEXT NOT NULL,
    target_type     TEXT NOT NULL,
    target          TEXT NOT NULL,
    msg_type        TEXT NOT NULL,
    body            NOT NULL,  -- a plain text's text, else the JSON of the body as a BLOB
    extras          TEXT,
    client_id,      -- no declared type: a client id comes back exactly as given (text or int)
    created         INTEGER NOT NULL,
    -- an ordinary message's row leaves out the next five: they take their defaults
    from_type       TEXT NOT NULL DEFAULT 'user',
    target_app      TEXT,
    no_offline      INTEGER NOT NULL DEFAULT 0,
    no_notification INTEGER NOT NULL DEFAULT 0,
    retracted       INTEGER NOT NULL DEFAULT 0,
    conv            INTEGER NOT NULL  -- the id of its row in conversations
);

INSERT INTO messages (id, app, sender, target_type, target, msg_type, body, extras, client_id,
                      created, from_type, target_app, no_offline, no_notification, retracted,
                      conv)
    SELECT o.id, o.app, o.sender, o.target_type,
           CASE WHEN m.gid IS NULL THEN o.target ELSE CAST(m.gid AS TEXT) END,
           CASE o.msg_type WHEN 0 THEN 'text' WHEN 1 THEN 'image' WHEN 2 THEN 'voice'
                           WHEN 3 THEN 'video' ELSE 'custom' END,
           CASE WHEN o.msg_type = 0 THEN o.content
                WHEN o.msg_type IN (1, 2, 3) THEN CAST(json_object('content', o.content) AS BLOB)
                ELSE CAST(json_object('content', o.content, 'jim_msg_type', o.msg_type) AS BLOB)
                END,
           o.extras, o.client_id, o.created, 'user', NULL, 0, 0, 0, o.conv
    FROM old_messages AS o
    LEFT JOIN migration_gids AS m
        ON o.target_type = 'group' AND m.app = o.app AND m.old = o.target
    ORDER BY o.id;

CREATE TABLE offline (
    app        TEXT NOT NULL,
    username   TEXT NOT NULL,
    message_id INTEGER NOT NULL REFERENCES messages (id),
    PRIMARY KEY (app, username, message_id)
) WITHOUT ROWID;

INSERT INTO offline (app, username, message_id)
    SELECT app, username, message_id FROM old_offline;

DROP TABLE old_offline;
DROP TABLE old_messages;

CREATE INDEX messages_by_client_id ON messages (app, sender, client_id)
    WHERE client_id IS NOT NULL;

-- the group conversations follow their groups' new gids, so that history keeps working

UPDATE conversations
    SET key = 'g:' || (SELECT m.gid FROM migration_gids AS m
                       WHERE m.app = conversations.app AND 'g:' || m.old = conversations.key)
    WHERE EXISTS (SELECT 1 FROM migration_gids AS m
                  WHERE m.app = conversations.app AND 'g:' || m.old = conversations.key
                      AND m.alias IS NOT NULL);

-- gid_marks: the highest gid each app ever had. A gid of 0 is assigned one above it, never
-- the gid of a deleted group, whose history and offline marks are still keyed by it. Filled
-- from the groups and from the group conversations (their keys carry the new gids by now), a
-- conversation of a deleted group or of a group that never had a row included.

CREATE TABLE gid_marks (
    app      TEXT PRIMARY KEY,
    last_gid INTEGER NOT NULL
) WITHOUT ROWID;

INSERT INTO gid_marks (app, last_gid)
    SELECT app, MAX(number) FROM (
        SELECT app, gid AS number FROM groups
        UNION ALL
        SELECT app, CAST(substr(key, 3) AS INTEGER) FROM conversations
        WHERE substr(key, 1, 2) = 'g:' AND substr(key, 3) GLOB '[1-9]*'
            AND substr(key, 3) NOT GLOB '*[^0-9]*' AND length(key) <= 20
    ) GROUP BY app;

DROP TABLE migration_gids;
DROP TABLE migration_gid_bases;
