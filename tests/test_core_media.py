"""The Media service: an upload kept once under its id, its refusals keeping nothing, and
links that open until they expire (a Clock drives time)."""
import os

from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase

from jim import errors, model
from jim.core.media import LINK_SECONDS, SWEEP_GRACE, Media
from jim.errors import JimError
from jim.store.media_files import MediaFiles
from jim.store.memory import MemoryStore
from jim.wire import media_ids, media_links
from tests.support.media import kept_files, temporary_files

KEY = media_links.link_key(b"s" * 32)


def writing(*chunks, upload=model.Upload("a.png", "png", 3, 2)):
    """An ingest that writes C{chunks} and says C{upload}."""
    def ingest(spool):
        for chunk in chunks:
            spool.write(chunk)
        return upload
    return ingest


class MediaCase(TestCase):
    def setUp(self):
        self.clock = Clock()
        self.clock.advance(1_700_000_000)
        self.folder = self.mktemp()
        files = MediaFiles(self.folder, self.clock)
        files.start()
        self.files = files
        self.store = MemoryStore()
        self.media = Media(self.store.media, files, self.clock, KEY, max_bytes=100)

    async def refused(self, pending, code):
        with self.assertRaises(JimError) as caught:
            await pending
        self.assertEqual(caught.exception.code, code)
        return caught.exception


class MediaTests(MediaCase):
    def test_an_upload_is_kept_with_its_id(self):
        kept = self.successResultOf(defer.ensureDeferred(
            self.media.upload("app", "image", writing(b"ab", b"c"))))
        digits = media_ids.digits_of("app", "image", kept.content_hash)
        self.assertEqual(kept, model.Media(
            "app", f"qiniu/image/j/{digits}.png", kept.content_hash, "image", 3,
            kept.crc32, "png", 3, 2, "a.png", 1_700_000_000_000))
        self.assertEqual(self.successResultOf(self.store.media.get_media("app", kept.media_id)),
                         kept)
        self.assertEqual(kept_files(self.folder), [kept.content_hash])

    def test_a_voice_or_file_id_has_no_extension(self):
        voice = self.successResultOf(defer.ensureDeferred(self.media.upload(
            "app", "voice", writing(b"v", upload=model.Upload("v.amr", "amr")))))
        self.assertRegex(voice.media_id, r"^qiniu/voice/j/[0-9A-F]{32}$")
        self.assertEqual(voice.format, "amr")

    async def test_refusals_keep_nothing(self):
        await self.refused(self.media.upload("app", "video", writing(b"x")), errors.BAD_REQUEST)
        await self.refused(self.media.upload("app", "file", writing()), errors.BAD_REQUEST)
        error = await self.refused(self.media.upload("app", "file", writing(b"x" * 101)),
                                   errors.BODY_TOO_LARGE)
        self.assertIn("100 bytes", error.detail)

        def not_an_image(spool):
            spool.write(b"text")
            raise JimError(errors.BAD_REQUEST, "no image")

        await self.refused(self.media.upload("app", "image", not_an_image), errors.BAD_REQUEST)
        self.assertEqual((kept_files(self.folder), temporary_files(self.folder)), ([], []))

    async def test_a_link_opens_until_it_expires(self):
        kept = await self.media.upload("app", "file", writing(b"doc"))
        link = await self.media.link("app", kept.media_id.lower())
        path, _, query = link.partition("?")
        expires, signature = [pair.split("=")[1] for pair in query.split("&")]
        self.assertEqual(int(expires), 1_700_000_000 + LINK_SECONDS)
        segments = path.split("/")[2:]
        media, where, expiry = await self.media.open_link(segments, expires, signature)
        self.assertEqual((media, expiry), (kept, 1_700_000_000 + LINK_SECONDS))
        self.assertEqual(where, os.path.join(self.folder, kept.content_hash[:2],
                                             kept.content_hash[2:4], kept.content_hash))
        self.clock.advance(LINK_SECONDS)
        await self.media.open_link(segments, expires, signature)  # its last second
        self.clock.advance(1)
        error = await self.refused(self.media.open_link(segments, expires, signature),
                                   errors.NOT_ALLOWED)
        self.assertIn("expired", error.detail)

    async def test_ids_of_another_app_or_none_are_unknown(self):
        kept = await self.media.upload("app", "file", writing(b"doc"))
        await self.refused(self.media.link("other", kept.media_id), errors.NO_SUCH_MEDIA)
        await self.refused(self.media.link("app", "qiniu/file/j/" + "0" * 32),
                           errors.NO_SUCH_MEDIA)
        await self.refused(self.media.link("app", "avatar.png"), errors.BAD_REQUEST)

    async def test_a_message_may_carry_its_own_apps_uploads_only(self):
        image = await self.media.upload("app", "image", writing(b"img"))
        doc = await self.media.upload("app", "file", writing(b"doc"))
        theirs = await self.media.upload("other", "file", writing(b"theirs"))
        await self.media.require_uploads("app", (image.media_id, doc.media_id.lower()))
        await self.media.require_uploads("app", ())
        await self.refused(self.media.require_uploads("app", (image.media_id, theirs.media_id)),
                           errors.NO_SUCH_MEDIA)
        await self.refused(self.media.require_uploads("app", ("qiniu/file/j/" + "0" * 32,)),
                           errors.NO_SUCH_MEDIA)
        await self.refused(self.media.require_uploads("app", ("avatar.png",)),
                           errors.BAD_REQUEST)

    async def test_a_deleted_app_leaves_no_media_known(self):
        """An app deleted (the store forgot its media; every node is told): its media ids are
        unknown at once, under the same key given again too; another app's stay known."""
        kept = await self.media.upload("app", "file", writing(b"doc"))
        theirs = await self.media.upload("other", "file", writing(b"theirs"))
        self.assertEqual(await self.media.get("app", kept.media_id), kept)  # now in memory
        await self.store.forget_app("app")
        self.assertEqual(await self.media.get("app", kept.media_id), kept, "still in memory")
        self.media.on_bus(model.Invalidate(model.USERS_AREA, model.EVERY_APP, "app"))
        self.assertEqual(await self.media.get("app", kept.media_id), kept, "not the apps area")
        self.media.on_bus(model.Invalidate(model.APPS_AREA, model.EVERY_APP, "app"))
        await self.refused(self.media.get("app", kept.media_id), errors.NO_SUCH_MEDIA)
        self.assertEqual(await self.media.get("other", theirs.media_id), theirs)
        await self.store.forget_app("other")
        self.media.on_bus(model.Invalidate(model.APPS_AREA, model.EVERY_APP, ""))  # bus was away
        await self.refused(self.media.get("other", theirs.media_id), errors.NO_SUCH_MEDIA)


