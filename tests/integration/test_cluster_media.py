"""Media on a two-node cluster (a real redis-server, one media folder shared by both nodes):
an upload made on one node is found, linked and downloaded on the other, with the link either
node made; a node given a folder of its own cannot serve it (what operations.md warns of);
the app's quota holds across the nodes."""
import os
from urllib.parse import urlsplit

from twisted.internet import defer
from twisted.trial.unittest import TestCase

from tests.integration.test_cluster import KEY, SECRET
from tests.support.inprocess import start_jim
from tests.support.media import image_bytes, kept_files, multipart
from tests.support.redis_server import empty_redis
from tests.support.rest import Checks, Rest, build_request, send_raw


class ClusterMediaTests(TestCase, Checks):
    timeout = 60

    async def node(self, url, media_dir, **limits):
        node = await start_jim(self, store=url, app_key=KEY, master_secret=SECRET,
                               media_dir=media_dir, limits={"rest_rate": 0, **limits})
        return node, Rest(node, KEY, SECRET)

    async def fetch(self, link, node):
        split = urlsplit(link)
        return await send_raw(node.port, build_request("GET", f"{split.path}?{split.query}"))

    async def upload(self, rest, content):
        body, content_type = multipart(content)
        return self.assertJson(await rest.post("/v1/resource?type=image", body=body,
                                               content_type=content_type))

    async def test_an_upload_on_one_node_is_served_by_the_other(self):
        url, shared = empty_redis(), os.path.abspath(self.mktemp())
        (a, rest_a), (b, rest_b) = [await self.node(url, shared) for _ in range(2)]
        content = image_bytes("PNG", (64, 48))
        uploaded = await self.upload(rest_a, content)
        media_id = uploaded["media_id"]

        # the link node A made downloads on node B
        link = self.assertJson(await rest_a.get(f"/v1/resource?mediaId={media_id}"))["url"]
        response = await self.fetch(link, b)
        self.assertEqual((response.status, response.body), (200, content))
        self.assertEqual(response.header("content-type"), "image/png")
        # node B finds the upload by its id, and its link works on node A
        link_b = self.assertJson(await rest_b.get(f"/v1/resource?mediaId={media_id}"))["url"]
        for node in (a, b):
            self.assertEqual((await self.fetch(link_b, node)).body, content)
        # the same upload on node B is the same media, kept once
        self.assertEqual(await self.upload(rest_b, content), uploaded)
        self.assertEqual(kept_files(shared), [uploaded["hash"]])

    async def test_a_node_with_a_folder_of_its_own_cannot_serve_the_others_uploads(self):
        url = empty_redis()
        (a, rest_a), (b, rest_b) = [await self.node(url, os.path.abspath(self.mktemp()))
                                    for _ in range(2)]
        media_id = (await self.upload(rest_a, image_bytes()))["media_id"]
        link = self.assertJson(await rest_b.get(f"/v1/resource?mediaId={media_id}"))["url"]
        self.assertEqual((await self.fetch(link, a)).status, 200)
        response = await self.fetch(link, b)
        self.assertError(response, 404, 899003)
        self.assertIn("missing", response.json()["error"]["message"])

    async def test_uploads_at_once_on_two_nodes_pass_the_quota_no_further(self):
        url, shared = empty_redis(), os.path.abspath(self.mktemp())
        first, second = image_bytes("PNG", (30, 20)), image_bytes("PNG", (20, 30))
        quota = max(len(first), len(second)) + 10  # room for one of them, not both
        (a, rest_a), (b, rest_b) = [await self.node(url, shared, media_quota=quota)
                                    for _ in range(2)]
        responses = await defer.gatherResults([
            defer.ensureDeferred(rest.post("/v1/resource?type=image", body=body,
                                           content_type=content_type))
            for rest, (body, content_type) in ((rest_a, multipart(first)),
                                               (rest_b, multipart(second)))])
        self.assertEqual(sorted(response.status for response in responses), [200, 403])
        (passed,) = [r.json() for r in responses if r.status == 200]
        (refused,) = [r for r in responses if r.status == 403]
        self.assertError(refused, 403, 899003)
        self.assertEqual(kept_files(shared), [passed["hash"]])
        for node in (a, b):
            self.assertEqual(await node.core.media.usage(KEY), passed["fsize"])
