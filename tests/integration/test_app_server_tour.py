"""The tour a new operator and app developer take, end to end on one real server: the
administrator creates two apps; in one, an image is uploaded and sent, a chat room is talked in
from a WebSocket and a TCP client, the word filter masks a word, the messages are read back
through the Report API v2 and arrive at a callback endpoint; the two apps chat once the
administrator allows it; bad calls on the way get their documented errors and change
nothing."""
import datetime
import json
import urllib.parse

from twisted.trial.unittest import TestCase

from tests.integration.test_admin_apps import ADMIN, Admin
from tests.integration.test_callbacks import eventually, use_url
from tests.integration.test_rest_live import Clients
from tests.support.callback_server import start_endpoint
from tests.support.inprocess import start_jim
from tests.support.jimclient import tcp_client, ws_client
from tests.support.media import image_bytes, multipart
from tests.support.rest import Checks

SHOP = "ShopApp00000000000000001"
NEWS = "NewsApp00000000000000001"


def window(jim, count=100):
    now = jim.core.clock.seconds()

    def stamp(seconds):
        return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).strftime(
            "%Y-%m-%d %H:%M:%S")

    return urllib.parse.urlencode({"begin_time": stamp(now - 60), "end_time": stamp(now + 60),
                                   "count": count})


class TourTests(TestCase, Checks, Clients):
    timeout = 90

    async def client(self, jim, name, app, ws=False):
        client = await (ws_client if ws else tcp_client)(jim.port, testcase=self)
        await client.login(name, appKey=app)
        return client

    async def test_the_tour(self):
        jim = await start_jim(self, admin_secret=ADMIN, limits={"rest_rate": 0})
        admin = Admin(jim)
        shop = await admin.create(name="Shop", appKey=SHOP)
        news = await admin.create(name="News", appKey=NEWS)
        await shop.register("alice", "bobby")
        await shop.admin("keeper")
        await news.register("nina")
        endpoint, _, url = await start_endpoint(self)
        await use_url(jim, SHOP, url)

        # an image, uploaded and sent
        body, content_type = multipart(image_bytes())
        self.assertError(await shop.post("/v1/resource?type=movie", body=body,
                                         content_type=content_type), 400, 899003)
        image = self.assertJson(await shop.post("/v1/resource?type=image", body=body,
                                                content_type=content_type))
        self.assertEqual((image["width"], image["height"], image["format"]), (7, 5, "png"))
        alice = await self.client(jim, "alice", SHOP)
        sent = self.assertJson(await shop.post("/v1/messages", {
            "version": 1, "target_type": "single", "target_id": "alice", "from_type": "admin",
            "from_id": "keeper", "msg_type": "image", "msg_body": image}), 201)
        chat = await self.chat(alice)
        self.assertEqual((int(chat["id"]), json.loads(chat["content"])["media_id"]),
                         (sent["msg_id"], image["media_id"]))

        # a chat room, talked in from a WebSocket and a TCP client
        room = self.assertJson(await shop.post("/v1/chatroom/", {
            "owner_username": "keeper", "name": "Lobby", "members_username": []}),
            201)["chatroom_id"]
        bobby = await self.client(jim, "bobby", SHOP, ws=True)
        for client in (alice, bobby):
            self.assertEqual((await client.request(105, {"cmd": 105, "roomId": room},
                                                   106))["code"], 10000)
        bobby.send(11, {"cmd": 11, "chatType": 3, "roomId": room, "content": "hello room"})
        self.assertEqual((await bobby.expect(12))["code"], 10000)
        for client in (alice, bobby):
            self.assertEqual((await self.chat(client))["content"], "hello room")

        # the word filter
        self.assertError(await shop.post("/v1/sensitiveword", ["far too long a word"]), 400,
                         899003)
        self.assertEmpty(await shop.post("/v1/sensitiveword", ["fool"]))
        self.assertEmpty(await shop.put("/v1/sensitiveword/status?status=1"))
        alice.send(11, {"cmd": 11, "chatType": 2, "to": "bobby", "content": "you fool"})
        ack = await alice.expect(12)
        # the sender is told the text kept, as the receiver gets it (a clean text's
        # acknowledgement has no content: J-IM's, byte for byte)
        self.assertEqual((ack["code"], ack["data"]["content"]), (10000, "you ****"))
        self.assertEqual((await self.chat(bobby))["content"], "you ****")

        # the Report API v2 reads them back; the callback endpoint got them
        self.assertError(await shop.get("/v2/messages?count=10"), 400, 899003)
        report = self.assertJson(await shop.get("/v2/messages?" + window(jim)))
        self.assertEqual([(m["msg_type"], m["target_type"]) for m in report["messages"]],
                         [("image", "single"), ("text", "chatroom"), ("text", "single")])
        self.assertEqual(report["messages"][2]["msg_body"]["text"], "you ****")
        ids = [m["msgid"] for m in report["messages"]]
        await eventually(lambda: len(endpoint.answered_ok("messages")) == 3)
        self.assertEqual([m["msgid"] for m in endpoint.answered_ok("messages")], ids)

        # the two apps chat once the administrator allows it, and not before
        nina = await self.client(jim, "nina", NEWS)
        crossing = {"version": 1, "target_type": "single", "target_id": "nina",
                    "target_appkey": NEWS, "from_type": "admin", "from_id": "keeper",
                    "msg_type": "text", "msg_body": {"text": "hello News"}}
        self.assertError(await shop.post("/v1/messages", crossing), 403, 899020)
        self.assertEqual(self.assertJson(await shop.get("/v2/messages?" + window(jim)))
                         ["total"], 3, "a refused send keeps nothing")
        for key, other in ((SHOP, NEWS), (NEWS, SHOP)):
            self.assertJson(await admin.put(f"/admin/v1/apps/{key}", {"cross_apps": [other]}))
        self.assertJson(await shop.post("/v1/messages", crossing), 201)
        chat = await self.chat(nina)
        self.assertEqual((chat["from"], chat["content"]), (f"{SHOP}:keeper", "hello News"))
        nina.send(11, {"cmd": 11, "chatType": 2, "to": f"{SHOP}:alice", "content": "hi Alice"})
        self.assertEqual((await nina.expect(12))["code"], 10000)
        chat = await self.chat(alice)
        self.assertEqual((chat["from"], chat["content"]), (f"{NEWS}:nina", "hi Alice"))
        # each app reports its own copy of the cross-app chat
        in_news = self.assertJson(await news.get("/v2/messages?" + window(jim)))["messages"]
        self.assertEqual([(m["from_appkey"], m["target_appkey"], m["msg_level"])
                          for m in in_news], [(SHOP, NEWS, 1), (NEWS, SHOP, 1)])
