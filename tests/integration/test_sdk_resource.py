"""``/sdk/resource`` over real sockets: a signed-in user uploads with the reconnect token of its
login reply and gets what ``/v1/resource`` answers, a link that downloads the bytes, and an
upload it can send from its socket. No token, a bad one, one of a user since forbidden,
deleted or given another password, and another app's media are refused as /v1 refuses them;
the body limit and the app's REST rate are /v1/resource's."""
import json

from twisted.trial.unittest import TestCase

from tests.integration.test_rest_live import Clients
from tests.support.media import AMR, image_bytes, kept_files, multipart, temporary_files
from tests.support.rest import (
    Checks, build_request, default_credentials, second_app, send_raw, start_rest,
)


def bearer(token):
    return [("Authorization", f"Bearer {token}")]


class SdkResourceCase(TestCase, Checks, Clients):
    timeout = 60

    async def start(self, **limits):
        self.jim, self.rest = await start_rest(self, limits=limits or None)
        await self.rest.register("alice", "bobby")
        self.alice = await self.tcp(self.jim, "alice")
        # the token of the login reply (cmd 6)
        self.token = (await self.alice.request(5, {"cmd": 5, "userId": "alice",
                                                   "password": "secret"}, 6))["token"]

    async def upload(self, content, kind="image", headers=None, filename="photo.png"):
        body, content_type = multipart(content, filename=filename)
        headers = bearer(self.token) if headers is None else headers
        return await send_raw(self.jim.port, build_request(
            "POST", f"/sdk/resource?type={kind}", body,
            headers + [("Content-Type", content_type)]))

    async def link(self, media_id, headers=None):
        headers = bearer(self.token) if headers is None else headers
        return await send_raw(self.jim.port, build_request(
            "GET", f"/sdk/resource?mediaId={media_id}", headers=headers))

    def assertRefusedToken(self, response):
        self.assertError(response, 401, 899008)
        self.assertEqual(response.header("www-authenticate"), 'Bearer realm="jim"')


