"""What the media contract (tests/store_contract/test_media.py) cannot see of RedisStore's
media area: records an older jim kept, with no usage counted, counted once (at a start, and
again before every sweep); the names a forgotten app leaves in the every-app sets, taken out when a
sweep asks; and record keys told apart from keys that only look like them."""
import orjson
from twisted.internet import defer, reactor
from twisted.trial import unittest

from jim import model
from jim.metrics import Metrics
from jim.model import Media
from jim.redis.address import parse as parse_redis
from jim.store import redis_media_index
from jim.store.redis import RedisStore
from jim.store.redis_media import RedisMedia, media_key
from jim.store.redis_media_index import INDEXED, app_of, named_key
from tests.support.redis_server import empty_redis


def upload(app, name, content_hash, size):
    return Media(app, f"qiniu/file/j/{name}", content_hash, model.FILE, size, 0, fname=name)


class RedisMediaTests(unittest.TestCase):
    def setUp(self):
        return defer.ensureDeferred(self._open())

    async def _open(self):
        self.store = RedisStore(parse_redis(empty_redis()), reactor, metrics=Metrics())
        await self.store.start()
        self.addCleanup(self.store.stop)
        await self.store.backfilled()
        self.client = self.store.client

    async def as_an_older_jim_kept(self, *uploads):
        """Keep these records as a jim that counted no usage did (its SET NX), on a Redis
        where the count was never made."""
        for media in uploads:
            value = orjson.dumps([getattr(media, name) for name in
                                  ("media_id", "content_hash", "kind", "size", "crc32",
                                   "format", "width", "height", "fname", "ctime")])
            await self.client.call("SET", media_key(media.app, media.media_id), value, "NX")
        await self.client.call("DEL", INDEXED)

    async def test_older_records_are_counted_once(self):
        await self.as_an_older_jim_kept(
            upload("a", "one", "h1", 10), upload("a", "copy", "h1", 10),
            upload("a", "two", "h2", 5), upload("{b}%", "one", "h1", 10))
        older = RedisMedia(self.client)  # a node of this version, starting
        self.assertEqual(await older.media_usage("a"), 0, "not counted yet")
        # uncounted, the records name nothing; a start's count (index_older) counts them
        self.assertEqual(await older.named_hashes(["h1", "h2", "h3"]), set())
        self.assertEqual(await older.index_older(), 3)  # (the copy's content was counted)
        self.assertEqual(await older.named_hashes(["h1", "h2", "h3"]), {"h1", "h2"})
        self.assertEqual(await self.client.call("GET", INDEXED), "1")
        self.assertEqual((await older.media_usage("a"), await older.media_usage("{b}%")),
                         (15, 10))
        # counted once, whoever counts: an upload, another walk
        await older.add_media(upload("a", "three", "h2", 5))
        await self.client.call("DEL", INDEXED)
        self.assertEqual(await redis_media_index.run(self.client), 0)
        self.assertIsNone(await redis_media_index.run(self.client))
        self.assertEqual(await older.media_usage("a"), 15)

    async def test_every_sweep_counts_what_an_older_node_kept_since(self):
        """Nodes upgraded one by one: after the first new one counted, an older one still keeps
        records its way; the next sweep's count finds them, so their files stay."""
        await self.store.media.add_media(upload("a", "new", "h1", 10))
        await self.as_an_older_jim_kept(upload("a", "old", "h2", 7))
        await self.client.call("SET", INDEXED, "1")  # (counted before that record came)
        self.assertEqual(await self.store.media.named_hashes(["h1", "h2"]), {"h1"})
        await self.store.media.count_older()
        self.assertEqual(await self.store.media.named_hashes(["h1", "h2"]), {"h1", "h2"})
        self.assertEqual(await self.store.media.media_usage("a"), 17)

    async def test_a_start_counts_them_in_the_background(self):
        await self.as_an_older_jim_kept(upload("a", "one", "h1", 10))
        again = RedisStore(self.store.address, reactor, metrics=Metrics())
        await again.start()
        self.addCleanup(again.stop)
        await again.backfilled()
        self.assertEqual(await again.media.media_usage("a"), 10)
        self.assertEqual(await self.client.call("GET", INDEXED), "1")

    async def test_a_record_forgotten_before_its_count_gets_nothing(self):
        await self.as_an_older_jim_kept(upload("a", "one", "h1", 10))
        await self.client.call("DEL", media_key("a", "qiniu/file/j/one"))
        keys = [redis_media_index.hashes_key("a"), redis_media_index.usage_key("a"),
                media_key("a", "qiniu/file/j/one"), named_key("h1")]
        self.assertEqual(await self.client.run(redis_media_index.INDEX, keys, ["h1", 10]), 0)
        self.assertEqual(await self.store.media.media_usage("a"), 0)

    async def test_a_forgotten_apps_name_goes_when_a_sweep_asks(self):
        media = self.store.media
        await media.add_media(upload("a", "one", "h1", 1))
        await media.add_media(upload("b", "one", "h1", 1))
        await self.store.forget_app("a")
        self.assertEqual(len(await self.client.call("SMEMBERS", named_key("h1"))), 2)
        self.assertEqual(await media.named_hashes(["h1"]), {"h1"})
        self.assertEqual(await self.client.call("SMEMBERS", named_key("h1")),
                         [redis_media_index.hashes_key("b")])
        await self.store.forget_app("b")
        self.assertEqual(await media.named_hashes(["h1"]), set())
        self.assertEqual(await self.client.call("EXISTS", named_key("h1")), 0)

    def test_only_media_records_name_an_app(self):
        self.assertEqual(app_of("jim:{a}:media:qiniu/file/j/X"), "a")
        self.assertEqual(app_of("jim:{b%7Bx%7D%25}:media:m"), "b{x}%")
        for name in ("jim:{a}:media-usage", "jim:{a}:media-hashes", "jim:media:indexed",
                     "jim:{a}:rooms:x}:media:y", "jim:{a}x:media:y", "jim:media-named:h"):
            self.assertIsNone(app_of(name), name)
