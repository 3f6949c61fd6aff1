"""Several jim nodes on one real redis-server behave as one server: users on different nodes
and sockets reach each other, group fan-out reaches every member once, offline messages and
history are the same on every node, and a REST change on one node takes effect on all."""
from twisted.internet import reactor, task
from twisted.trial.unittest import TestCase

from tests.integration.test_rest_live import Clients
from tests.support.inprocess import start_jim
from tests.support.redis_server import empty_redis
from tests.support.rest import Checks, Rest

KEY = "ClusterApp00000000000001"
SECRET = "ClusterSecret00000000001"


async def quiet(seconds=0.2):
    await task.deferLater(reactor, seconds, lambda: None)


class ClusterCase(TestCase, Checks, Clients):
    timeout = 60

    async def cluster(self, count=2, url=None):
        """C{count} nodes on one Redis; a REST client of the shared app on each."""
        url = url or empty_redis()
        nodes = []
        for _ in range(count):
            nodes.append(await start_jim(self, store=url, app_key=KEY, master_secret=SECRET,
                                         limits={"rest_rate": 0}))
        return nodes, [Rest(node, KEY, SECRET) for node in nodes]

    async def seen_online(self, rests, name, online=True):
        """Wait until every node's REST API shows C{name} (not) online (a logout is announced
        without waiting for it to go round)."""
        for rest in rests:
            for _ in range(250):
                if (await rest.get(f"/v1/users/{name}/userstat")).json()["online"] == online:
                    break
                await quiet(0.02)
            else:
                self.fail(f"{name} never shown {'online' if online else 'offline'}")

    async def nothing_more(self, *clients):
        """No client got a chat it did not read (each fan-out reached it once)."""
        await quiet()
        for client in clients:
            self.assertEqual([obj for cmd, obj in client.inbox.frames if cmd == 11], [])


class ChatTests(ClusterCase):
    async def test_users_on_different_nodes_and_sockets_reach_each_other(self):
        (a, b, c), rests = await self.cluster(3)
        rest_a, rest_c = rests[0], rests[2]
        await rest_a.register("alice", "bobby")
        await rest_c.admin("admin1")
        alice = await self.tcp(a, "alice")
        bobby = await self.ws(b, "bobby")
        alice.send(11, {"cmd": 11, "chatType": 2, "to": "bobby", "content": "hi from a"})
        self.assertEqual((await alice.expect(12))["code"], 10000, "delivered: bobby is online")
        chat = await self.chat(bobby)
        self.assertEqual((chat["from"], chat["content"]), ("alice", "hi from a"))
        bobby.send(11, {"cmd": 11, "chatType": 2, "to": "alice", "content": "hi from b"})
        self.assertEqual((await self.chat(alice))["content"], "hi from b")
        sent = await rest_c.send("admin1", "alice", "from the app server on c")
        chat = await self.chat(alice)
        self.assertEqual((chat["content"], chat["id"]),
                         ("from the app server on c", str(sent["msg_id"])))
        await self.nothing_more(alice, bobby)

    async def test_a_group_reaches_every_member_on_every_node_once(self):
        (a, b), rests = await self.cluster(2)
        await rests[0].register("alice", "bobby", "carol", "dave")
        gid = await rests[1].group("alice", ["bobby", "carol", "dave"])
        alice = await self.tcp(a, "alice")
        bobby, carol = await self.ws(b, "bobby"), await self.tcp(b, "carol")
        dave = await self.both(a, "dave")
        alice.send(11, {"cmd": 11, "chatType": 1, "groupId": str(gid), "content": "all"})
        self.assertEqual((await alice.expect(12))["code"], 10000)
        for client in [alice, bobby, carol] + dave:
            chat = await self.chat(client)
            self.assertEqual((chat["from"], chat["groupId"], chat["content"]),
                             ("alice", str(gid), "all"))
        await self.nothing_more(alice, bobby, carol, *dave)

    async def test_members_joining_on_both_nodes_at_once_get_every_chat_after(self):
        (a, b), rests = await self.cluster(2)
        names = [f"user{n}" for n in range(8)]
        await rests[0].register(*names)
        clients = [await self.tcp(a if n % 2 == 0 else b, name) for n, name in enumerate(names)]
        for client in clients:  # every join at once, on both nodes, of a group none made
            client.send(7, {"cmd": 7, "groupId": "g1"})
        for client, name in zip(clients, names):  # each waits for its own join (cmd 9)
            while (await client.expect(9))["user"]["userId"] != name:
                pass
        for sender in (clients[0], clients[1]):
            sender.send(11, {"cmd": 11, "chatType": 1, "groupId": "g1", "content": "all"})
            self.assertEqual((await sender.expect(12))["code"], 10000)
            for client in clients:
                self.assertEqual((await self.chat(client))["content"], "all")

    async def test_offline_messages_and_history_are_the_same_on_every_node(self):
        (a, b), (rest_a, _) = await self.cluster(2)
        await rest_a.register("alice", "bobby")
        alice = await self.tcp(a, "alice")
        for text in ("one", "two"):
            alice.send(11, {"cmd": 11, "chatType": 2, "to": "bobby", "content": text})
            self.assertEqual((await alice.expect(12))["code"], 10001, "kept offline")
        bobby = await self.ws(b, "bobby")
        self.assertEqual(await self.fetch(bobby, "bobby"), {"alice": ["one", "two"]})
        self.assertEqual(await self.fetch(bobby, "bobby"), {}, "fetched once, on any node")
        self.assertEqual(await self.fetch(alice, "alice", kind=1, fromUserId="bobby"),
                         {"bobby": ["one", "two"]})
        self.assertEqual(await self.fetch(bobby, "bobby", kind=1, fromUserId="alice"),
                         {"alice": ["one", "two"]})

    async def test_presence_is_cluster_wide(self):
        (a, b), rests = await self.cluster(2)
        await rests[0].register("alice", "bobby")
        alice = await self.tcp(a, "alice")
        await self.seen_online(rests, "alice")
        await alice.disconnect()
        await self.seen_online(rests, "alice", online=False)


