"""The administrator's API over HTTP (/admin/v1/apps): its authentication, and apps created,
listed, changed, given a new secret and deleted, each taking effect at once for the app's
REST callers and clients, on one node and across a cluster; apps isolated from each other."""
import base64
import os
import stat

from twisted.logger import formatEvent, globalLogPublisher
from twisted.trial.unittest import TestCase

from tests.integration.test_cluster import ClusterCase
from tests.integration.test_rest_live import Clients
from tests.support.inprocess import start_jim
from tests.support.jimclient import tcp_client
from tests.support.redis_server import empty_redis, shared_server
from tests.support.rest import Checks, Rest

ADMIN = "AdminSecret0123456789abcdef"


class Admin(Rest):
    """A client of the administrator's API."""

    def __init__(self, jim, secret=ADMIN):
        super().__init__(jim, "admin", secret)

    @property
    def auth(self):
        return f"Bearer {self.secret}"

    async def create(self, **settings):
        response = await self.post("/admin/v1/apps", settings)
        assert response.status == 201, response
        app = response.json()
        return Rest(self.jim, app["appKey"], app["masterSecret"])


class AdminTests(TestCase, Checks, Clients):
    timeout = 60

    async def start(self):
        jim = await start_jim(self, admin_secret=ADMIN, limits={"rest_rate": 0})
        return jim, Admin(jim)

    async def test_only_the_administrator_gets_in(self):
        jim, admin = await self.start()
        self.assertError(await admin.get("/admin/v1/apps?count=10", auth=False), 401, 899007)
        self.assertError(await admin.get("/admin/v1/apps?count=10", auth="Bearer nope"), 401,
                         899008)
        basic = "Basic " + base64.b64encode(f"admin:{ADMIN}".encode()).decode()
        self.assertJson(await admin.get("/admin/v1/apps?count=10", auth=basic))
        other = "Basic " + base64.b64encode(f"root:{ADMIN}".encode()).decode()
        self.assertError(await admin.get("/admin/v1/apps?count=10", auth=other), 401, 899008)
        shop = await admin.create(name="Shop")
        app_auth = "Basic " + base64.b64encode(f"{shop.key}:{shop.secret}".encode()).decode()
        self.assertError(await admin.get("/admin/v1/apps?count=10", auth=app_auth), 401,
                         899008)

    async def test_the_administrator_acts_for_any_app_it_names(self):
        jim, admin = await self.start()
        shop = await admin.create(name="Shop")
        await shop.register("alice01")
        names = [("X-App-Key", shop.key)]
        listed = await admin.get("/v1/users/?start=0&count=10", headers=names)
        self.assertEqual([u["username"] for u in self.assertJson(listed)["users"]],
                         ["alice01"])
        made = await admin.post("/v1/users/", [{"username": "bob01", "password": "secret"}],
                                headers=names)
        self.assertEqual(made.status, 201, made)
        self.assertJson(await shop.get("/v1/users/bob01"))  # made in the app it named
        # another app's users are not the shop's
        other = await admin.create(name="Other")
        self.assertError(await admin.get("/v1/users/alice01",
                                         headers=[("X-App-Key", other.key)]), 403, 899002)

    async def test_naming_an_app_takes_the_administrators_secret(self):
        jim, admin = await self.start()
        shop = await admin.create(name="Shop")
        names = [("X-App-Key", shop.key)]
        self.assertError(await admin.get("/v1/users/?start=0&count=10", headers=names,
                                         auth=False), 401, 899007)
        self.assertError(await admin.get("/v1/users/?start=0&count=10", headers=names,
                                         auth="Bearer wrong-secret"), 401, 899008)
        # an app's own credentials do not name another app; Basic admin:<secret> does
        self.assertError(await admin.get("/v1/users/?start=0&count=10", headers=names,
                                         auth=shop.auth), 401, 899008)
        basic = "Basic " + base64.b64encode(f"admin:{ADMIN}".encode()).decode()
        self.assertJson(await admin.get("/v1/users/?start=0&count=10", headers=names,
                                        auth=basic))
        self.assertError(await admin.get("/v1/users/?start=0&count=10",
                                         headers=[("X-App-Key", "A" * 24)]), 401, 899009)
        cross_site = names + [("Sec-Fetch-Site", "cross-site")]
        self.assertError(await admin.get("/v1/users/?start=0&count=10", headers=cross_site),
                         403, 899403)

    async def test_apps_are_made_changed_and_isolated(self):
        jim, admin = await self.start()
        shop = await admin.create(name="Shop", friend_mode=True)
        news = await admin.create(name="News", appKey="NewsApp00000000000000001")
        self.assertEqual(news.key, "NewsApp00000000000000001")
        self.assertError(await admin.post("/admin/v1/apps", {"appKey": news.key}), 403, 899003)
        for bad in ({"name": 7}, {"colour": "red"}, {"appKey": "short"},
                    {"callback_url": "ftp://x"}, {"friend_mode": "yes"}):
            self.assertError(await admin.post("/admin/v1/apps", bad), 400, 899003)
        listed = self.assertJson(await admin.get("/admin/v1/apps?start=0&count=10"))
        names = {a["appKey"]: a["name"] for a in listed["apps"]}
        self.assertEqual((names[shop.key], names[news.key]), ("Shop", "News"))
        self.assertNotIn("masterSecret", listed["apps"][0])
        # each app's users are its own
        await shop.register("alice", "bobby")
        self.assertError(await news.get("/v1/users/alice"), 403, 899002)
        self.assertEqual(self.assertJson(await news.get("/v1/users/?start=0&count=10"))["total"],
                         0)
        # a setting holds at once: friend mode off lets strangers chat
        alice = await self.login(jim, shop, "alice")
        alice.send(11, {"cmd": 11, "chatType": 2, "to": "bobby", "content": "hi"})
        self.assertEqual((await alice.expect(12))["code"], 10002, "friend mode")
        changed = self.assertJson(await admin.put(f"/admin/v1/apps/{shop.key}",
                                                  {"friend_mode": False, "name": "Shop 2"}))
        self.assertEqual((changed["friend_mode"], changed["name"]), (False, "Shop 2"))
        alice.send(11, {"cmd": 11, "chatType": 2, "to": "bobby", "content": "hi"})
        self.assertEqual((await alice.expect(12))["code"], 10001)
        self.assertError(await admin.put("/admin/v1/apps/NoSuchApp000000000000000",
                                         {"name": "x"}), 404, 899009)
        self.assertError(await admin.put(f"/admin/v1/apps/{shop.key}", {}), 400, 899003)

    async def login(self, jim, app, name):
        client = await tcp_client(jim.port, testcase=self)
        reply = await client.request(5, {"cmd": 5, "userId": name, "password": "secret",
                                         "appKey": app.key}, 6)
        self.assertEqual(reply["code"], 10007, reply)
        return client

    async def test_a_new_secret_holds_at_once(self):
        jim, admin = await self.start()
        shop = await admin.create(name="Shop")
        await shop.register("alice")
        rotated = self.assertJson(await admin.post(f"/admin/v1/apps/{shop.key}/secret"))
        self.assertNotEqual(rotated["masterSecret"], shop.secret)
        self.assertError(await shop.get("/v1/users/alice"), 401, 899008)
        fresh = Rest(jim, shop.key, rotated["masterSecret"])
        self.assertEqual(self.assertJson(await fresh.get("/v1/users/alice"))["username"],
                         "alice")

    async def test_a_deleted_app_is_gone_and_its_key_starts_empty(self):
        jim, admin = await self.start()
        shop = await admin.create(name="Shop", appKey="ShopApp00000000000000001")
        await shop.register("alice", "bobby")
        alice = await self.login(jim, shop, "alice")
        await shop.group("alice", ["bobby"])
        self.assertEmpty(await admin.delete(f"/admin/v1/apps/{shop.key}"))
        await alice.wait_closed()
        self.assertError(await shop.get("/v1/users/alice"), 401, 899008)
        self.assertError(await admin.get(f"/admin/v1/apps/{shop.key}"), 404, 899009)
        self.assertError(await admin.delete(f"/admin/v1/apps/{shop.key}"), 404, 899009)
        again = await admin.create(name="Shop again", appKey=shop.key)
        self.assertEqual(self.assertJson(await again.get("/v1/users/?start=0&count=10"))["total"],
                         0)
        self.assertEqual(self.assertJson(await again.get("/v1/groups?start=0&count=10"))["total"],
                         0)


