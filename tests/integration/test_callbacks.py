"""Callbacks to a real app server (a twisted.web endpoint on a loopback port): the app's
messages and its users' presence arrive signed as docs/callbacks.md says; an endpoint that
answers 500 for a while, or is down for a while, loses nothing; a slow one never delays a
chat; a restart loses nothing; on a cluster each item is POSTed once."""
import base64
import time

import attr
from twisted.internet import reactor, task
from twisted.trial.unittest import TestCase

from jim.core.accounts import secret_hash
from jim.wire import callbacks as wire
from tests.integration.test_cluster import KEY, SECRET, ClusterCase
from tests.integration.test_rest_live import Clients
from tests.support.callback_server import Answer, free_port, start_endpoint
from tests.support.rest import Checks, start_rest

#: retries and polls in tenths of seconds, so that a test waits little
FAST = dict(first_backoff=0.05, max_backoff=0.2, poll=0.2)


async def quiet(seconds):
    await task.deferLater(reactor, seconds, lambda: None)


async def use_url(jim, app, url):
    """Point the app's callbacks at C{url}, with fast retries and polls on every node."""
    await jim.core.accounts.update_app(app, {"callback_url": url})
    for node in getattr(jim, "nodes", [jim]):
        callbacks = node.core.callbacks
        callbacks.stop()
        callbacks.options = attr.evolve(callbacks.options, **FAST)
        callbacks.start()


async def eventually(check, timeout=10.0):
    """Wait until C{check()} is true."""
    deadline = reactor.seconds() + timeout
    while not check():
        if reactor.seconds() > deadline:
            raise AssertionError("never happened")
        await quiet(0.02)


class CallbackCase(TestCase, Checks, Clients):
    timeout = 60

    async def app(self, **config):
        jim, rest = await start_rest(self, **config)
        await rest.register("alice", "bob")
        return jim, rest

    async def chat(self, sender, to, text):
        """C{sender} sends a chat; its id."""
        sender.send(11, {"cmd": 11, "chatType": 2, "to": to, "content": text})
        ack = await sender.expect(12)
        self.assertEqual(ack["code"], 10000)
        return int(ack["data"]["id"])


