"""Plain and TLS clients of all three protocols on one port; J-IM's exact bytes; bad input."""
import json
import random

from twisted.internet import defer, reactor
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.protocol import Protocol
from twisted.internet.task import deferLater
from twisted.trial.unittest import TestCase
from twisted.web.client import Agent, BrowserLikePolicyForHTTPS

from tests.support.bodies import read_body
from tests.support.certs import client_options, write_pair
from tests.support.inprocess import start_jim
from tests.support.jimclient import TIMEOUT, tcp_client, ws_client


class _TrustDevCA(BrowserLikePolicyForHTTPS):
    def creatorForNetloc(self, hostname, port):
        return client_options()


class Raw(Protocol):
    """Writes what it is told, collects what comes back, notes the close."""

    def __init__(self):
        self.received = b""
        self.closed = defer.Deferred()

    def dataReceived(self, data):
        self.received += data

    def connectionLost(self, reason):
        self.closed.callback(self.received)


async def raw_exchange(port, data, timeout=TIMEOUT):
    """Connect, send C{data}, and return everything the server sent until it closed."""
    proto = await connectProtocol(TCP4ClientEndpoint(reactor, "127.0.0.1", port), Raw())
    proto.transport.write(data)
    return await proto.closed.addTimeout(timeout, reactor)


