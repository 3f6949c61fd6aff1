-- Callbacks (docs/storage.md, "Callbacks"): each app's backlog of items waiting to be POSTed
-- to its app server (docs/callbacks.md), in the order they were added.

CREATE TABLE callbacks (
    seq  INTEGER PRIMARY KEY,  -- the order added (an item's id)
    app  TEXT NOT NULL,
    kind TEXT NOT NULL,        -- "message" or "status"
    data TEXT NOT NULL         -- the item as it is POSTed (compact JSON)
);
-- (app, seq): an app's items oldest first, its count, its oldest to trim, the apps with items
CREATE INDEX callbacks_by_app ON callbacks (app, seq);
