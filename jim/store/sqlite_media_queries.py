# -*- test-case-name: tests.store_contract.test_media -*-
"""The SQL of the media area of L{jim.store.sqlite.SqliteStore}: plain functions over a
connection (writes on the writer thread inside a batch, reads on the reader thread).

The tables are C{media} (migration 4) and C{media_usage} (migration 18): a record and its
app's usage change in one write job, so in one transaction, and the writer runs one job at a
time: the quota's check and its add are one step."""
from jim.model import Media
from jim.store import media_quota
from jim.store.sqlite_sql_helpers import chunks, marks

#: the columns of a Media, in the order of its fields
_COLUMNS = ("app, media_id, content_hash, kind, size, crc32, format, width, height, fname,"
            " ctime")


def insert_media(db, media, quota):
    """Keep C{media} unless its id is kept already, counting its bytes in its app's usage
    when no record of the app named its content before (JimError(MEDIA_QUOTA), and nothing
    kept, past a C{quota} other than 0); the one kept."""
    kept = select_media(db, media.app, media.media_id)
    if kept is not None:
        return kept
    counted = db.execute("SELECT 1 FROM media WHERE content_hash = ? AND app = ? LIMIT 1",
                         (media.content_hash, media.app)).fetchone()
    if counted is None:
        used = select_usage(db, media.app)
        if not media_quota.passes(quota, used, media.size):
            raise media_quota.refusal(quota, used, media.size)
        db.execute("INSERT INTO media_usage (app, bytes) VALUES (?, ?)"
                   " ON CONFLICT (app) DO UPDATE SET bytes = excluded.bytes",
                   (media.app, media_quota.grown(used, media.size)))
    db.execute(f"INSERT INTO media ({_COLUMNS}) VALUES ({marks(11)})",
               (media.app, media.media_id, media.content_hash, media.kind, media.size,
                media.crc32, media.format, media.width, media.height, media.fname,
                media.ctime))
    return select_media(db, media.app, media.media_id)


def select_media(db, app, media_id):
    row = db.execute(f"SELECT {_COLUMNS} FROM media WHERE app = ? AND media_id = ?",
                     (app, media_id)).fetchone()
    return None if row is None else Media(*row)


def select_usage(db, app):
    row = db.execute("SELECT bytes FROM media_usage WHERE app = ?", (app,)).fetchone()
    return 0 if row is None else row[0]


def select_named(db, content_hashes):
    """Those of C{content_hashes} that a record of any app names (C{media_by_content})."""
    named = set()
    for chunk in chunks(list(content_hashes)):
        rows = db.execute("SELECT DISTINCT content_hash FROM media"
                          f" WHERE content_hash IN ({marks(len(chunk))})", chunk)
        named.update(content_hash for (content_hash,) in rows)
    return named
