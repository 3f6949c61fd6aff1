-- Uploaded files (docs/storage.md, "media"): what is known of each; the bytes are files in
-- the media directory, named by their content hash. A media id is unique in its app and never
-- changes, so the table is only ever added to.

CREATE TABLE media (
    app          TEXT NOT NULL,
    media_id     TEXT NOT NULL,
    content_hash TEXT NOT NULL,  -- hex SHA-256 of the bytes: the file's name
    kind         TEXT NOT NULL,  -- image, voice or file
    size         INTEGER NOT NULL,
    crc32        INTEGER NOT NULL,
    format       TEXT NOT NULL,
    width        INTEGER NOT NULL,
    height       INTEGER NOT NULL,
    fname        TEXT NOT NULL,  -- the client's file name, for display only
    ctime        INTEGER NOT NULL,
    PRIMARY KEY (app, media_id)
) WITHOUT ROWID;
