# -*- test-case-name: tests.store_contract.test_media -*-
"""The SQL of the media area of L{jim.store.sqlite.SqliteStore}: plain functions over a
connection (writes on the writer thread inside a batch, reads on the reader thread)."""
from jim.model import Media
from jim.store.sqlite_sql_helpers import marks

#: the columns of a Media, in the order of its fields
_COLUMNS = ("app, media_id, content_hash, kind, size, crc32, format, width, height, fname,"
            " ctime")


def insert_media(db, media):
    """Keep C{media} unless its id is kept already; the one kept."""
    db.execute(f"INSERT OR IGNORE INTO media ({_COLUMNS}) VALUES ({marks(11)})",
               (media.app, media.media_id, media.content_hash, media.kind, media.size,
                media.crc32, media.format, media.width, media.height, media.fname,
                media.ctime))
    return select_media(db, media.app, media.media_id)


def select_media(db, app, media_id):
    row = db.execute(f"SELECT {_COLUMNS} FROM media WHERE app = ? AND media_id = ?",
                     (app, media_id)).fetchone()
    return None if row is None else Media(*row)
