"""Cross-app chat over every front end: two apps made through the administrator's API, allowed
to each other (each listing the other), chatting both ways over REST and J-IM sockets, each
app keeping the conversation in its users' inboxes and history; and every refusal when they
are not allowed, which keeps and delivers nothing."""
from twisted.trial.unittest import TestCase

from tests.integration.test_admin_apps import ADMIN, Admin
from tests.integration.test_app_server_tour import window
from tests.integration.test_callbacks import eventually, use_url
from tests.integration.test_rest_live import Clients
from tests.support.callback_server import start_endpoint
from tests.support.inprocess import start_jim
from tests.support.jimclient import tcp_client, ws_client
from tests.support.rest import Checks, text_message

ALPHA = "AlphaApp0000000000000001"
BETA = "BetaApp00000000000000001"
GAMMA = "GammaApp0000000000000001"


class CrossCase(TestCase, Checks, Clients):
    timeout = 60

    async def assert_reported_in(self, jim, apps, target_type, target_id, name):
        """Each of C{apps} (REST clients) lists, in its Report API messages, one message to
        C{target_type} C{target_id} of alpha, named C{name}."""
        for rest in apps:
            report = self.assertJson(await rest.get("/v2/messages?" + window(jim)))
            [listed] = [m for m in report["messages"] if m["target_type"] == target_type]
            self.assertEqual((str(listed["target_id"]), listed["target_name"],
                              listed["target_appkey"]), (str(target_id), name, ALPHA))

    async def apps(self, allowed=True, **limits):
        """Two apps (and a third, allowed by neither) with users and an admin each: C{(jim,
        admin, alpha, beta, gamma)}. With C{allowed} each lists the other."""
        jim = await start_jim(self, admin_secret=ADMIN, limits={"rest_rate": 0, **limits})
        admin = Admin(jim)
        alpha = await admin.create(name="Alpha", appKey=ALPHA)
        beta = await admin.create(name="Beta", appKey=BETA)
        gamma = await admin.create(name="Gamma", appKey=GAMMA)
        await alpha.register("alice", "anna")
        await beta.register("bobby", "bella")
        await gamma.register("gus1")
        for rest, name in ((alpha, "aadmin"), (beta, "badmin"), (gamma, "gadmin")):
            await rest.admin(name)
        if allowed:
            await self.allow(admin, ALPHA, [BETA])
            await self.allow(admin, BETA, [ALPHA])
        return jim, admin, alpha, beta, gamma

    async def allow(self, admin, key, others):
        app = self.assertJson(await admin.put(f"/admin/v1/apps/{key}", {"cross_apps": others}))
        self.assertEqual(app["cross_apps"], sorted(set(others)))

    async def login(self, jim, key, name, ws=False):
        client = await (ws_client if ws else tcp_client)(jim.port, testcase=self)
        await client.login(name, appKey=key)
        return client

    def chat_frame(self, to, content):
        return {"cmd": 11, "chatType": 2, "to": to, "content": content}