class QuotaTests(MediaCase):
    """The app's quota: an upload past it is refused, and nothing of it kept."""

    def setUp(self):
        super().setUp()
        self.media = Media(self.store.media, self.files, self.clock, KEY, max_bytes=100,
                           quota=10)

    async def test_an_upload_past_the_quota_keeps_nothing(self):
        first = await self.media.upload("app", "file", writing(b"a" * 6))
        error = await self.refused(self.media.upload("app", "file", writing(b"b" * 5)),
                                   errors.MEDIA_QUOTA)
        self.assertEqual(error.detail, "the app's uploads would pass its quota of 10 bytes:"
                         " 6 bytes are kept, this file has 5")
        self.assertEqual((kept_files(self.folder), temporary_files(self.folder)),
                         ([first.content_hash], []))
        self.assertEqual(await self.media.usage("app"), 6)

    async def test_the_same_bytes_count_once(self):
        first = await self.media.upload("app", "file", writing(b"a" * 6))
        self.assertEqual(await self.media.upload("app", "file", writing(b"a" * 6)), first)
        image = await self.media.upload("app", "image", writing(b"a" * 6))  # another id
        self.assertNotEqual(image.media_id, first.media_id)
        await self.media.upload("app", "file", writing(b"c" * 4))  # up to the quota exactly
        self.assertEqual(await self.media.usage("app"), 10)
        await self.refused(self.media.upload("app", "file", writing(b"d")), errors.MEDIA_QUOTA)
        await self.media.upload("other", "file", writing(b"d" * 10))  # each app has its own
        self.assertEqual(len(kept_files(self.folder)), 3)

    async def test_a_deleted_apps_uploads_count_no_more(self):
        await self.media.upload("app", "file", writing(b"a" * 10))
        await self.refused(self.media.upload("app", "file", writing(b"b")), errors.MEDIA_QUOTA)
        await self.store.forget_app("app")
        self.assertEqual(await self.media.usage("app"), 0)
        await self.media.upload("app", "file", writing(b"b"))


