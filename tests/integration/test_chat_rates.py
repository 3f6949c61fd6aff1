"""Chat rates shared by connections (per user, per address, per app), over real sockets: one
user flooding from many connections is refused past its rate, with a clear error, while
another user goes on chatting."""
from twisted.trial.unittest import TestCase

from tests.support.inprocess import start_jim
from tests.support.jimclient import tcp_client


def chat(to, n):
    return {"cmd": 11, "chatType": 2, "to": to, "content": f"flood {n}", "id": f"c{n}"}


class ChatRatesTests(TestCase):
    timeout = 60

    async def test_one_user_on_eight_connections_gets_its_rate_not_eight(self):
        jim = await start_jim(self, limits={"user_rate": 5.0, "address_rate": 0,
                                            "app_rate": 0})
        flooder = []
        for _ in range(8):
            client = await tcp_client(jim.port, testcase=self)
            await client.login("mallory")
            flooder.append(client)
        bob = await tcp_client(jim.port, testcase=self)
        await bob.login("bob")
        alice = await tcp_client(jim.port, testcase=self)
        await alice.login("alice")

        for n in range(10):  # 80 chats at once, from 8 connections: a 10-chat burst goes
            for client in flooder:
                client.send(11, chat("bob", n))
        acks = [await client.expect(12) for client in flooder for _ in range(10)]
        codes = [ack["code"] for ack in acks]
        self.assertEqual(codes.count(10000), 10, "the user's burst: 5 a second, 2 s worth")
        refused = [ack for ack in acks if ack["code"] == 10002]
        self.assertEqual(len(refused), 70)
        self.assertIn("too many chats: user mallory", refused[0]["detail"])
        self.assertEqual({ack["data"]["clientId"] for ack in refused} <= {f"c{n}" for n in
                                                                           range(10)}, True)

        alice.send(11, {"cmd": 11, "chatType": 2, "to": "bob", "content": "hi", "id": "a1"})
        self.assertEqual((await alice.expect(12))["code"], 10000, "others chat on")
        contents = [(await bob.expect(11))["data"]["content"] for _ in range(11)]
        self.assertEqual(contents[-1], "hi")
        self.assertEqual(sum(c.startswith("flood") for c in contents), 10, "no more reached bob")


class ClusterChatRatesTests(TestCase):
    """On a cluster a user's rate holds across the nodes: each node tells the others what it
    charged, and they take it off their own buckets."""

    timeout = 60

    async def test_a_user_on_two_nodes_gets_its_burst_once_not_once_a_node(self):
        from tests.support.redis_server import empty_redis

        url = empty_redis()
        limits = {"user_rate": 5.0, "address_rate": 0, "app_rate": 0}
        nodes = [await start_jim(self, store=url, limits=limits) for _ in range(2)]
        on_a = await tcp_client(nodes[0].port, testcase=self)
        await on_a.login("mallory")
        on_b = await tcp_client(nodes[1].port, testcase=self)
        await on_b.login("mallory")
        bob = await tcp_client(nodes[1].port, testcase=self)
        await bob.login("bob")

        for n in range(10):
            on_a.send(11, chat("bob", n))
        codes = [(await on_a.expect(12))["code"] for _ in range(10)]
        self.assertEqual(codes, [10000] * 10, "node A: the user's whole burst")
        # what node A reports each second, told now, and gone round once flushed
        nodes[0].core.share_rates()
        await nodes[0].core.bus.flushed()

        for n in range(10, 20):
            on_b.send(11, chat("bob", n))
        acks = [await on_b.expect(12) for _ in range(10)]
        went = [ack for ack in acks if ack["code"] == 10000]
        self.assertLessEqual(len(went), 1, "node B knows the burst was used on node A")
        self.assertIn("too many chats: user mallory",
                      next(ack for ack in acks if ack["code"] == 10002)["detail"])

        bob.send(11, {"cmd": 11, "chatType": 2, "to": "mallory", "content": "hi", "id": "b1"})
        self.assertEqual((await bob.expect(12))["code"], 10000, "others chat on")
