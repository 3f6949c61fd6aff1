"""JMessage's official Python client (``jmessage`` 2.0.0 from PyPI, unchanged) against jim.

Its base URLs are pointed at the server under test; its blocking calls run in a thread so the
reactor keeps serving; each call asks for its connection to be closed after it. Answers are
checked as the package's callers read them: the status code, and ``.json()`` when the body is
not empty. The calls the package cannot send (any PUT or DELETE with a body: reference 1.3)
are shown to fail on the client, before any request.
"""
import jmessage  # the [test] extra's
from jmessage.group import Group
from jmessage.im import IM
from jmessage.message import Message, Model
from jmessage.user import User
from twisted.internet.threads import deferToThread
from twisted.trial.unittest import TestCase

from tests.support.jimclient import tcp_client
from tests.support.rest import start_rest

MEDIA = {"media_id": "qiniu/image/j/A.jpg", "media_crc32": 1, "width": 2, "height": 3,
         "format": "jpg", "fsize": 4}


class JMessageClientTests(TestCase):
    timeout = 60

    async def setUp(self):
        self.jim, self.rest = await start_rest(self)
        base = f"http://127.0.0.1:{self.jim.port}/v1/"
        self.patch(User, "URI", base + "users/")
        self.patch(User, "ADMIN_URI", base + "admins/")
        self.patch(Group, "URI", base + "groups/")
        self.patch(Message, "URI", base + "messages/")
        client = jmessage.JMessage(self.rest.key, self.rest.secret)
        # one connection a call, as JMessage's other clients make them: a connection kept
        # alive in requests' pool would outlive the server the test stops
        client._session.headers["Connection"] = "close"
        client._session.trust_env = False  # no proxy from the environment for loopback
        self.users, self.groups, self.messages = User(client), Group(client), Message(client)
        self.im = IM(client)

    def call(self, method, *args, **kwargs):
        """The package's call, in a thread: the requests.Response (or its exception)."""
        return deferToThread(method, *args, **kwargs)

    def assertNoContent(self, response, status=204):
        self.assertEqual((response.status_code, response.text), (status, ""), response.text)

    def assertCode(self, response, status, code):
        self.assertEqual(response.status_code, status, response.text)
        self.assertEqual(response.json()["error"]["code"], code)

    async def assertNeverSent(self, method, *args):
        """The package's PUT/DELETE-with-a-body defect: it raises before sending."""
        with self.assertRaises(UnboundLocalError):
            await self.call(method, *args)

    async def _people(self):
        for name in ("alice", "bobby", "carol"):
            response = await self.call(self.users.create, name, "secret")
            self.assertEqual(response.status_code, 201)
        response = await self.call(self.users.create, "admin1", "secret", admin=True)
        self.assertEqual((response.status_code, response.json()), (201, [{"username": "admin1"}]))

    async def test_users_and_admins(self):
        response = await self.call(self.users.create, "alice", "secret", nickname="Al",
                                   birthday="1990-01-02", gender=2, extras={"k": 1})
        self.assertEqual((response.status_code, response.json()), (201, [{"username": "alice"}]))
        response = await self.call(self.users.register, [{"username": "bobby",
                                                          "password": "secret"},
                                                         {"username": "alice",
                                                          "password": "secret"}])
        self.assertEqual(response.status_code, 201)
        self.assertEqual(response.json()[1]["error"]["code"], 899001)
        response = await self.call(self.users.create, "admin1", "secret", admin=True)
        self.assertEqual((response.status_code, response.json()), (201, [{"username": "admin1"}]))

        response = await self.call(self.users.get, "alice")
        found = response.json()
        self.assertEqual((response.status_code, found["nickname"], found["gender"],
                          found["birthday"], found["extras"]),
                         (200, "Al", 2, "1990-01-02 00:00:00", {"k": 1}))
        self.assertCode(await self.call(self.users.get, "ghost"), 403, 899002)
        listed = (await self.call(self.users.all, 1000)).json()  # the package caps count
        self.assertEqual((listed["total"], listed["count"]), (2, 2))
        self.assertEqual([u["username"] for u in listed["users"]], ["alice", "bobby"])
        admins = (await self.call(self.users.all, 10, 0, admin=True)).json()
        self.assertEqual([u["username"] for u in admins["users"]], ["admin1"])

        self.assertEqual((await self.call(self.users.stat, "alice")).json(),
                         {"login": False, "online": False})
        client = await tcp_client(self.jim.port, testcase=self)
        await client.login("alice")
        states = (await self.call(self.users.stat, ["alice", "bobby"])).json()
        self.assertEqual([len(s["devices"]) for s in states], [1, 0])
        self.assertEqual((await self.call(self.users.groups, "alice")).json(), [])
        self.assertEqual((await self.call(self.users.chatrooms, "alice")).json(), [])

        await self.assertNeverSent(self.users.update, "alice", "New")
        await self.assertNeverSent(self.users.update_password, "alice", "newpass")
        await self.assertNeverSent(self.users.delete, ["bobby"])

        self.assertNoContent(await self.call(self.users.block, "alice"))
        await client.wait_closed()
        self.assertNoContent(await self.call(self.users.active, "alice"))
        client = await tcp_client(self.jim.port, testcase=self)
        await client.login("alice")

        self.assertNoContent(await self.call(self.users.delete, "bobby"))
        self.assertCode(await self.call(self.users.delete, "bobby"), 403, 899002)

    async def test_friends_blacklist_shields_and_no_disturb(self):
        await self._people()
        response = await self.call(self.users.add_friends, "alice", ["bobby", "carol"])
        self.assertNoContent(response, 201)
        friends = (await self.call(self.users.friends, "alice")).json()
        self.assertEqual([f["username"] for f in friends], ["bobby", "carol"])
        self.assertCode(await self.call(self.users.add_friends, "alice", "bobby"), 403, 899070)
        await self.assertNeverSent(self.users.remove_friends, "alice", "bobby")
        await self.assertNeverSent(self.users.update_friend, "alice", "bobby", "B", "o")
        await self.assertNeverSent(self.users.update_friends, "alice", [{"username": "bobby"}])

        self.assertEqual((await self.call(self.users.blacklist, "alice")).json(), [])
        await self.assertNeverSent(self.users.add_blacklist, "alice", "bobby")
        await self.assertNeverSent(self.users.remove_blacklist, "alice", "bobby")

        gid = (await self.call(self.groups.create, "alice", "team", ["bobby"])).json()["gid"]
        self.assertNoContent(await self.call(self.users.add_groups_shield, "bobby", gid))
        response = await self.call(self.users.add_groups_shield, "bobby", [gid])
        self.assertCode(response, 403, 899052)
        self.assertNoContent(await self.call(self.users.remove_groups_shield, "bobby", gid))

        calls = [(self.users.add_sigle_nodisturb, "carol"),
                 (self.users.remove_sigle_nodisturb, "carol"),
                 (self.users.add_group_nodisturb, gid), (self.users.remove_group_nodisturb, gid),
                 (self.users.open_global_nodisturb,), (self.users.close_global_nodisturb,)]
        for method, *args in calls:
            self.assertNoContent(await self.call(method, "bobby", *args))
        response = await self.call(self.users.close_global_nodisturb, "bobby")
        self.assertCode(response, 403, 899050)

    async def test_groups_and_members(self):
        await self._people()
        response = await self.call(self.groups.create, "alice", "team", ["bobby"], "qiniu/a",
                                   "about", 2)
        created = response.json()
        self.assertEqual((response.status_code, created["name"], created["members_username"],
                          created["flag"]), (201, "team", ["bobby"], 2))
        gid = created["gid"]
        self.assertEqual((await self.call(self.groups.get, gid)).json()["desc"], "about")
        listed = (await self.call(self.groups.all, 10)).json()
        self.assertEqual([g["gid"] for g in listed["groups"]], [gid])

        self.assertNoContent(await self.call(self.groups.add_members, gid, "carol"))
        self.assertCode(await self.call(self.groups.add_members, gid, "ghost"), 400, 899002)
        self.assertNoContent(await self.call(self.groups.remove_members, gid, ["bobby"]))
        members = (await self.call(self.groups.members, gid)).json()
        self.assertEqual([(m["username"], m["flag"]) for m in members],
                         [("alice", 1), ("carol", 0)])
        self.assertEqual([g["gid"] for g in (await self.call(self.users.groups, "carol")).json()],
                         [gid])

        # update_owner builds its body but sends none
        self.assertCode(await self.call(self.groups.update_owner, gid, "carol"), 400, 899003)
        await self.assertNeverSent(self.groups.update, gid, "renamed")
        await self.assertNeverSent(self.groups.add_silence, gid, "carol")
        await self.assertNeverSent(self.groups.remove_silence, gid, "carol")

        self.assertNoContent(await self.call(self.groups.delete, gid))
        self.assertCode(await self.call(self.groups.get, gid), 403, 899006)
        self.assertCode(await self.call(self.groups.delete, gid), 403, 899006)

    async def test_messages(self):
        await self._people()
        bobby = await tcp_client(self.jim.port, testcase=self)
        await bobby.login("bobby")
        text = (Model().text("hello", {"dropped": True}).set_target("bobby", "single")
                .set_from("admin1", "admin", "Admin").notification("t", "a").notifiable(False)
                .offline(True))
        response = await self.call(self.messages.send, text)
        sent = response.json()
        self.assertEqual(response.status_code, 201)
        chat = (await bobby.expect(11))["data"]
        self.assertEqual((chat["id"], chat["content"], chat["from"]),
                         (str(sent["msg_id"]), "hello", "admin1"))
        self.assertNotIn("extras", chat)  # Model.text never sends its extras

        image = Model().image(MEDIA).set_target("bobby", "single").set_from("admin1", "admin")
        self.assertEqual((await self.call(self.messages.send, image)).status_code, 201)
        await bobby.expect(11)
        custom = Model().custom({"k": "v"}).set_target("bobby", "single").set_from("admin1",
                                                                                    "admin")
        # Model.custom never sets msg_body: refused as a message without one
        self.assertCode(await self.call(self.messages.send, custom), 400, 899003)
        as_user = Model().text("x").set_target("bobby", "single").set_from("alice", "admin")
        self.assertCode(await self.call(self.messages.send, as_user), 403, 899016)

        self.assertNoContent(await self.call(self.messages.retract, "admin1", sent["msg_id"]))
        self.assertEqual((await bobby.expect(100))["data"]["msgid_list"], [sent["msg_id"]])
        response = await self.call(self.messages.retract, "admin1", sent["msg_id"])
        self.assertCode(response, 403, 855004)

    async def test_sensitive_words_and_the_sdk_switch(self):
        base = f"http://127.0.0.1:{self.jim.port}/v1/"
        self.patch(IM, "WORD_URI", base + "sensitiveword/")
        self.patch(IM, "SDK_URI", base + "sdkregister/status")
        im = self.im
        self.assertNoContent(await self.call(im.add_words, ["fool", "坏蛋"]))
        self.assertNoContent(await self.call(im.add_words, "idiot"))
        listed = (await self.call(im.all_words, 500)).json()  # the package caps it at 200
        self.assertEqual(([w["name"] for w in listed["words"]], listed["total"]),
                         (["fool", "坏蛋", "idiot"], 3))
        await self.assertNeverSent(im.remove_word, "fool")
        self.assertEqual((await self.call(im.word_status)).json(), {"status": 0})
        self.assertNoContent(await self.call(im.open_filter))
        self.assertEqual((await self.call(im.word_status)).json(), {"status": 1})
        self.assertNoContent(await self.call(im.close_filter))
        self.assertEqual((await self.call(im.word_status)).json(), {"status": 0})
        self.assertEqual((await self.call(im.sdk_status)).json(), {"status": 1},
                         "the tests' server registers at first login")
        self.assertNoContent(await self.call(im.close_sdk))
        self.assertEqual((await self.call(im.sdk_status)).json(), {"status": 0})
        self.assertNoContent(await self.call(im.open_sdk))
        self.assertEqual((await self.call(im.sdk_status)).json(), {"status": 1})
