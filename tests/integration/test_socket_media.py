"""cmd 11 with a ``msgBody`` over real sockets: a user uploads an image (``/v1/resource``) and
sends it from TCP or WebSocket; its receivers on both get J-IM's push (msgType 1, the body's
JSON as content). A media id of another app, or of no upload, and a bad body are refused
with 10002, and nothing is stored."""
import json

from twisted.trial.unittest import TestCase

from tests.integration.test_rest_live import Clients
from tests.support.media import image_bytes, multipart
from tests.support.rest import Checks, second_app, start_rest

LOCATION = {"latitude": 39.9, "longitude": 116.4, "scale": 15, "label": "Beijing"}


class SocketMediaTests(TestCase, Checks, Clients):
    timeout = 60

    async def setUp(self):
        self.jim, self.rest = await start_rest(self)
        await self.rest.register("alice", "bobby")

    async def upload(self, content, rest=None):
        body, content_type = multipart(content)
        return self.assertJson(await (rest or self.rest).post(
            "/v1/resource?type=image", body=body, content_type=content_type))

    async def test_an_uploaded_image_reaches_the_receiver_on_both_sockets(self):
        image = await self.upload(image_bytes("PNG", (64, 48)))
        bobby = await self.both(self.jim, "bobby")
        senders = [await self.tcp(self.jim, "alice"), await self.ws(self.jim, "alice")]
        for n, sender in enumerate(senders):
            ack = await sender.request(11, {"cmd": 11, "chatType": 2, "to": "bobby",
                                            "msgType": 1, "id": f"c-{n}", "msgBody": image}, 12)
            self.assertEqual((ack["code"], ack["data"]["clientId"]), (10000, f"c-{n}"), ack)
            for client in bobby:
                chat = await self.chat(client)
                self.assertEqual((chat["id"], chat["from"], chat["to"], chat["msgType"]),
                                 (ack["data"]["id"], "alice", "bobby", 1))
                self.assertEqual(json.loads(chat["content"]), image)
        # the history keeps the body as its JSON text too
        history = await self.fetch(bobby[0], "bobby", kind=1, fromUserId="alice")
        self.assertEqual([json.loads(c) for c in history["alice"]], [image, image])

    async def test_a_location_and_a_custom_message_to_a_group(self):
        gid = await self.rest.group("alice", ["bobby"])
        alice, bobby = await self.ws(self.jim, "alice"), await self.tcp(self.jim, "bobby")
        for msg_type, body in ((7, LOCATION), (8, {"card": {"title": "t"}})):
            ack = await alice.request(11, {"cmd": 11, "chatType": 1, "groupId": str(gid),
                                           "msgType": msg_type, "msgBody": body}, 12)
            self.assertEqual(ack["code"], 10000, ack)
            for client in (alice, bobby):
                chat = await self.chat(client)
                self.assertEqual((chat["msgType"], json.loads(chat["content"])),
                                 (msg_type, body))

    async def test_another_apps_or_an_unknown_media_id_is_refused_and_nothing_kept(self):
        content = image_bytes()
        mine = await self.upload(content)
        theirs = await self.upload(content, rest=await second_app(self.jim))
        unknown = {**mine, "media_id": mine["media_id"][:14] + "0" * 32 + ".png"}
        bobby = await self.tcp(self.jim, "bobby")
        for sender in (await self.tcp(self.jim, "alice"), await self.ws(self.jim, "alice")):
            for n, (msg_type, body) in enumerate([
                (1, theirs),
                (1, unknown),
                (1, {**mine, "media_id": "avatar.png"}),
                (1, {**mine, "width": "64"}),
                (3, {"video": {"media_id": mine["media_id"], "media_crc32": 1, "fsize": 1,
                               "fname": "v.mp4"}, "duration": 1, "thumb": theirs}),
                (4, mine),
            ]):
                ack = await sender.request(11, {"cmd": 11, "chatType": 2, "to": "bobby",
                                                "msgType": msg_type, "id": f"x{n}",
                                                "msgBody": body}, 12)
                self.assertEqual((ack["code"], ack["data"]), (10002, {"clientId": f"x{n}"}),
                                 ack)
                self.assertIn("detail", ack)
            # nothing was stored nor pushed: the next chat bobby gets is this one
            await sender.request(11, {"cmd": 11, "chatType": 2, "to": "bobby",
                                      "content": "fence"}, 12)
            self.assertEqual((await self.chat(bobby))["content"], "fence")
        history = await self.fetch(bobby, "bobby", kind=1, fromUserId="alice")
        self.assertEqual(history, {"alice": ["fence", "fence"]})

    async def test_a_plain_text_chat_is_unchanged(self):
        alice, bobby = await self.tcp(self.jim, "alice"), await self.ws(self.jim, "bobby")
        ack = await alice.request(11, {"cmd": 11, "chatType": 2, "to": "bobby",
                                       "msgType": 1, "content": "pic.png"}, 12)
        self.assertEqual(ack["code"], 10000)
        chat = await self.chat(bobby)
        self.assertEqual((chat["msgType"], chat["content"]), (1, "pic.png"))