class OnePortTests(TestCase):
    timeout = 90

    async def start_tls_jim(self, **config):
        cert, key = write_pair(self.mktemp())
        return await start_jim(self, tls_cert=cert, tls_key=key, **config)

    async def test_plain_and_tls_clients_of_every_protocol_share_the_port(self):
        jim = await self.start_tls_jim()
        tls = client_options()
        users = [
            (await tcp_client(jim.port, testcase=self), "plain-tcp"),
            (await tcp_client(jim.port, tls=tls, testcase=self), "tls-tcp"),
            (await ws_client(jim.port, testcase=self), "plain-ws"),
            (await ws_client(jim.port, tls=client_options(), testcase=self), "tls-ws"),
        ]
        for client, name in users:
            await client.login(name)
        for sender, name in users:
            for receiver, other in users:
                if receiver is sender:
                    continue
                sender.send(11, {"cmd": 11, "chatType": 2, "to": other, "content": name})
                self.assertEqual((await sender.expect(12))["code"], 10000)
                push = await receiver.expect(11)
                self.assertEqual((push["data"]["from"], push["data"]["content"]), (name, name))
        for scheme, agent in (("http", Agent(reactor)), ("https", Agent(reactor, _TrustDevCA()))):
            url = f"{scheme}://localhost:{jim.port}/healthz".encode()
            response = await agent.request(b"GET", url)
            self.assertEqual(json.loads(await read_body(response))["status"], "ok")

    async def test_require_tls_refuses_plain_text(self):
        jim = await self.start_tls_jim(require_tls=True)
        secure = await tcp_client(jim.port, tls=client_options(), testcase=self)
        await secure.login("alice")
        plain = await tcp_client(jim.port)
        plain.send(5, {"cmd": 5, "userId": "bob", "password": "secret"})
        await plain.wait_closed()
        self.assertEqual(plain.inbox.frames, [])
        response = await Agent(reactor).request(b"GET", f"http://localhost:{jim.port}/x".encode())
        self.assertEqual(response.code, 308)
        location = response.headers.getRawHeaders(b"location")[0]
        self.assertEqual(location, f"https://localhost:{jim.port}/x".encode())

    async def test_jim_exact_bytes(self):
        """The Java client's login and heartbeat frames, byte for byte (jim-wire.md §1.4)."""
        jim = await start_jim(self)
        client = await tcp_client(jim.port)
        login = bytes.fromhex(
            "0151050000003" "2" + b'{"cmd":5,"password":"123","userId":"hello_client"}'.hex()
        )
        client.write(login)
        reply = await client.expect(6)
        self.assertEqual((reply["code"], reply["msg"]), (10007, "ok 登录成功!"))
        self.assertEqual(client.raw[0][:3], b"\x01\x51\x06")
        client.write(bytes.fromhex("01510D0000000180"))
        self.assertEqual(await client.expect(13), {"command": 13, "data": {"hbbyte": -128}})
        # a frame with the seq flag is still processed
        client.write(bytes.fromhex("01F1" "00000007" "0D" "00000002") + b"{}")
        self.assertEqual((await client.expect(13))["data"], {"hbbyte": -128})

    async def test_bad_input_leaves_other_clients_untouched(self):
        jim = await start_jim(self, limits=dict(sniff_timeout=2.0))
        alice = await tcp_client(jim.port)
        await alice.login("alice")
        bob = await ws_client(jim.port)
        await bob.login("bob")
        rng = random.Random(7)

        garbage = [
            b"\x00\x01\x02",  # not a protocol
            b"\x16\x03\x01\x00\x05hello",  # TLS without a certificate configured
            b"\x01\x51\x0b\x7f\xff\xff\xff",  # J-IM frame declaring a 2 GiB body
            b"\x01\x51\x0b\xff\xff\xff\xfe",  # negative length
            b"\x02\x51\x05\x00\x00\x00\x02{}",  # wrong version byte
            b"GET / HTTP/1.1\r\n" + b"X: " + b"a" * 20000 + b"\r\n\r\n",  # head over the cap
        ]
        for i in range(1000):
            data = garbage[i % len(garbage)] if i % 2 else bytes(rng.randrange(256) for _ in range(32))
            if data[:1] in (b"\x01", b"G") and i % 2 == 0:
                data = b"\xff" + data
            await raw_exchange(jim.port, data)
            if i % 100 == 0:  # the good clients still talk, all along
                alice.send(11, {"cmd": 11, "chatType": 2, "to": "bob", "content": f"m{i}"})
                self.assertEqual((await bob.expect(11))["data"]["content"], f"m{i}")
                self.assertEqual((await alice.expect(12))["code"], 10000)

        # malformed frames from a logged-in client get error replies, and it stays usable
        mallory = await tcp_client(jim.port)
        await mallory.login("mallory")
        mallory.send(11, b"{not json")
        self.assertEqual((await mallory.expect(12))["code"], 10002)
        mallory.send(11, {"cmd": 11, "chatType": 9, "to": "bob"})
        self.assertEqual((await mallory.expect(12))["code"], 10002)
        mallory.send(19, {"cmd": 19, "type": "x"})
        self.assertEqual((await mallory.expect(20))["code"], 10015)
        mallory.send(200, {"cmd": 200})
        self.assertEqual((await mallory.expect(0))["code"], 10017)
        mallory.send(17, [1, 2, 3])
        self.assertEqual((await mallory.expect(18))["code"], 10004)
        mallory.send(11, {"cmd": 11, "chatType": 2, "to": "alice", "content": "still here"})
        self.assertEqual((await mallory.expect(12))["code"], 10000)
        self.assertEqual((await alice.expect(11))["data"]["content"], "still here")

        # an oversized frame closes only that connection, with a reason
        mallory.write(b"\x01\x51\x0b" + (70000).to_bytes(4, "big"))
        error = await mallory.expect(0)
        self.assertEqual(error["code"], 10020)
        self.assertIn("70000", error["detail"])
        await mallory.wait_closed()

        # a WebSocket client sending junk gets J-IM's unknown-command reply and stays
        bob.sendMessage(b"not json at all")
        self.assertEqual((await bob.expect(0))["code"], 10017)
        bob.send(13, {"cmd": 13})
        await bob.expect(13)
        self.assertEqual(len(jim.core.sessions), 2)

    async def test_an_oversized_http_body_is_answered_413_and_nothing_after(self):
        jim = await start_jim(self)
        head = (b"POST /api/message/send HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                b"Content-Type: application/json\r\nContent-Length: 70000\r\n\r\n")
        answer = await raw_exchange(jim.port, head)
        status_line, _, rest = answer.partition(b"\r\n")
        self.assertEqual(status_line, b"HTTP/1.1 413 Payload Too Large")
        _, _, body = rest.partition(b"\r\n\r\n")
        # the 413 is all: no "100 Continue" after it invites the body it refused
        self.assertEqual(json.loads(body)["error"]["code"], 899003)
        self.assertEqual(jim.core.metrics.bad_input, 1)

    async def test_a_reader_that_stops_reading_is_dropped_nobody_waits_and_it_resyncs(self):
        # real sockets: the turn writer's direct sends, then Twisted's buffer, then the cap
        jim = await start_jim(self, limits=dict(outbox=256 * 1024, rate=0, user_rate=0,
                                                inbox_per_conversation=1000))
        alice = await tcp_client(jim.port, testcase=self)
        await alice.login("alice")
        stuck = await tcp_client(jim.port, testcase=self)
        device = {"platform": "w", "deviceId": "desk", "acks": True}
        await stuck.login("stuck", **device)
        carol = await tcp_client(jim.port, testcase=self)
        await carol.login("carol")
        stuck.transport.pauseProducing()  # it never reads again
        big = "x" * 40_000
        for i in range(200):  # 8 MB for the stuck reader: far past socket buffers and the cap
            alice.send(11, {"cmd": 11, "chatType": 2, "to": "stuck", "content": big})
            if i % 20 == 0:  # meanwhile another conversation goes on at once
                alice.send(11, {"cmd": 11, "chatType": 2, "to": "carol", "content": f"c{i}"})
        acks = [await alice.expect(12) for _ in range(210)]
        self.assertEqual({a["code"] for a in acks} - {10000, 10001}, set())  # all stored
        got = [(await carol.expect(11))["data"]["content"] for _ in range(10)]
        self.assertEqual(got, [f"c{i}" for i in range(0, 200, 20)])
        for _ in range(100):  # the server dropped the stuck reader rather than buffer 8 MB
            if not any(s.username == "stuck" for s in jim.core.sessions):
                break
            await deferLater(reactor, 0.05, lambda: None)
        self.assertFalse(any(s.username == "stuck" for s in jim.core.sessions))
        # it acknowledged nothing: its resync lists every chat it was owed, once, in order
        # (8 MB of them: paged, as replies stop at --max-reply-bytes)
        back = await tcp_client(jim.port, testcase=self)
        await back.login("stuck", **device)
        listed = await back.sync_all()
        to_carol = {int(i) for i in await self.ids_to(alice, "carol")}
        to_stuck = sorted({int(a["data"]["id"]) for a in acks} - to_carol)
        self.assertEqual(len(to_stuck), 200)
        self.assertEqual(listed, to_stuck)

    async def ids_to(self, client, peer):
        """The ids of the history of C{client}'s conversation with C{peer}."""
        history = await client.request(19, {"cmd": 19, "type": 1, "fromUserId": peer,
                                            "count": 1000}, 20)
        return [m["id"] for m in history["data"]["friends"].get(peer, [])]

    async def test_silent_connections_are_closed(self):
        jim = await start_jim(self, limits=dict(sniff_timeout=0.5, login_timeout=1.0))
        silent = await connectProtocol(TCP4ClientEndpoint(reactor, "127.0.0.1", jim.port), Raw())
        await silent.closed.addTimeout(10, reactor)  # never said a word: sniff timeout
        lurker = await tcp_client(jim.port)
        lurker.send(13, {"cmd": 13})  # a J-IM connection that never logs in
        await lurker.expect(13)
        await lurker.wait_closed(timeout=10)
        self.assertEqual(len(jim.core.sessions), 0)