class SweepTests(MediaCase):
    """The files no record names any more go, those any app's record names stay."""

    async def kept(self, app, content):
        return (await self.media.upload(app, "file", writing(content))).content_hash

    def age(self, seconds, *content_hashes):
        """Make these files last modified C{seconds} ago."""
        when = self.clock.seconds() - seconds
        for content_hash in content_hashes or kept_files(self.folder):
            os.utime(self.files.path_of(content_hash), (when, when))

    async def test_a_deleted_apps_own_files_go(self):
        mine = await self.kept("app", b"only mine")
        shared = await self.kept("app", b"shared")
        await self.kept("other", b"shared")
        theirs = await self.kept("other", b"only theirs")
        self.age(SWEEP_GRACE + 1)
        self.assertEqual(await self.media.sweep(), 0, "every file is some upload's")
        await self.store.forget_app("app")
        self.assertEqual(await self.media.sweep(), 1)
        self.assertEqual(kept_files(self.folder), sorted([shared, theirs]))
        self.assertFalse(os.path.exists(self.files.path_of(mine)))
        self.assertEqual(temporary_files(self.folder), [])
        await self.store.forget_app("other")
        self.assertEqual(await self.media.sweep(), 2)
        self.assertEqual(kept_files(self.folder), [])

    async def test_a_sweep_first_has_what_older_nodes_kept_counted(self):
        """On a store nodes of an older jim share while they are upgraded, their records are
        counted (IMediaStore.count_older) before the sweep asks which files they name."""
        asked = []
        area = self.store.media

        class Asking:
            def count_older(self):
                asked.append("count older")
                return area.count_older()

            def named_hashes(self, hashes):
                asked.append("named")
                return area.named_hashes(hashes)

            def __getattr__(self, name):
                return getattr(area, name)

        media = Media(Asking(), self.files, self.clock, KEY, max_bytes=100)
        await self.kept("app", b"mine")
        self.age(SWEEP_GRACE + 1)
        await media.sweep()
        self.assertEqual(asked, ["count older", "named"])

    async def test_young_files_wait_for_a_later_sweep(self):
        mine = await self.kept("app", b"young")
        self.age(SWEEP_GRACE - 1)
        await self.store.forget_app("app")
        self.assertEqual(await self.media.sweep(), 0)
        self.assertEqual(kept_files(self.folder), [mine])
        self.clock.advance(2)
        self.assertEqual(await self.media.sweep(), 1)
        self.assertEqual(kept_files(self.folder), [])

    async def test_an_upload_of_the_same_bytes_during_a_sweep_keeps_them(self):
        """A sweep that asked the store before another app's upload of the same bytes was
        recorded does not remove the file that upload kept (touched) meanwhile."""
        content_hash = await self.kept("app", b"popular")
        self.age(SWEEP_GRACE + 1)
        await self.store.forget_app("app")
        asked = self.store.media.named_hashes
        uploaded = []

        async def stale_answer(content_hashes):
            answer = await asked(content_hashes)  # nothing names it now
            uploaded.append(await self.media.upload("other", "file", writing(b"popular")))
            return answer

        self.store.media.named_hashes = stale_answer
        self.assertEqual(await self.media.sweep(), 0)
        self.assertEqual(kept_files(self.folder), [content_hash])
        self.assertEqual(uploaded[0].content_hash, content_hash)
        self.assertEqual(temporary_files(self.folder), [])

    async def test_a_deletion_sweeps_now_and_once_its_grace_is_over(self):
        old = await self.kept("app", b"old")
        self.age(SWEEP_GRACE + 1)
        young = await self.kept("app", b"young")
        self.age(10, young)
        await self.store.forget_app("app")
        await self.media.app_deleted("app", [])
        self.assertEqual(kept_files(self.folder), [young])
        self.clock.advance(SWEEP_GRACE)
        self.assertEqual(kept_files(self.folder), [young])
        self.clock.advance(1)
        self.assertEqual(kept_files(self.folder), [])
        self.assertFalse(os.path.exists(self.files.path_of(old)))

    async def test_sweeps_asked_for_meanwhile_make_one_more(self):
        started = []
        sweep = self.media.sweep

        async def counted():
            started.append(len(started))
            await pause
            return await sweep()

        pause = defer.Deferred()
        self.media.sweep = counted
        first = self.media.sweep_soon()
        second, third = self.media.sweep_soon(), self.media.sweep_soon()
        self.assertEqual(started, [0])
        pause.callback(None)
        await first
        await defer.gatherResults([second, third])
        self.assertEqual(started, [0, 1])

    async def test_a_stopped_service_drops_the_later_sweep(self):
        young = await self.kept("app", b"young")
        await self.store.forget_app("app")
        await self.media.app_deleted("app", [])
        self.media.stop()
        self.clock.advance(SWEEP_GRACE + 1)
        self.assertEqual(self.clock.getDelayedCalls(), [])
        self.assertEqual(kept_files(self.folder), [young])