class AppRateTests(TestCase, Checks):
    timeout = 60

    async def test_an_app_may_have_its_own_rest_rate(self):
        jim = await start_jim(self, admin_secret=ADMIN, limits={"rest_rate": 1000})
        admin = Admin(jim)
        small = await admin.create(name="Small", rest_rate=2)
        free = await admin.create(name="Free", rest_rate=0)
        server = await admin.create(name="Server's")
        for bad in (-1, 1.5, "10", True, 10**8):
            self.assertError(await admin.put(f"/admin/v1/apps/{small.key}", {"rest_rate": bad}),
                             400, 899003)
        self.assertEqual(self.assertJson(await admin.get(f"/admin/v1/apps/{small.key}"))
                         ["rest_rate"], 2)
        answers = [await small.get("/v1/users?start=0&count=10") for _ in range(3)]
        self.assertEqual([a.status for a in answers], [200, 200, 429])
        self.assertEqual(answers[0].header("x-rate-limit-limit"), "2")
        self.assertError(answers[2], 429, 899030)
        for _ in range(5):
            answer = await free.get("/v1/users?start=0&count=10")
            self.assertEqual(answer.status, 200)
            self.assertIsNone(answer.header("x-rate-limit-limit"))
        self.assertEqual((await server.get("/v1/users?start=0&count=10"))
                         .header("x-rate-limit-limit"), "1000")
        # given the server's rate back (null), the app takes it at once
        self.assertJson(await admin.put(f"/admin/v1/apps/{small.key}", {"rest_rate": None}))
        again = await small.get("/v1/users?start=0&count=10")
        self.assertEqual((again.status, again.header("x-rate-limit-limit")), (200, "1000"))