class ArrivalTests(CallbackCase):
    async def test_messages_and_presence_arrive_signed(self):
        jim, rest = await self.app()
        await rest.admin("admin1")
        endpoint, _, url = await start_endpoint(self)
        await use_url(jim, rest.key, url)
        before = int(time.time() * 1000)
        alice = await self.tcp(jim, "alice")
        bob = await self.ws(jim, "bob")
        first = await self.chat(alice, "bob", "hi bob")
        sent = (await rest.send("admin1", "bob", "from the app server"))["msg_id"]
        await eventually(lambda: len(endpoint.answered_ok("messages")) == 2)
        await bob.disconnect()
        await eventually(lambda: len(endpoint.answered_ok("statuses")) == 3)

        key = secret_hash(rest.secret)  # what the app server computes from its secret
        for request in endpoint.received:
            self.assertEqual(request.path, "/jim/callback")
            self.assertEqual(request.headers["content-type"], "application/json; charset=utf-8")
            self.assertEqual(base64.b64decode(request.headers["authorization"].split()[1]),
                             f"{rest.key}:".encode())
            timestamp = int(request.headers["x-jim-timestamp"])
            self.assertTrue(before - 1000 <= timestamp <= time.time() * 1000 + 1000)
            self.assertTrue(wire.verify(key, timestamp, request.body,
                                        request.headers["x-jim-signature"]))
            self.assertFalse(wire.verify(secret_hash("not the secret"), timestamp,
                                         request.body, request.headers["x-jim-signature"]))

        chat, admin = endpoint.answered_ok("messages")
        self.assertEqual((chat["msgid"], chat["from_id"], chat["target_id"], chat["from_type"],
                          chat["target_type"], chat["msg_type"], chat["msg_body"]["text"],
                          chat["from_appkey"], chat["target_appkey"]),
                         (first, "alice", "bob", "user", "single", "text", "hi bob",
                          rest.key, rest.key))
        self.assertEqual(chat["create_time"], chat["msg_ctime"] // 1000)
        self.assertEqual((admin["msgid"], admin["from_type"], admin["msg_body"]),
                         (sent, "admin", {"text": "from the app server"}))
        statuses = [(s["username"], s["online"], s["appkey"])
                    for s in endpoint.answered_ok("statuses")]
        self.assertEqual(statuses, [("alice", True, rest.key), ("bob", True, rest.key),
                                    ("bob", False, rest.key)])
        self.assertEqual(sum(1 for r in endpoint.received
                             if b'"total":' not in r.body), 0)

    async def test_an_app_without_a_url_posts_nothing(self):
        jim, rest = await self.app()
        endpoint, _, url = await start_endpoint(self)
        alice = await self.tcp(jim, "alice")
        await self.tcp(jim, "bob")
        await self.chat(alice, "bob", "hi")
        await quiet(0.3)
        self.assertEqual(endpoint.received, [])
        self.assertEqual(await jim.store.callbacks.pending_apps(), [])


class FailureTests(CallbackCase):
    async def test_500s_then_200_lose_nothing(self):
        jim, rest = await self.app()
        endpoint, _, url = await start_endpoint(self)
        endpoint.answers = [500, 503, Answer(302, headers=[(b"Location", url)]), 500]
        await use_url(jim, rest.key, url)
        alice = await self.tcp(jim, "alice")
        await self.tcp(jim, "bob")
        ids = [await self.chat(alice, "bob", f"m{n}") for n in range(5)]
        await eventually(lambda: len(endpoint.answered_ok("messages")) == 5)
        await quiet(0.3)
        self.assertEqual([m["msgid"] for m in endpoint.answered_ok("messages")], ids)
        self.assertGreaterEqual(len(endpoint.received), 5)
        self.assertEqual(await jim.store.callbacks.count(rest.key), 0)
        posts = jim.metrics.callback_posts
        self.assertEqual(posts[(rest.key, "refused")], 4)
        self.assertGreaterEqual(posts[(rest.key, "ok")], 2)
        self.assertIn("jim_callback_posts_total", (await rest.get("/metrics")).body.decode())

    async def test_an_endpoint_down_then_up_loses_nothing(self):
        jim, rest = await self.app()
        port = free_port()
        url = f"http://127.0.0.1:{port}/jim/callback"
        await use_url(jim, rest.key, url)
        alice = await self.tcp(jim, "alice")
        await self.tcp(jim, "bob")
        ids = [await self.chat(alice, "bob", f"m{n}") for n in range(5)]
        await eventually(lambda: jim.metrics.callback_posts.get((rest.key, "unreachable"), 0)
                         >= 2)
        endpoint, _, _ = await start_endpoint(self, port=port)
        await eventually(lambda: len(endpoint.answered_ok("messages")) == 5)
        self.assertEqual([m["msgid"] for m in endpoint.answered_ok("messages")], ids)
        self.assertEqual([(s["username"], s["online"]) for s in endpoint.answered_ok("statuses")],
                         [("alice", True), ("bob", True)])

    async def test_a_slow_endpoint_never_delays_a_chat(self):
        jim, rest = await self.app()
        endpoint, _, url = await start_endpoint(self)
        endpoint.answers = [Answer(200, delay=5.0)] * 10
        await use_url(jim, rest.key, url)
        alice = await self.tcp(jim, "alice")
        bob = await self.tcp(jim, "bob")
        await endpoint.arrived(1)  # a POST is waiting for its answer
        for n in range(10):
            started = reactor.seconds()
            alice.send(11, {"cmd": 11, "chatType": 2, "to": "bob", "content": f"m{n}"})
            self.assertEqual((await alice.expect(12, timeout=1))["code"], 10000)
            self.assertEqual((await bob.expect(11, timeout=1))["data"]["content"], f"m{n}")
            self.assertLess(reactor.seconds() - started, 0.5)
        # the ten messages reach the backlog after their chats were answered (a callback is
        # never on a chat's path); the two statuses stay in it until the waiting POST is
        # answered, and nothing else was POSTed meanwhile
        deadline = reactor.seconds() + 4
        while await jim.store.callbacks.count(rest.key) < 12 and reactor.seconds() < deadline:
            await quiet(0.02)
        kept = await jim.store.callbacks.batch(rest.key, 100)
        self.assertEqual([kind for _, kind, _ in kept], ["status"] * 2 + ["message"] * 10)
        self.assertEqual(len(endpoint.received), 1)

    async def test_a_restart_loses_nothing(self):
        jim, rest = await self.app()
        port = free_port()
        await use_url(jim, rest.key, f"http://127.0.0.1:{port}/jim/callback")
        alice = await self.tcp(jim, "alice")
        await self.tcp(jim, "bob")
        ids = [await self.chat(alice, "bob", f"m{n}") for n in range(3)]
        data = jim.config.data
        await jim.stopService()  # alice and bob go offline on the way
        again, _ = await start_rest(self, data=data)
        endpoint, _, _ = await start_endpoint(self, port=port)
        await eventually(lambda: len(endpoint.answered_ok("statuses")) == 4, timeout=20)
        self.assertEqual([m["msgid"] for m in endpoint.answered_ok("messages")], ids)
        self.assertEqual(sorted((s["username"], s["online"])
                                for s in endpoint.answered_ok("statuses")),
                         [("alice", False), ("alice", True), ("bob", False), ("bob", True)])


class ClusterCallbackTests(ClusterCase):
    timeout = 90

    async def test_each_item_is_posted_once_whichever_node_accepted_it(self):
        nodes, rests = await self.cluster(2)
        await rests[0].register("alice", "bob")
        endpoint, _, url = await start_endpoint(self)
        await nodes[0].core.accounts.update_app(KEY, {"callback_url": url})
        await nodes[0].bus.flushed()
        for node in nodes:
            callbacks = node.core.callbacks
            callbacks.stop()
            callbacks.options = attr.evolve(callbacks.options, **FAST)
            callbacks.start()
        alice = await self.tcp(nodes[0], "alice")
        bob = await self.tcp(nodes[1], "bob")
        ids = []
        for n in range(6):
            sender, to = (alice, "bob") if n % 2 else (bob, "alice")
            sender.send(11, {"cmd": 11, "chatType": 2, "to": to, "content": f"m{n}"})
            ids.append(int((await sender.expect(12))["data"]["id"]))
        await eventually(lambda: len(endpoint.answered_ok("messages")) >= 6)
        await quiet(1.0)  # polls on both nodes: nothing is sent twice
        self.assertEqual(sorted(m["msgid"] for m in endpoint.answered_ok("messages")),
                         sorted(ids))
        self.assertEqual(sorted(s["username"] for s in endpoint.answered_ok("statuses")),
                         ["alice", "bob"])
        key = secret_hash(SECRET)
        for request in endpoint.received:
            self.assertTrue(wire.verify(key, int(request.headers["x-jim-timestamp"]),
                                        request.body, request.headers["x-jim-signature"]))
