"""The WebSocket close handshake over real sockets, from a raw client writing masked frames.

A close frame with a code RFC 6455 forbids on the wire (below 1000, 1004 to 1006, 1015, 1016 to
2999 unassigned, 5000 and up) or a 1-byte payload is a protocol error: jim answers it with a
close frame of its own carrying 1002 and then ends the TCP connection in order (a FIN, not a
reset, so the client reads that close frame). A valid code is echoed (RFC 6455 §5.5.1). Other
clients chat on all along.
"""
import struct

from twisted.internet import defer, reactor
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol, wrapClientTLS
from twisted.internet.error import ConnectionDone
from twisted.internet.protocol import Protocol
from twisted.trial.unittest import TestCase

from tests.support.certs import client_options, write_pair
from tests.support.inprocess import start_jim
from tests.support.jimclient import TIMEOUT, ws_client
from tests.test_protocols_websocket import CLOSE, client_frame, server_frames, upgrade

INVALID = [
    struct.pack(">H", 999),
    struct.pack(">H", 1005),
    struct.pack(">H", 1006),
    struct.pack(">H", 5000),
    struct.pack(">H", 1004),
    struct.pack(">H", 2999),
    b"\x03",  # a 1-byte payload: half a code
]
VALID = [1000, 1001, 3000, 4000]


class RawWebSocket(Protocol):
    """Upgrades, then writes what it is told and keeps every byte after the 101 head."""

    def __init__(self):
        self.head = None
        self.reason = None
        self.received = b""
        self.opened = defer.Deferred()
        self.closed = defer.Deferred()

    def connectionMade(self):
        self.transport.write(upgrade("/"))

    def dataReceived(self, data):
        self.received += data
        if self.head is None and b"\r\n\r\n" in self.received:
            self.head, _, self.received = self.received.partition(b"\r\n\r\n")
            self.opened.callback(self.head)

    def connectionLost(self, reason):
        self.reason = reason
        self.closed.callback(None)


class CloseCodeTests(TestCase):
    timeout = 60

    async def close_with(self, port, payload, tls=None):
        """Open a raw WebSocket, send a close frame with C{payload}; (frames, how it ended)."""
        endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", port, timeout=TIMEOUT)
        if tls is not None:
            endpoint = wrapClientTLS(tls, endpoint)
        raw = await connectProtocol(endpoint, RawWebSocket())
        head = await raw.opened.addTimeout(TIMEOUT, reactor)
        self.assertTrue(head.startswith(b"HTTP/1.1 101"), head)
        raw.transport.write(client_frame(payload, CLOSE))
        await raw.closed.addTimeout(TIMEOUT, reactor)
        return server_frames(raw.received), raw.reason

    async def chatting(self, port):
        alice = await ws_client(port, testcase=self)
        await alice.login("alice")
        bob = await ws_client(port, testcase=self)
        await bob.login("bob")

        async def chat(text):
            alice.send(11, {"cmd": 11, "chatType": 2, "to": "bob", "content": text})
            self.assertEqual((await bob.expect(11))["data"]["content"], text)
            self.assertEqual((await alice.expect(12))["code"], 10000)

        return chat

    async def test_an_invalid_close_is_answered_1002_then_closed_in_order(self):
        jim = await start_jim(self, store="memory")
        chat = await self.chatting(jim.port)
        for payload in INVALID:
            frames, reason = await self.close_with(jim.port, payload)
            self.assertEqual([first for first, _ in frames], [0x88], payload)
            [(_, body)] = frames
            self.assertEqual(struct.unpack(">H", body[:2])[0], 1002, payload)
            # a FIN, not a reset: the client got to read the close frame
            self.assertTrue(reason.check(ConnectionDone), (payload, reason))
            await chat(f"after {payload!r}")
        self.assertEqual(len(jim.core.sessions), 2)

    async def test_over_tls_too(self):
        cert, key = write_pair(self.mktemp())
        jim = await start_jim(self, store="memory", tls_cert=cert, tls_key=key)
        for payload in (struct.pack(">H", 1005), b"\x03"):
            frames, reason = await self.close_with(jim.port, payload, tls=client_options())
            [(first, body)] = frames
            self.assertEqual((first, struct.unpack(">H", body[:2])[0]), (0x88, 1002))
            self.assertTrue(reason.check(ConnectionDone), (payload, reason))

    async def test_a_valid_close_is_echoed(self):
        jim = await start_jim(self, store="memory")
        chat = await self.chatting(jim.port)
        for code in VALID:
            frames, reason = await self.close_with(jim.port, struct.pack(">H", code) + b"bye")
            [(first, body)] = frames
            self.assertEqual((first, struct.unpack(">H", body[:2])[0]), (0x88, code))
            self.assertTrue(reason.check(ConnectionDone), (code, reason))
            await chat(f"after {code}")
        # and a close without a code is answered without one
        frames, reason = await self.close_with(jim.port, b"")
        self.assertEqual(frames, [(0x88, b"")])
        self.assertTrue(reason.check(ConnectionDone), reason)
