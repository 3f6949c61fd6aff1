"""The app's quota of kept files (``--media-quota``) over real sockets, through
``/v1/resource`` and the Web SDK's ``/sdk/resource``: an upload past it refused with
JMessage's error and nothing kept, the same bytes counted once; and an app deleted through the
administrator's API leaves none of the files only its uploads used."""
import os
import time

from jim.core.media import SWEEP_GRACE
from tests.integration.test_admin_apps import ADMIN, Admin
from tests.integration.test_rest_media import MediaCase
from tests.integration.test_sdk_resource import SdkResourceCase
from tests.support.media import image_bytes, kept_files, temporary_files
from tests.support.rest import start_rest
from tests.support.waiting import until

QUOTA = "the app's uploads would pass its quota of 1000 bytes"


class RestQuotaTests(MediaCase):
    async def test_an_upload_past_the_quota_is_refused_and_nothing_kept(self):
        await self.start(media_quota=1000)
        first = self.assertJson(await self.upload(b"a" * 600, kind="file"))
        response = await self.upload(b"b" * 401, kind="file")
        self.assertError(response, 403, 899003)
        self.assertEqual(response.json()["error"]["message"],
                         QUOTA + ": 600 bytes are kept, this file has 401")
        self.assertEqual(kept_files(self.folder), [first["hash"]])
        self.assertEqual(temporary_files(self.folder), [])
        # the same bytes again count nothing, under another name or type too
        self.assertEqual(self.assertJson(await self.upload(b"a" * 600, kind="file")), first)
        self.assertJson(await self.upload(b"a" * 600, kind="file", filename="again.bin"))
        self.assertJson(await self.upload(b"a" * 600, kind="voice", filename="v.mp3"))
        self.assertJson(await self.upload(b"b" * 400, kind="file"))  # up to it exactly
        self.assertError(await self.upload(b"c", kind="file"), 403, 899003)
        self.assertEqual(len(kept_files(self.folder)), 2)
        self.assertEqual(await self.jim.core.media.usage(self.rest.key), 1000)


class SdkQuotaTests(SdkResourceCase):
    async def test_a_user_cannot_upload_past_the_apps_quota(self):
        await self.start(media_quota=1000)
        content = image_bytes("PNG", (20, 10))
        self.assertLess(len(content), 1000)
        self.assertJson(await self.upload(content))
        folder = os.path.join(self.jim.config.data, "media")
        kept = kept_files(folder)
        response = await self.upload(b"x" * 999, kind="file", filename="big.bin")
        self.assertError(response, 403, 899003)
        self.assertTrue(response.json()["error"]["message"].startswith(QUOTA))
        self.assertEqual(kept_files(folder), kept)
        self.assertEqual(temporary_files(folder), [])


class DeletedAppFilesTests(MediaCase):
    async def test_a_deleted_apps_own_files_go(self):
        rest = await self.start_with_admin()
        shop = await Admin(self.jim, ADMIN).create(name="Shop", appKey="ShopApp00000000000000001")
        mine = self.assertJson(await self.upload(b"only the shop's", kind="file", rest=shop))
        self.assertJson(await self.upload(b"both", kind="file", rest=shop))
        both = self.assertJson(await self.upload(b"both", kind="file", rest=rest))
        theirs = self.assertJson(await self.upload(b"the default app's", kind="file"))
        old = time.time() - SWEEP_GRACE - 60  # (what a sweep after the grace finds)
        for name in kept_files(self.folder):
            os.utime(os.path.join(self.folder, name[:2], name[2:4], name), (old, old))
        self.assertEmpty(await Admin(self.jim, ADMIN).delete(f"/admin/v1/apps/{shop.key}"))
        expected = sorted([both["hash"], theirs["hash"]])
        await until(lambda: kept_files(self.folder) == expected)
        self.assertNotIn(mine["hash"], kept_files(self.folder))
        self.assertEqual(temporary_files(self.folder), [])
        self.assertEqual(await self.fetched(both["media_id"]), b"both")

    async def start_with_admin(self):
        self.jim, self.rest = await start_rest(self, admin_secret=ADMIN)
        self.folder = os.path.join(self.jim.config.data, "media")
        return self.rest

    async def fetched(self, media_id):
        response = await self.fetch(await self.link(media_id))
        self.assertEqual(response.status, 200)
        return response.body
