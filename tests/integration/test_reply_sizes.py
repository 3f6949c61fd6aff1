"""cmd 20 replies are bounded in bytes (--max-reply-bytes), and paging gets the rest: over a
real port, with large messages."""
from twisted.internet import defer
from twisted.trial.unittest import TestCase

from jim.wire import framing
from tests.support.inprocess import start_jim
from tests.support.jimclient import tcp_client

BOUND = 200_000
SIZE = 60_000  # bytes of each message's content
COUNT = 50


def reply_sizes(client):
    """The body size of every cmd 20 reply the client got so far."""
    decoder = framing.FrameDecoder(max_body=64 * 1024 * 1024)
    sizes = []
    for data in client.raw:
        sizes += [len(body) for cmd, _seq, body in decoder.feed(data) if cmd == 20]
    return sizes


def content(i):
    return f"{i:04d}" + "x" * (SIZE - 4)


class ReplySizeTests(TestCase):
    timeout = 120

    async def start(self, bound=BOUND, **limits):
        self.jim = await start_jim(self, limits=dict(max_reply=bound, **limits))

    async def client(self, user):
        client = await tcp_client(self.jim.port)
        await client.login(user)
        self.addCleanup(client.close)
        return client

    async def send_many(self, alice, to, code):
        ids = []
        for i in range(COUNT):
            ack = await alice.request(11, {"cmd": 11, "chatType": 2, "to": to,
                                           "content": content(i)}, 12)
            self.assertEqual(ack["code"], code)
            ids.append(ack["data"]["id"])
        return ids

    async def test_history_pages_by_offset_under_the_bound(self):
        await self.start()
        bob = await self.client("bob")
        alice = await self.client("alice")
        ids = await self.send_many(alice, "bob", 10000)
        got, request, pages = [], {"cmd": 19, "type": 1, "fromUserId": "bob", "offset": 0,
                                   "count": 1000}, 0
        while True:
            reply = await alice.request(19, request, 20)
            self.assertEqual(reply["code"], 10018)
            got += reply["data"]["friends"]["bob"]
            pages += 1
            if "more" not in reply:
                self.assertNotIn("next", reply)
                break
            self.assertIs(reply["more"], True)
            request = dict(request, **reply["next"])
        self.assertEqual([m["id"] for m in got], ids)  # every one once, in order
        self.assertEqual([m["content"] for m in got], [content(i) for i in range(COUNT)])
        sizes = reply_sizes(alice)
        self.assertEqual(len(sizes), pages)
        self.assertGreater(pages, COUNT // 4)
        self.assertTrue(all(size <= BOUND for size in sizes), sizes)
        del bob

    async def test_latest_history_pages_back_with_end_time(self):
        await self.start()
        alice = await self.client("alice")
        ids = await self.send_many(alice, "alice", 10000)  # to oneself
        got, request = [], {"cmd": 19, "type": 1, "fromUserId": "alice", "count": 1000}
        while True:
            reply = await alice.request(19, request, 20)
            page = reply["data"]["friends"].get("alice", [])
            got = page + got  # each page is older than the one before
            if "more" not in reply:
                break
            request = dict(request, **reply["next"])
        self.assertEqual([m["id"] for m in got], ids)
        self.assertTrue(all(size <= BOUND for size in reply_sizes(alice)))

    async def test_a_single_message_over_the_bound_is_sent_alone(self):
        await self.start(bound=10_000)
        alice = await self.client("alice")
        ids = await self.send_many(alice, "alice", 10000)
        reply = await alice.request(19, {"cmd": 19, "type": 1, "fromUserId": "alice",
                                         "offset": 0, "count": 3}, 20)
        self.assertEqual([m["id"] for m in reply["data"]["friends"]["alice"]], ids[:1])
        self.assertEqual(reply["next"], {"offset": 1, "count": 2})

    async def test_offline_pages_take_each_message_once(self):
        await self.start()
        bob = await self.client("bob")
        bob.close()
        await bob.wait_closed()
        alice = await self.client("alice")
        ids = await self.send_many(alice, "bob", 10001)
        bob = await self.client("bob")
        reply = await bob.request(19, {"cmd": 19, "type": 0}, 20)
        first = [m["id"] for m in reply["data"]["friends"]["alice"]]
        self.assertIs(reply["more"], True)
        self.assertEqual(first, ids[:len(first)])
        self.assertLess(len(first), COUNT)
        # the rest stayed: they are all still there, and the next fetch starts after these
        got = list(first)
        while "more" in reply:
            reply = await bob.request(19, {"cmd": 19, "type": 0}, 20)
            got += [m["id"] for m in reply["data"]["friends"].get("alice", [])]
        self.assertEqual(got, ids)
        empty = await bob.request(19, {"cmd": 19, "type": 0}, 20)
        self.assertEqual(empty["data"]["friends"], {})
        self.assertTrue(all(size <= BOUND for size in reply_sizes(bob)))

    async def test_concurrent_requests_build_no_reply_over_the_bound(self):
        await self.start()
        alice = await self.client("alice")
        await self.send_many(alice, "alice", 10000)
        for _ in range(20):
            alice.send(19, {"cmd": 19, "type": 1, "fromUserId": "alice", "count": 1000})
        replies = [await alice.expect(20) for _ in range(20)]
        self.assertTrue(all(r["more"] is True for r in replies))
        sizes = reply_sizes(alice)
        self.assertEqual(len(sizes), 20)
        self.assertTrue(all(size <= BOUND for size in sizes), sizes)

    async def test_a_reply_under_the_bound_is_unchanged(self):
        await self.start()
        alice = await self.client("alice")
        for text in ("one", "two"):
            await alice.request(11, {"cmd": 11, "chatType": 2, "to": "alice", "content": text,
                                     "extras": {"k": [1, "é"]}}, 12)
        reply = await alice.request(19, {"cmd": 19, "type": 1, "fromUserId": "alice"}, 20)
        self.assertNotIn("more", reply)
        self.assertEqual(list(reply), ["code", "msg", "command", "data"])
        self.assertEqual([m["content"] for m in reply["data"]["friends"]["alice"]],
                         ["one", "two"])
