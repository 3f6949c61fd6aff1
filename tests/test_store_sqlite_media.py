"""SqliteStore's media area beyond its contract: a file written before migration 18 counts
the uploads it kept, each app's distinct contents once, and its media survive it unchanged."""
import os
import sqlite3

from twisted.internet import reactor
from twisted.trial import unittest

from jim import model
from jim.model import Media
from jim.store.migrations import bundled_migrations, migrate
from jim.store.sqlite import SqliteStore


class MediaUsageMigrationTests(unittest.TestCase):
    async def test_the_uploads_kept_before_are_counted(self):
        path = os.path.join(self.mktemp(), "jim.db")
        os.makedirs(os.path.dirname(path))
        db = sqlite3.connect(path, isolation_level=None)
        migrate(db, bundled_migrations()[:17])
        kept = [Media("a", "qiniu/file/j/one", "h1", model.FILE, 10, 1, fname="one"),
                Media("a", "qiniu/file/j/copy", "h1", model.FILE, 10, 1, fname="copy"),
                Media("a", "qiniu/image/j/two.png", "h2", model.IMAGE, 5, 2, "png", 1, 1),
                Media("b", "qiniu/file/j/one", "h1", model.FILE, 10, 1, fname="one")]
        for media in kept:
            db.execute("INSERT INTO media VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       [getattr(media, name) for name in (
                           "app", "media_id", "content_hash", "kind", "size", "crc32",
                           "format", "width", "height", "fname", "ctime")])
        db.close()
        store = SqliteStore(path, reactor, early_ids=0)
        await store.start()
        self.addCleanup(store.stop)
        self.assertEqual([await store.media.media_usage(app) for app in ("a", "b", "c")],
                         [15, 10, 0])
        self.assertEqual(await store.media.named_hashes(["h1", "h2", "h3"]), {"h1", "h2"})
        for media in kept:
            self.assertEqual(await store.media.get_media(media.app, media.media_id), media)
        await store.media.add_media(Media("a", "qiniu/file/j/three", "h2", model.FILE, 5, 2,
                                          fname="three"), 15)
        self.assertEqual(await store.media.media_usage("a"), 15)
