-- Each app's media usage (docs/storage.md, "Media"): the bytes of the distinct contents its
-- uploads name, each content counted once, checked against --media-quota by every upload;
-- and the index that finds the records naming a content (of one app: is it counted
-- already? of any app: may a sweep remove its file?).

CREATE INDEX media_by_content ON media (content_hash, app);

CREATE TABLE media_usage (
    app   TEXT PRIMARY KEY,
    bytes INTEGER NOT NULL
) WITHOUT ROWID;

-- the uploads kept before: each app's distinct contents (TOTAL cannot overflow; the cap is
-- the stores' own, 2^63 - 1)
INSERT INTO media_usage (app, bytes)
SELECT app, CAST(MIN(TOTAL(size), 9223372036854775807) AS INTEGER)
FROM (SELECT app, content_hash, MIN(size) AS size FROM media GROUP BY app, content_hash)
GROUP BY app;