class SdkResourceTests(SdkResourceCase):
    async def test_upload_link_download_and_send_it(self):
        await self.start()
        content = image_bytes("PNG", (20, 10))
        image = self.assertJson(await self.upload(content))
        # what /v1/resource answers for the same bytes in the same app
        body, content_type = multipart(content)
        same = self.assertJson(await self.rest.post("/v1/resource?type=image", body=body,
                                                    content_type=content_type))
        self.assertEqual(image, same)
        self.assertEqual((image["width"], image["height"], image["format"]), (20, 10, "png"))
        voice = self.assertJson(await self.upload(AMR, kind="voice", filename="v.amr"))
        self.assertEqual(voice["format"], "amr")

        url = self.assertJson(await self.link(image["media_id"]))["url"]
        self.assertTrue(url.startswith("http://127.0.0.1/media/"), url)
        path = url[len("http://127.0.0.1"):]
        got = await send_raw(self.jim.port, build_request("GET", path))
        self.assertEqual((got.status, got.body), (200, content))

        bobby = await self.ws(self.jim, "bobby")
        ack = await self.alice.request(11, {"cmd": 11, "chatType": 2, "to": "bobby",
                                            "msgType": 1, "msgBody": image}, 12)
        self.assertEqual(ack["code"], 10000, ack)
        self.assertEqual(json.loads((await self.chat(bobby))["content"]), image)

    async def test_no_token_or_a_bad_one_is_refused_and_nothing_kept(self):
        await self.start()
        key, secret = default_credentials(self.jim)
        bad = [
            [],
            bearer(""),
            bearer(self.token + "x"),
            bearer("not.a-token"),
            [("Authorization", self.token)],
            [("Authorization", self.rest.auth)],  # the app's own credentials are no token
        ]
        for headers in bad:
            self.assertRefusedToken(await self.upload(image_bytes(), headers=headers))
            self.assertRefusedToken(await self.link("qiniu/image/j/" + "A" * 32 + ".png",
                                                    headers=headers))
        folder = f"{self.jim.config.data}/media"
        self.assertEqual((kept_files(folder), temporary_files(folder)), ([], []))
        self.assertError(await send_raw(self.jim.port, build_request(
            "DELETE", "/sdk/resource", headers=bearer(self.token))), 405, 899405)

    async def test_a_token_of_a_user_forbidden_deleted_or_with_a_new_password(self):
        await self.start()
        await self.rest.register("carol", "dave")
        tokens = {}
        for name in ("carol", "dave"):
            client = await self.tcp(self.jim, name)
            tokens[name] = (await client.request(5, {"cmd": 5, "userId": name,
                                                     "password": "secret"}, 6))["token"]
        self.assertJson(await self.upload(image_bytes(), headers=bearer(tokens["carol"])))
        self.assertEmpty(await self.rest.put("/v1/users/alice/password",
                                             {"new_password": "other"}))
        self.assertEmpty(await self.rest.put("/v1/users/carol/forbidden?disable=true"))
        self.assertEmpty(await self.rest.delete("/v1/users/dave"))
        for token in (self.token, tokens["carol"], tokens["dave"]):
            self.assertRefusedToken(await self.upload(image_bytes(), headers=bearer(token)))
        self.assertEmpty(await self.rest.put("/v1/users/carol/forbidden?disable=false"))
        self.assertJson(await self.upload(image_bytes(), headers=bearer(tokens["carol"])))

    async def test_another_apps_media_is_not_found(self):
        await self.start()
        other = await second_app(self.jim)
        body, content_type = multipart(image_bytes())
        theirs = self.assertJson(await other.post("/v1/resource?type=image", body=body,
                                                  content_type=content_type))
        mine = self.assertJson(await self.upload(image_bytes()))
        self.assertNotEqual(theirs["media_id"], mine["media_id"])
        self.assertError(await self.link(theirs["media_id"]), 404, 899003)
        self.assertError(await self.link(mine["media_id"][:14] + "0" * 32 + ".png"),
                         404, 899003)
        self.assertError(await self.link(""), 400, 899003)
        self.assertError(await self.upload(image_bytes(), kind="video"), 400, 899003)


class SdkResourceLimitTests(SdkResourceCase):
    async def test_a_large_upload_without_a_good_token_is_refused_before_its_body(self):
        await self.start()
        head = [("Content-Length", str(8 * 1024 * 1024)),
                ("Content-Type", "multipart/form-data; boundary=b")]
        for extra in ([], bearer("bad"), bearer("bad") + [("Expect", "100-continue")]):
            # only the head is sent: the answer cannot wait for the 8 MiB it announces
            response = await send_raw(self.jim.port, build_request(
                "POST", "/sdk/resource?type=file", headers=head + extra))
            self.assertRefusedToken(response)
        # over the upload's body limit: refused before it is read, token or not
        response = await send_raw(self.jim.port, build_request(
            "POST", "/sdk/resource?type=file",
            headers=[("Content-Length", str(8 * 1024 * 1024 + 64 * 1024 + 1))]
            + bearer(self.token)))
        self.assertError(response, 413, 899003)
        # a good token's large upload is read
        self.assertJson(await self.upload(b"x" * (200 * 1024), kind="file", filename="a.bin"))

    async def test_the_apps_rest_rate_for_each_user(self):
        """A user's calls take the app's rate from a bucket of the user's own: spending it
        does not leave the app server without calls."""
        await self.start(rest_rate=4)  # its users registered: 1 call of the app's bucket
        for _ in range(2):
            self.assertJson(await self.upload(image_bytes()))
        response = await self.link("qiniu/image/j/" + "A" * 32 + ".png")
        self.assertError(response, 404, 899003)
        self.assertEqual(response.header("x-rate-limit-limit"), "4")
        self.assertJson(await self.upload(image_bytes()))
        refused = await self.upload(image_bytes())  # the fifth of the user's
        self.assertError(refused, 429, 899030)
        self.assertIn("for this user", refused.body.decode())
        for _ in range(3):  # the app server still has its own three
            self.assertJson(await self.rest.get("/v1/users/alice"))
