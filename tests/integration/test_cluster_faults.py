"""A cluster losing a node (kill -9) or its Redis (stopped and restarted) mid-conversation:
every message is counted, and none that was acknowledged is lost or delivered twice."""
from twisted.internet import reactor, task
from twisted.trial.unittest import TestCase

from tests.integration.test_cluster import KEY, SECRET, ClusterCase, quiet
from tests.support.jimclient import tcp_client
from tests.support.redis_server import RedisServer, empty_redis
from tests.support.rest import Rest
from tests.support.server import JimServer


def chat(to, text):
    return {"cmd": 11, "chatType": 2, "to": to, "content": text, "id": text}


class KilledNodeTests(TestCase):
    timeout = 120

    async def node(self, url):
        return await JimServer.start(self, extra_args=(
            "--store", url, "--app-key", KEY, "--master-secret", SECRET,
            "--presence-expiry", "3"))

    async def test_users_of_a_killed_node_reconnect_elsewhere_and_get_what_they_missed(self):
        url = empty_redis()
        a, b = await self.node(url), await self.node(url)
        rest = Rest(a, KEY, SECRET)
        await rest.register("alice", "bobby")
        alice = await tcp_client(a.port, testcase=self)
        await alice.login("alice")
        bobby = await tcp_client(b.port)
        await bobby.login("bobby")
        alice.send(11, chat("bobby", "live"))
        self.assertEqual((await alice.expect(12))["code"], 10000)
        self.assertEqual((await bobby.expect(11))["data"]["content"], "live")

        await b.kill()
        acknowledged = []
        for n in range(5):
            alice.send(11, chat("bobby", f"while b is dead {n}"))
            ack = await alice.expect(12)
            self.assertIn(ack["code"], (10000, 10001), ack)  # stored either way
            acknowledged.append(f"while b is dead {n}")

        # within the presence expiry (3 s here, beats every second) bobby is shown offline
        started = reactor.seconds()
        while (await rest.get("/v1/users/bobby/userstat")).json()["online"]:
            self.assertLess(reactor.seconds() - started, 3 + 1 + 2, "shown offline in time")
            await quiet(0.1)
        alice.send(11, chat("bobby", "once he is offline"))
        self.assertEqual((await alice.expect(12))["code"], 10001, "kept offline")
        acknowledged.append("once he is offline")

        # bobby's client reconnects, to the node that is left
        bobby = await tcp_client(a.port, testcase=self)
        await bobby.login("bobby")
        reply = await bobby.request(19, {"cmd": 19, "type": 0, "userId": "bobby"}, 20)
        got = [m["content"] for m in reply["data"]["friends"].get("alice", [])]
        # "live" was pushed to his J-IM connection on b, which died before it could write
        # down what it had pushed (docs/delivery.md): it comes again, with its server id
        self.assertEqual(got, ["live"] + acknowledged,
                         "every acknowledged message, once, in order")
        history = await bobby.request(19, {"cmd": 19, "type": 1, "fromUserId": "alice"}, 20)
        contents = [m["content"] for m in history["data"]["friends"]["alice"]]
        self.assertEqual(contents, ["live"] + acknowledged, "stored once each")


    async def test_the_groups_of_a_killed_nodes_users_are_told_they_went_offline(self):
        url = empty_redis()
        a, b = await self.node(url), await self.node(url)
        await Rest(a, KEY, SECRET).register("alice", "bobby")
        alice = await tcp_client(a.port, testcase=self)
        await alice.login("alice")
        bobby = await tcp_client(b.port)
        await bobby.login("bobby")
        for client, name in ((alice, "alice"), (bobby, "bobby")):
            client.send(7, {"cmd": 7, "groupId": "g1"})
            while (await alice.expect(9))["user"]["userId"] != name:
                pass

        await b.kill()
        # the node that finds b dead (within the 3 s expiry) tells b's users' groups, once
        notice = (await alice.expect(10, timeout=3 + 1 + 5))["data"]
        self.assertEqual((notice["group"], notice["user"]["userId"], notice["user"]["status"]),
                         ("g1", "bobby", "offline"))
        await quiet(1.5)
        self.assertEqual([f for f in alice.inbox.frames if f[0] == 10], [], "told once")


class RedisRestartTests(ClusterCase):
    timeout = 120

    async def test_nothing_acknowledged_is_lost_when_redis_restarts_mid_chat(self):
        server = RedisServer(appendfsync="always").start()
        self.addCleanup(server.remove)
        (a, b), rests = await self.cluster(2, url=server.url())
        await rests[0].register("alice", "bobby")
        alice = await self.tcp(a, "alice")
        bobby = await self.tcp(b, "bobby")
        await self.seen_online(rests, "bobby")

        acknowledged, refused = [], []

        async def send(text):
            alice.send(11, chat("bobby", text))
            ack = await alice.expect(12, timeout=30)
            (acknowledged if ack["code"] in (10000, 10001) else refused).append(text)
            return ack["code"]

        for n in range(3):
            await send(f"before {n}")
        server.stop()
        self.assertEqual(await send("while down"), 10002, "told: not stored")
        server.start()
        # the client resends what was refused, with the same client id, until it is stored
        for _ in range(60):
            if await send("while down") != 10002:
                break
            await quiet(0.5)
        for n in range(3):
            await send(f"after {n}")

        self.assertEqual(acknowledged, ["before 0", "before 1", "before 2", "while down",
                                        "after 0", "after 1", "after 2"])
        live = []
        while True:
            try:
                frame = await bobby.expect(11, timeout=2)
            except Exception:
                break
            live.append(frame["data"])
        offline = []  # a message whose append was in flight may reach the inbox a while later
        for _ in range(40):
            reply = await bobby.request(19, {"cmd": 19, "type": 0, "userId": "bobby"}, 20)
            if "data" not in reply:  # refused: Redis, just restarted, may still be loading
                self.assertNotEqual(reply.get("code"), 10016, reply)  # a refusal, not an answer
                await quiet(0.5)
                continue
            offline += reply["data"]["friends"].get("alice", [])
            if {m["content"] for m in live + offline} >= set(acknowledged):
                break
            await quiet(0.5)
        by_id = {}
        for message in live + offline:
            by_id.setdefault(message["id"], []).append(message["content"])
        self.assertEqual(sorted(c for contents in by_id.values() for c in contents[:1]),
                         sorted(acknowledged), "every acknowledged message reached bobby")
        self.assertEqual([ids for ids, contents in by_id.items() if len(contents) > 1], [],
                         "none twice")
        history = await bobby.request(19, {"cmd": 19, "type": 1, "fromUserId": "alice"}, 20)
        self.assertEqual([m["content"] for m in history["data"]["friends"]["alice"]],
                         acknowledged, "each stored once")
        await task.deferLater(reactor, 0, lambda: None)
