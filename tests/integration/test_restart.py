"""A real `twistd jim` process: after kill -9 and a restart, nothing acknowledged is lost."""
from twisted.trial.unittest import TestCase

from tests.integration.test_delivery import http
from tests.support.jimclient import tcp_client, ws_client
from tests.support.server import JimServer


class RestartTests(TestCase):
    timeout = 120

    async def test_kill_9_loses_nothing_acknowledged(self):
        server = await JimServer.start(self)
        bob = await tcp_client(server.port)
        await bob.login("bob", "bobpw")
        bob.send(7, {"cmd": 7, "groupId": "crew"})
        await bob.expect(9)
        bob.close()
        await bob.wait_closed()

        alice = await ws_client(server.port)
        await alice.login("alice", "alicepw")
        alice.send(7, {"cmd": 7, "groupId": "crew"})
        await alice.expect(9)
        acked = []
        for i in range(50):  # pipelined: many in flight at once
            alice.send(11, {"cmd": 11, "chatType": 2, "to": "bob", "content": f"p{i}", "id": f"c{i}"})
            alice.send(11, {"cmd": 11, "chatType": 1, "groupId": "crew", "content": f"g{i}"})
        for _ in range(100):
            ack = await alice.expect(12)
            self.assertIn(ack["code"], (10000, 10001))
            acked.append(ack["data"]["id"])
        await server.kill()  # SIGKILL: no clean shutdown

        await server.restart()
        bob = await tcp_client(server.port, testcase=self)
        await bob.login("bob", "bobpw")  # the user and its password survived
        offline = await bob.request(19, {"cmd": 19, "type": 0, "userId": "bob"}, 20)
        private = [m["content"] for m in offline["data"]["friends"]["alice"]]
        group = [m["content"] for m in offline["data"]["groups"]["crew"]]
        self.assertEqual(private, [f"p{i}" for i in range(50)])
        self.assertEqual(group, [f"g{i}" for i in range(50)])
        history = await bob.request(
            19, {"cmd": 19, "type": 1, "groupId": "crew", "count": 100}, 20
        )
        self.assertEqual(len(history["data"]["groups"]["crew"]), 50)  # membership survived
        ids = [m["id"] for m in offline["data"]["friends"]["alice"] + offline["data"]["groups"]["crew"]]
        self.assertEqual(sorted(ids, key=int), sorted(acked, key=int))

        # a resent client id after the restart is acknowledged, not stored or delivered again
        alice = await tcp_client(server.port, testcase=self)
        await alice.login("alice", "alicepw")
        alice.send(11, {"cmd": 11, "chatType": 2, "to": "bob", "content": "p0", "id": "c0"})
        again = await alice.expect(12)
        self.assertEqual(again["code"], 10000)
        self.assertEqual(again["data"]["id"], offline["data"]["friends"]["alice"][0]["id"])
        bob.send(13, {"cmd": 13})
        await bob.expect(13)
        self.assertEqual([f for f in bob.inbox.frames if f[0] == 11], [])

    async def test_the_process_freezes_its_startup_objects(self):
        server = await JimServer.start(self)
        code, text = await http(server.port, b"GET", "/metrics")
        self.assertEqual(code, 200)
        (frozen,) = [line for line in text.splitlines() if line.startswith("jim_gc_frozen_objects")]
        self.assertGreater(float(frozen.split()[1]), 10_000)  # Twisted, autobahn, jim...