class ClusterAdminTests(ClusterCase):
    async def test_a_change_on_one_node_holds_on_the_other(self):
        url = empty_redis()
        a = await start_jim(self, store=url, admin_secret=ADMIN, limits={"rest_rate": 0})
        b = await start_jim(self, store=url, admin_secret=ADMIN, limits={"rest_rate": 0})
        admin_a = Admin(a)
        shop_a = await admin_a.create(name="Shop")
        shop_b = Rest(b, shop_a.key, shop_a.secret)
        await shop_b.register("alice")
        client = await tcp_client(b.port, testcase=self)
        reply = await client.request(5, {"cmd": 5, "userId": "alice", "password": "secret",
                                         "appKey": shop_a.key}, 6)
        self.assertEqual(reply["code"], 10007)
        rotated = self.assertJson(await admin_a.post(f"/admin/v1/apps/{shop_a.key}/secret"))
        self.assertError(await shop_b.get("/v1/users/alice"), 401, 899008)
        self.assertEqual((await Rest(b, shop_a.key, rotated["masterSecret"]).get(
            "/v1/users/alice")).status, 200)
        self.assertEmpty(await admin_a.delete(f"/admin/v1/apps/{shop_a.key}"))
        await client.wait_closed()
        self.assertError(await Admin(b).get(f"/admin/v1/apps/{shop_a.key}"), 404, 899009)


    async def test_a_deleted_apps_users_leave_other_apps_groups_and_rooms_on_every_node(self):
        url = empty_redis()
        a = await start_jim(self, store=url, admin_secret=ADMIN, limits={"rest_rate": 0})
        b = await start_jim(self, store=url, admin_secret=ADMIN, limits={"rest_rate": 0})
        admin = Admin(a)
        home = await admin.create(name="Home")
        guest = await admin.create(name="Guest", cross_apps=[home.key])
        self.assertJson(await admin.put(f"/admin/v1/apps/{home.key}",
                                        {"cross_apps": [guest.key]}))
        await home.register("alice", "anna")
        await guest.register("bobby")
        gid = await home.group("alice", ["anna"])
        self.assertEmpty(await home.post(f"/v1/cross/groups/{gid}/members",
                                         [{"appkey": guest.key, "add": ["bobby"]}]))
        made = await home.post("/v1/chatroom/", {"owner_username": "alice", "name": "hall",
                                                 "members_username": []})
        room = self.assertJson(made, 201)["chatroom_id"]
        self.assertEmpty(await home.post(f"/v1/cross/chatroom/{room}/members",
                                         [{"appkey": guest.key, "usernames": ["bobby"]}]))
        # node b holds the members of both in memory: alice chats in them there
        alice = await tcp_client(b.port, testcase=self)
        await alice.login("alice", appKey=home.key)
        group_chat = {"cmd": 11, "chatType": 1, "groupId": str(gid), "content": "group"}
        room_chat = {"cmd": 11, "chatType": 3, "roomId": room, "content": "room"}
        for frame in (group_chat, room_chat):
            self.assertEqual((await alice.request(11, frame, 12))["code"], 10000)
            self.assertEqual((await self.chat(alice))["content"], frame["content"])
        self.assertEmpty(await admin.delete(f"/admin/v1/apps/{guest.key}"))  # on node a
        event = await self.event(alice, 11)
        self.assertEqual((event["gid"], [(u["username"], u["appkey"])
                                         for u in event["to_usernames"]]),
                         (gid, [("bobby", guest.key)]))
        home_b = Rest(b, home.key, home.secret)
        listed = self.assertJson(await home_b.get(f"/v1/groups/{gid}/members"))
        self.assertEqual([m["username"] for m in listed], ["alice", "anna"])
        listed = self.assertJson(await home_b.get(f"/v1/chatroom/{room}/members?start=0&count=9"))
        self.assertEqual([u["username"] for u in listed["users"]], ["alice"])
        # the key given again, on node b: its bobby is no member, and gets nothing of either
        again = await Admin(b).create(name="Guest again", appKey=guest.key,
                                      cross_apps=[home.key])
        await again.register("bobby")
        bobby = await tcp_client(b.port, testcase=self)
        await bobby.login("bobby", appKey=guest.key)
        for frame in (group_chat, room_chat):
            self.assertEqual((await alice.request(11, frame, 12))["code"], 10000)
            self.assertEqual((await self.chat(alice))["content"], frame["content"])
        await bobby.request(19, {"cmd": 19, "type": 1, "userId": "bobby", "fromUserId": "x"}, 20)
        self.assertEqual([cmd for cmd, _ in bobby.inbox.frames if cmd in (11, 100)], [])


