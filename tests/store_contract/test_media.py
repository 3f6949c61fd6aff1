"""The contract of the media area (IMediaStore), for every store."""
from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet import defer
from twisted.trial import unittest
from zope.interface.verify import verifyObject

from jim import errors, model
from jim.interfaces import IMediaStore
from jim.errors import JimError
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

    async def test_counting_older_records_counts_nothing_twice(self):
        """What this store kept was counted as it was kept: a count of older records (as a
        sweep makes first) changes no usage and no name."""
        media = self.store.media
        await media.add_media(PHOTO)
        before = (await media.media_usage("a"), await media.named_hashes([HASH, "none"]))
        for _ in range(2):
            self.assertIsNone(await media.count_older())
            self.assertEqual((await media.media_usage("a"),
                              await media.named_hashes([HASH, "none"])), before)
        self.assertEqual(before, (PHOTO.size, {HASH}))

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


def upload(app, name, content_hash, size):
    """A file of C{app} with this media id, content and size."""
    return Media(app, f"qiniu/file/j/{name}", content_hash, model.FILE, size, 0, fname=name)


class UsageContract(ContractCase):
    """Each app's usage: its distinct contents, each counted once; the quota; the contents
    named by any app's records."""

    async def test_each_content_counts_once(self):
        media = self.store.media
        self.assertEqual(await media.media_usage("a"), 0)
        await media.add_media(upload("a", "one", "h1", 100))
        await media.add_media(upload("a", "one", "h1", 100))  # the same upload again
        await media.add_media(upload("a", "copy", "h1", 100))  # the same bytes, another name
        self.assertEqual(await media.media_usage("a"), 100)
        await media.add_media(upload("a", "two", "h2", 20))
        self.assertEqual(await media.media_usage("a"), 120)
        await media.add_media(upload("b", "one", "h1", 100))  # another app's count
        self.assertEqual((await media.media_usage("a"), await media.media_usage("b")),
                         (120, 100))

    async def test_past_the_quota_nothing_is_kept(self):
        media = self.store.media
        await media.add_media(upload("a", "one", "h1", 60), 100)
        error = await self.refused(media.add_media(upload("a", "two", "h2", 41), 100),
                                   errors.MEDIA_QUOTA)
        self.assertIn("quota of 100 bytes", error.detail)
        self.assertIn("60 bytes are kept", error.detail)
        self.assertIsNone(await media.get_media("a", "qiniu/file/j/two"))
        self.assertEqual(await media.named_hashes(["h1", "h2"]), {"h1"})
        self.assertEqual(await media.media_usage("a"), 60)
        # what counts nothing passes however small the quota: the same upload, the same bytes
        again = upload("a", "one", "h1", 60)
        self.assertEqual(await media.add_media(again, 1), again)
        copy = upload("a", "copy", "h1", 60)
        self.assertEqual(await media.add_media(copy, 1), copy)
        # up to the quota exactly; 0 is no quota; another app has its own
        await media.add_media(upload("a", "two", "h2", 40), 100)
        self.assertEqual(await media.media_usage("a"), 100)
        await self.refused(media.add_media(upload("a", "three", "h3", 1), 100),
                           errors.MEDIA_QUOTA)
        await media.add_media(upload("a", "three", "h3", 1), 0)
        await media.add_media(upload("b", "two", "h2", 100), 100)
        self.assertEqual((await media.media_usage("a"), await media.media_usage("b")),
                         (101, 100))

    async def test_adds_made_at_once_pass_only_as_far_as_the_quota_holds(self):
        media = self.store.media
        outcomes = await defer.DeferredList(
            [media.add_media(upload("a", f"f{n}", f"h{n}", 40), 100) for n in range(4)]
            + [media.add_media(upload("a", "again", "h0", 40), 100)], consumeErrors=True)
        passed = [ok for ok, _ in outcomes]
        self.assertEqual(passed, [True, True, False, False, True])
        for ok, value in outcomes:
            if not ok:
                self.assertEqual(value.value.code, errors.MEDIA_QUOTA)
        self.assertEqual(await media.media_usage("a"), 80)
        self.assertEqual(await media.named_hashes([f"h{n}" for n in range(4)]), {"h0", "h1"})

    async def test_the_usage_stops_at_the_largest_integer(self):
        media = self.store.media
        await media.add_media(upload("a", "huge", "h1", MAX_INT64))
        await media.add_media(upload("a", "more", "h2", 5))
        self.assertEqual(await media.media_usage("a"), MAX_INT64)
        await self.refused(media.add_media(upload("a", "past", "h3", 1), MAX_INT64),
                           errors.MEDIA_QUOTA)

    async def test_named_contents_are_any_apps_and_go_with_their_apps(self):
        media = self.store.media
        self.assertEqual(await media.named_hashes([]), set())
        await media.add_media(upload("a", "mine", "h1", 1))
        await media.add_media(upload("a", "ours", "h2", 2))
        await media.add_media(upload("{b}", "ours", "h2", 2))
        self.assertEqual(await media.named_hashes(["h1", "h2", "h3", "h1"]), {"h1", "h2"})
        await self.store.forget_app("a")
        self.assertEqual(await media.media_usage("a"), 0)
        self.assertEqual(await media.named_hashes(["h1", "h2", "h3"]), {"h2"})
        self.assertEqual(await media.media_usage("{b}"), 2)
        await self.store.forget_app("{b}")
        self.assertEqual(await media.named_hashes(["h1", "h2", "h3"]), set())
        # the key given again starts from nothing
        await media.add_media(upload("a", "mine", "h1", 7), 7)
        self.assertEqual(await media.media_usage("a"), 7)
        self.assertEqual(await media.named_hashes(["h1", "h2"]), {"h1"})

    async def test_the_usage_follows_its_rules(self):
        @settings(max_examples=self.property_examples, deadline=None, derandomize=True)
        @given(st.sampled_from([0, 50, 100]),
               st.lists(st.tuples(st.sampled_from("abcd"), st.sampled_from("xyz"),
                                  st.integers(0, 60)), max_size=8))
        def check(quota, adds):
            app = self.fresh_app()
            kept, counted, used = {}, set(), 0
            for name, content, size in adds:
                value = upload(app, name, f"{app}-{content}", size)
                if name in kept:
                    expected = kept[name]
                elif value.content_hash in counted:
                    expected = kept[name] = value
                elif quota and used + size > quota:
                    expected = None
                else:
                    counted.add(value.content_hash)
                    used += size
                    expected = kept[name] = value
                try:
                    got = self.blocking(self.store.media.add_media, value, quota)
                except JimError as refusal:
                    self.assertEqual((refusal.code, expected), (errors.MEDIA_QUOTA, None))
                else:
                    self.assertEqual(got, expected)
            self.assertEqual(self.blocking(self.store.media.media_usage, app), used)
            every = [f"{app}-{content}" for content in "xyz"]
            self.assertEqual(self.blocking(self.store.media.named_hashes, every), counted)

        await self.run_property(check)


class MemoryMediaTests(MediaContract, OnMemory, unittest.TestCase):
    pass


class SqliteMediaTests(MediaContract, OnSqlite, unittest.TestCase):
    pass


class RedisMediaTests(MediaContract, OnRedis, unittest.TestCase):
    pass


class MemoryUsageTests(UsageContract, OnMemory, unittest.TestCase):
    pass


class SqliteUsageTests(UsageContract, OnSqlite, unittest.TestCase):
    pass


class RedisUsageTests(UsageContract, OnRedis, unittest.TestCase):
    pass