class CrossPermissionTests(CrossCase):
    async def test_the_administrator_sets_who_may_chat(self):
        jim, admin, alpha, beta, gamma = await self.apps(allowed=False)
        shown = self.assertJson(await admin.get(f"/admin/v1/apps/{ALPHA}"))
        self.assertEqual(shown["cross_apps"], [])
        await self.allow(admin, ALPHA, [GAMMA, BETA, BETA])
        self.assertEqual(self.assertJson(await admin.get(f"/admin/v1/apps/{ALPHA}"))
                         ["cross_apps"], [BETA, GAMMA])
        listed = self.assertJson(await admin.get("/admin/v1/apps?start=0&count=10"))["apps"]
        self.assertEqual({a["appKey"]: a["cross_apps"] for a in listed}[ALPHA], [BETA, GAMMA])
        made = await admin.post("/admin/v1/apps", {"name": "Delta", "cross_apps": [ALPHA]})
        self.assertEqual(self.assertJson(made, 201)["cross_apps"], [ALPHA])
        for bad in ({"cross_apps": ["NoSuchApp000000000000000"]}, {"cross_apps": [ALPHA]},
                    {"cross_apps": BETA}, {"cross_apps": [7]}, {"cross_apps": None}):
            self.assertError(await admin.put(f"/admin/v1/apps/{ALPHA}", bad), 400, 899003)
        self.assertError(await admin.post("/admin/v1/apps", {
            "name": "Epsilon", "cross_apps": ["NoSuchApp000000000000000"]}), 400, 899003)
        self.assertEqual(self.assertJson(await admin.get(f"/admin/v1/apps/{ALPHA}"))
                         ["cross_apps"], [BETA, GAMMA], "a refused change changes nothing")
        await self.allow(admin, ALPHA, [])
        self.assertEqual(self.assertJson(await admin.get(f"/admin/v1/apps/{ALPHA}"))
                         ["cross_apps"], [])

    async def test_chat_needs_each_app_to_list_the_other(self):
        jim, admin, alpha, beta, gamma = await self.apps(allowed=False)
        bobby = await self.login(jim, BETA, "bobby")
        alice = await self.login(jim, ALPHA, "alice")

        async def refused():
            self.assertError(await alpha.post("/v1/messages", text_message(
                "aadmin", "bobby", "no", target_appkey=BETA)), 403, 899020)
            self.assertError(await beta.post("/v1/messages", text_message(
                "badmin", "alice", "no", target_appkey=ALPHA)), 403, 899020)
            ack = await alice.request(11, self.chat_frame(f"{BETA}:bobby", "no"), 12)
            self.assertEqual(ack["code"], 10002, ack)
            ack = await bobby.request(11, self.chat_frame(f"{ALPHA}:alice", "no"), 12)
            self.assertEqual(ack["code"], 10002, ack)

        await refused()
        await self.allow(admin, ALPHA, [BETA])  # one side's word is not enough
        await refused()
        await self.allow(admin, BETA, [ALPHA, GAMMA])
        await self.allow(admin, ALPHA, [])  # nor once it is taken back
        await refused()
        # gamma lists nobody: beta's listing it allows nothing
        self.assertError(await beta.post("/v1/messages", text_message(
            "badmin", "gus1", "no", target_appkey=GAMMA)), 403, 899020)
        # an app that does not exist is refused alike
        self.assertError(await alpha.post("/v1/messages", text_message(
            "aadmin", "bobby", "no", target_appkey="NoSuchApp000000000000000")), 403, 899020)
        await self.nothing_kept(jim)
        for client in (alice, bobby):
            self.assertEqual([obj for cmd, obj in client.inbox.frames if cmd == 11], [])

    async def nothing_kept(self, jim):
        for key, name in ((ALPHA, "alice"), (BETA, "bobby"), (GAMMA, "gus1")):
            client = await self.login(jim, key, name)
            self.assertEqual(await self.fetch(client, name), {}, name)
            await client.disconnect()