class ChangeTests(ClusterCase):
    async def test_a_member_removed_on_one_node_gets_nothing_more_on_another(self):
        (a, b), (rest_a, _) = await self.cluster(2)
        await rest_a.register("alice", "bobby")
        await rest_a.admin("admin1")
        gid = await rest_a.group("alice", ["bobby"])
        alice, bobby = await self.tcp(a, "alice"), await self.tcp(b, "bobby")
        await rest_a.send("admin1", gid, "before", target_type="group")
        for client in (alice, bobby):
            self.assertEqual((await self.chat(client))["content"], "before")
        self.assertEmpty(await rest_a.post(f"/v1/groups/{gid}/members", {"remove": ["bobby"]}))
        await rest_a.send("admin1", gid, "after", target_type="group")
        self.assertEqual((await self.chat(alice))["content"], "after")
        await rest_a.send("admin1", "bobby", "fence")
        self.assertEqual((await self.chat(bobby))["content"], "fence", "not 'after'")

    async def test_a_user_forbidden_on_one_node_is_closed_on_another(self):
        (a, b), (rest_a, _) = await self.cluster(2)
        await rest_a.register("bobby")
        bobby = await self.tcp(b, "bobby")
        self.assertEmpty(await rest_a.put("/v1/users/bobby/forbidden?disable=true"))
        await bobby.wait_closed()
        self.assertNotEqual(await self.login_code(b, userId="bobby", password="secret"), 10007)

    async def test_a_login_on_another_node_sees_a_password_changed_on_the_first(self):
        (a, b), (rest_a, _) = await self.cluster(2)
        await rest_a.register("bobby")
        self.assertEqual(await self.login_code(b, userId="bobby", password="secret"), 10007)
        self.assertEmpty(await rest_a.put("/v1/users/bobby/password",
                                          {"new_password": "another1"}))
        self.assertNotEqual(await self.login_code(b, userId="bobby", password="secret"), 10007)
        self.assertEqual(await self.login_code(b, userId="bobby", password="another1"), 10007)