class DefaultAppTests(TestCase, Checks):
    timeout = 60

    async def test_the_default_app_cannot_be_deleted_or_given_a_new_secret(self):
        jim = await start_jim(self, admin_secret=ADMIN, limits={"rest_rate": 0})
        admin = Admin(jim)
        listed = self.assertJson(await admin.get("/admin/v1/apps?start=0&count=10"))
        [default] = [a["appKey"] for a in listed["apps"]]
        self.assertError(await admin.delete(f"/admin/v1/apps/{default}"), 403, 899003)
        self.assertError(await admin.post(f"/admin/v1/apps/{default}/secret"), 403, 899003)
        self.assertEqual(self.assertJson(await admin.get(f"/admin/v1/apps/{default}"))["appKey"],
                         default)

    async def test_a_generated_secret_is_kept_in_the_data_directory(self):
        jim = await start_jim(self, limits={"rest_rate": 0})
        path = os.path.join(jim.config.data, "admin-secret")
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        with open(path) as f:
            secret = f.read().strip()
        self.assertGreaterEqual(len(secret), 24)
        self.assertEqual(self.assertJson(await Admin(jim, secret).get(
            "/admin/v1/apps?start=0&count=10"))["total"], 1)
        self.assertError(await Admin(jim, ADMIN).get("/admin/v1/apps?count=10"), 401, 899008)

    async def test_a_cluster_generates_one_secret_and_says_where_it_is(self):
        events = []
        globalLogPublisher.addObserver(events.append)
        self.addCleanup(globalLogPublisher.removeObserver, events.append)
        url = empty_redis()
        a = await start_jim(self, store=url, limits={"rest_rate": 0})
        b = await start_jim(self, store=url, limits={"rest_rate": 0})
        said = [formatEvent(e) for e in events if e.get("key") == "jim:shared:admin-secret"]
        self.assertEqual(len(said), 2, said)
        self.assertIn("generated the administrator's secret", said[0])
        self.assertIn("the cluster's", said[1])
        secret = shared_server().query("GET", "jim:shared:admin-secret")
        self.assertGreaterEqual(len(secret), 24)
        for jim in (a, b):
            self.assertEqual(self.assertJson(await Admin(jim, secret).get(
                "/admin/v1/apps?start=0&count=10"))["total"], 1)
