"""The contract of the media area (IMediaStore), for every store."""
from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.trial import unittest
from zope.interface.verify import verifyObject

from jim import model
from jim.interfaces import IMediaStore
from jim.model import MAX_INT64, Media
from tests.store_contract.base import ContractCase, OnMemory, OnRedis, OnSqlite

HASH = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
#: an image with every field set
PHOTO = Media("a", "qiniu/image/j/0123456789ABCDEF0123456789ABCDEF.png", HASH, model.IMAGE,
              1234, 4_294_967_295, "png", 640, 480, "holiday 🌴.png", 1_700_000_000_123)
#: text SQLite can store: anything but lone surrogates (UTF-8 cannot encode them)
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
MEDIA = st.builds(
    Media, app=st.just("x"), media_id=TEXT, content_hash=TEXT,
    kind=st.sampled_from(model.MEDIA_KINDS), size=st.integers(0, MAX_INT64),
    crc32=st.integers(0, 2**32 - 1), format=TEXT, width=st.integers(0, 2**31),
    height=st.integers(0, 2**31), fname=TEXT, ctime=st.integers(-(2**63), MAX_INT64),
)


class MediaContract(ContractCase):
    def test_provides_the_interface(self):
        self.assertTrue(verifyObject(IMediaStore, self.store.media))

    async def test_add_and_get_every_field(self):
        media = self.store.media
        self.assertEqual(await media.add_media(PHOTO), PHOTO)
        self.assertEqual(await media.get_media("a", PHOTO.media_id), PHOTO)
        self.assertIsNone(await media.get_media("a", "qiniu/image/j/other.png"))
        voice = Media("a", "qiniu/voice/j/ABC", HASH, model.VOICE, 0, 0)
        await media.add_media(voice)
        got = await media.get_media("a", "qiniu/voice/j/ABC")
        self.assertEqual(got, voice)
        self.assertEqual((got.format, got.width, got.height, got.fname), ("", 0, 0, ""))

    async def test_the_first_one_kept_stays(self):
        media = self.store.media
        await media.add_media(PHOTO)
        again = Media("a", PHOTO.media_id, HASH, model.IMAGE, 1234, 7, "png", 1, 1, "b.png", 9)
        self.assertEqual(await media.add_media(again), PHOTO)
        self.assertEqual(await media.get_media("a", PHOTO.media_id), PHOTO)

    async def test_in_one_turn_the_first_one_wins(self):
        first = Media("a", "qiniu/file/j/F", HASH, model.FILE, 3, 1, fname="one.txt")
        second = Media("a", "qiniu/file/j/F", HASH, model.FILE, 3, 1, fname="two.txt")
        kept = await self.in_one_turn([(self.store.media.add_media, first),
                                       (self.store.media.add_media, second)])
        self.assertEqual(kept, [first, first])

    async def test_media_are_per_app(self):
        media = self.store.media
        await media.add_media(PHOTO)
        self.assertIsNone(await media.get_media("b", PHOTO.media_id))
        theirs = Media("b", PHOTO.media_id, HASH, model.FILE, 1, 2, fname="b's")
        self.assertEqual(await media.add_media(theirs), theirs)  # the same id in another app
        self.assertEqual(await media.get_media("a", PHOTO.media_id), PHOTO)
        self.assertEqual(await media.get_media("b", PHOTO.media_id), theirs)
        braced = Media("{a}", "id", HASH, model.FILE, 1, 2)  # an app with a hash tag's braces
        await media.add_media(braced)
        self.assertEqual(await media.get_media("{a}", "id"), braced)
        self.assertIsNone(await media.get_media("a", "id"))

    async def test_what_is_given_round_trips(self):
        @settings(max_examples=self.property_examples, deadline=None, derandomize=True)
        @given(st.lists(MEDIA, max_size=4))
        def check(values):
            app = self.fresh_app()
            kept = {}
            for value in values:
                value = Media(app, *[getattr(value, f) for f in
                                     ("media_id", "content_hash", "kind", "size", "crc32",
                                      "format", "width", "height", "fname", "ctime")])
                first = kept.setdefault(value.media_id, value)
                self.assertEqual(self.blocking(self.store.media.add_media, value), first)
            for media_id, value in kept.items():
                self.assertEqual(self.blocking(self.store.media.get_media, app, media_id), value)

        await self.run_property(check)


class MemoryMediaTests(MediaContract, OnMemory, unittest.TestCase):
    pass


class SqliteMediaTests(MediaContract, OnSqlite, unittest.TestCase):
    pass


class RedisMediaTests(MediaContract, OnRedis, unittest.TestCase):
    pass