class CrossMessageTests(CrossCase):
    async def test_each_app_masks_its_own_words_in_its_copy(self):
        jim, admin, alpha, beta, gamma = await self.apps()
        self.assertEmpty(await beta.post("/v1/sensitiveword", ["badword"]))
        self.assertEmpty(await beta.put("/v1/sensitiveword/status?status=1"))
        bobby = await self.login(jim, BETA, "bobby")
        await alpha.send("aadmin", "bobby", "a badword here", target_appkey=BETA)
        self.assertEqual((await self.chat(bobby))["content"], "a ******* here")
        history = await bobby.request(19, {"cmd": 19, "type": 1, "userId": "bobby",
                                           "fromUserId": f"{ALPHA}:aadmin"}, 20)
        kept = [m["content"] for ms in history["data"]["friends"].values() for m in ms]
        self.assertEqual(kept, ["a ******* here"])
        # the sender's app has no such word: its own copy is as sent
        alice = await self.login(jim, ALPHA, "alice")
        alice.send(11, self.chat_frame(f"{BETA}:bobby", "another badword"))
        self.assertEqual((await alice.expect(12))["code"], 10000)
        self.assertEqual((await self.chat(bobby))["content"], "another *******")
        mine = await alice.request(19, {"cmd": 19, "type": 1, "userId": "alice",
                                        "fromUserId": f"{BETA}:bobby"}, 20)
        self.assertEqual([m["content"] for ms in mine["data"]["friends"].values() for m in ms],
                         ["another badword"])

    async def test_app_servers_chat_both_ways_live_on_every_socket(self):
        jim, admin, alpha, beta, gamma = await self.apps()
        bobby = [await self.login(jim, BETA, "bobby"), await self.login(jim, BETA, "bobby",
                                                                        ws=True)]
        alice = await self.login(jim, ALPHA, "alice", ws=True)
        sent = await alpha.send("aadmin", "bobby", "hello beta", target_appkey=BETA)
        self.assertIsInstance(sent["msg_id"], int)
        for client in bobby:
            chat = await self.chat(client)
            self.assertEqual((chat["from"], chat["to"], chat["content"]),
                             (f"{ALPHA}:aadmin", "bobby", "hello beta"))
        # the receiver's app server answers in its own admin's name
        await beta.send("badmin", "alice", "hello alpha", target_appkey=ALPHA)
        chat = await self.chat(alice)
        self.assertEqual((chat["from"], chat["to"], chat["content"]),
                         (f"{BETA}:badmin", "alice", "hello alpha"))
        # the same username in the two apps is two users: beta's anna does not exist
        self.assertError(await alpha.post("/v1/messages", text_message(
            "aadmin", "anna", "x", target_appkey=BETA)), 403, 899002)
        self.assertError(await alpha.post("/v1/messages", text_message(
            "aadmin", "ghost", "x", target_appkey=BETA)), 403, 899002)
        # over REST, another app's user is named by target_appkey only
        self.assertError(await alpha.post("/v1/messages", text_message(
            "aadmin", f"{BETA}:bobby", "x")), 403, 899021)
        # another app's group or chat room is a target (test_cross_groups.py,
        # test_cross_rooms.py): these do not exist
        self.assertError(await alpha.post("/v1/messages", text_message(
            "aadmin", "10000000", "x", target_type="group", target_appkey=BETA)), 403, 899006)
        self.assertError(await alpha.post("/v1/messages", text_message(
            "aadmin", "10000000", "x", target_type="chatroom", target_appkey=BETA)), 403,
            899081)

    async def test_users_chat_over_sockets_by_qualified_names(self):
        jim, admin, alpha, beta, gamma = await self.apps()
        alice = await self.login(jim, ALPHA, "alice")
        bobby = await self.login(jim, BETA, "bobby", ws=True)
        ack = await alice.request(11, self.chat_frame(f"{BETA}:bobby", "hi bobby"), 12)
        self.assertEqual(ack["code"], 10000, "delivered: bobby is online")
        chat = await self.chat(bobby)
        self.assertEqual((chat["from"], chat["to"], chat["content"]),
                         (f"{ALPHA}:alice", "bobby", "hi bobby"))
        ack = await bobby.request(11, self.chat_frame(chat["from"], "hi alice"), 12)
        self.assertEqual(ack["code"], 10000)
        chat = await self.chat(alice)
        self.assertEqual((chat["from"], chat["to"], chat["content"]),
                         (f"{BETA}:bobby", "alice", "hi alice"))
        # a user of that app who does not exist
        ack = await alice.request(11, self.chat_frame(f"{BETA}:ghost", "x"), 12)
        self.assertEqual(ack["code"], 10002)
        # each side's history holds the conversation both ways, in order
        for client, name, peer in ((alice, "alice", f"{BETA}:bobby"),
                                   (bobby, "bobby", f"{ALPHA}:alice")):
            history = await self.fetch(client, name, 1, fromUserId=peer)
            self.assertEqual(history, {peer: ["hi bobby", "hi alice"]}, name)

    async def test_offline_messages_wait_in_the_receivers_app(self):
        jim, admin, alpha, beta, gamma = await self.apps()
        alice = await self.login(jim, ALPHA, "alice")
        await alpha.send("aadmin", "bobby", "one", target_appkey=BETA)
        ack = await alice.request(11, self.chat_frame(f"{BETA}:bobby", "two"), 12)
        self.assertEqual(ack["code"], 10001, "kept for later: bobby is offline")
        await alpha.send("aadmin", "bobby", "not kept", target_appkey=BETA, no_offline=True)
        bobby = await self.login(jim, BETA, "bobby")
        self.assertEqual(await self.fetch(bobby, "bobby"), {f"{ALPHA}:aadmin": ["one"],
                                                           f"{ALPHA}:alice": ["two"]})
        await bobby.disconnect()
        # after a reconnect, what was fetched is not fetched again; a new one waits
        await beta.send("badmin", "alice", "to alice", target_appkey=ALPHA)
        self.assertEqual((await self.chat(alice))["content"], "to alice")
        await alice.disconnect()
        await alpha.send("aadmin", "bobby", "three", target_appkey=BETA)
        bobby = await self.login(jim, BETA, "bobby", ws=True)
        self.assertEqual(await self.fetch(bobby, "bobby"), {f"{ALPHA}:aadmin": ["three"]})
        # alpha keeps its own copies: the sender's side of the conversation
        alice = await self.login(jim, ALPHA, "alice")
        self.assertEqual(await self.fetch(alice, "alice", 1, fromUserId=f"{BETA}:bobby"),
                         {f"{BETA}:bobby": ["two"]})
        self.assertEqual(await self.fetch(bobby, "bobby", 1, fromUserId=f"{ALPHA}:alice"),
                         {f"{ALPHA}:alice": ["two"]})

    async def test_each_app_server_is_told_of_its_own_copy(self):
        jim, admin, alpha, beta, gamma = await self.apps()
        told = {}
        for key in (ALPHA, BETA):
            endpoint, _, url = await start_endpoint(self)
            await use_url(jim, key, url)
            told[key] = endpoint
        sent = await alpha.send("aadmin", "bobby", "seen twice", target_appkey=BETA)
        for key in (ALPHA, BETA):
            await eventually(lambda: told[key].answered_ok("messages"))
        [mine] = told[ALPHA].answered_ok("messages")
        [theirs] = told[BETA].answered_ok("messages")
        self.assertEqual(mine["msgid"], sent["msg_id"])
        for item in (mine, theirs):
            self.assertEqual((item["msg_level"], item["from_appkey"], item["from_id"],
                              item["target_appkey"], item["target_id"], item["msg_body"]),
                             (1, ALPHA, "aadmin", BETA, "bobby", {"text": "seen twice"}))
