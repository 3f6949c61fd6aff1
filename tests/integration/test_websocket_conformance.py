"""RFC 6455 as the Autobahn Testsuite checks it (cases 1-7, 9-10), a case or two of each class,
over real sockets from a raw client writing its own frames: framing, pings, reserved bits,
opcodes, fragmentation, UTF-8, close handling and large messages. Each violation is answered as
the RFC says (a close frame with its code, then a FIN); two other clients chat all along.
(Close codes themselves: test_websocket_close.py.)"""
import json
import struct

from twisted.internet import reactor
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.error import ConnectionDone
from twisted.trial.unittest import TestCase

from tests.integration.test_cluster import quiet
from tests.integration.test_websocket_close import RawWebSocket
from tests.support.inprocess import start_jim
from tests.support.jimclient import TIMEOUT, ws_client
from tests.test_protocols_websocket import (BINARY, CLOSE, MASK, PING, PONG, TEXT,
                                            client_frame, server_frames)

CONTINUATION = 0x0
HEARTBEAT = json.dumps({"cmd": 13, "hbbyte": "-127"}).encode()


def frame(payload, opcode=TEXT, fin=True, rsv=0):
    """A masked client frame, with control over FIN and the reserved bits."""
    first = (0x80 if fin else 0) | rsv << 4 | opcode
    n = len(payload)
    if n < 126:
        head = bytes([first, 0x80 | n])
    elif n < 65536:
        head = bytes([first, 0x80 | 126]) + struct.pack(">H", n)
    else:
        head = bytes([first, 0x80 | 127]) + struct.pack(">Q", n)
    return head + MASK + bytes(b ^ MASK[i % 4] for i, b in enumerate(payload))


class AnsweringWebSocket(RawWebSocket):
    """A raw client that, as RFC 6455 asks of a client, answers the server's close frame with
    one of its own (echoing the code), once."""

    answered = False

    def dataReceived(self, data):
        super().dataReceived(data)
        if self.head is not None and not self.answered:
            try:
                frames = server_frames(self.received)
            except (AssertionError, IndexError, struct.error):  # a frame not all here yet
                return
            if frames and frames[-1][0] == 0x88:
                self.answered = True
                self.transport.write(frame(frames[-1][1][:2], CLOSE))


def close_code(frames):
    """The code of the last frame if it is a close frame with one, else None."""
    if not frames or frames[-1][0] != 0x88 or len(frames[-1][1]) < 2:
        return None
    return struct.unpack(">H", frames[-1][1][:2])[0]


class ConformanceTests(TestCase):
    timeout = 120

    async def setUp(self):
        self.jim = await start_jim(self, store="memory", limits={"max_body": 64 * 1024})
        alice = await ws_client(self.jim.port, testcase=self)
        await alice.login("alice")
        bob = await ws_client(self.jim.port, testcase=self)
        await bob.login("bob")
        self.alice, self.bob = alice, bob

    async def others_chat(self, text):
        self.alice.send(11, {"cmd": 11, "chatType": 2, "to": "bob", "content": text})
        self.assertEqual((await self.bob.expect(11))["data"]["content"], text)
        self.assertEqual((await self.alice.expect(12))["code"], 10000)

    async def send(self, *frames, wait_close=True):
        """Open a raw WebSocket, write C{frames}; (server frames, how it ended)."""
        endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", self.jim.port, timeout=TIMEOUT)
        raw = await connectProtocol(endpoint, AnsweringWebSocket())
        head = await raw.opened.addTimeout(TIMEOUT, reactor)
        self.assertTrue(head.startswith(b"HTTP/1.1 101"), head)
        raw.transport.write(b"".join(frames))
        if wait_close:
            await raw.closed.addTimeout(TIMEOUT, reactor)
        else:
            await quiet(0.3)
            raw.answered = True  # this close is the client's own
            raw.transport.write(frame(struct.pack(">H", 1000), CLOSE))
            await raw.closed.addTimeout(TIMEOUT, reactor)
        return server_frames(raw.received), raw.reason

    async def assert_closed_with(self, code, *frames):
        got, reason = await self.send(*frames)
        self.assertEqual(close_code(got), code, got)
        self.assertTrue(reason.check(ConnectionDone), reason)
        await self.others_chat(f"after a {code}")

    # 1, framing: text and binary of every length class are read
    async def test_framing_text_of_each_length_class_is_read(self):
        for size in (10, 100, 40_000):  # 7-bit and 16-bit lengths (64-bit: the last test)
            body = json.dumps({"cmd": 13, "hbbyte": "-127", "pad": "x" * size}).encode()
            got, _ = await self.send(frame(body), wait_close=False)
            self.assertEqual(got[0][0], 0x81, "a heartbeat reply")
            self.assertEqual(json.loads(got[0][1])["command"], 13)
        await self.others_chat("framing")

    # 2, pings and pongs
    async def test_a_ping_is_answered_with_its_payload_and_an_unsolicited_pong_ignored(self):
        got, _ = await self.send(frame(b"are you there", PING), frame(b"stray", PONG),
                                 wait_close=False)
        self.assertEqual(got[0], (0x8A, b"are you there"))
        self.assertEqual(got[-1][0], 0x88, "nothing for the pong: the close answer comes next")

    async def test_a_ping_over_125_bytes_is_a_protocol_error(self):
        await self.assert_closed_with(1002, frame(b"x" * 126, PING))

    # 3, reserved bits
    async def test_a_reserved_bit_is_a_protocol_error(self):
        for rsv in (1, 2, 4):
            await self.assert_closed_with(1002, frame(HEARTBEAT, rsv=rsv))

    # 4, opcodes
    async def test_a_reserved_opcode_is_a_protocol_error(self):
        for opcode in (0x3, 0x7, 0xB, 0xF):
            await self.assert_closed_with(1002, frame(b"", opcode))

    # 5, fragmentation
    async def test_a_fragmented_message_is_put_together(self):
        a, b = HEARTBEAT[:10], HEARTBEAT[10:]
        got, _ = await self.send(frame(a, TEXT, fin=False), frame(b"ping!", PING),
                                 frame(b, CONTINUATION), wait_close=False)
        self.assertEqual(got[0], (0x8A, b"ping!"), "a ping between fragments is answered")
        self.assertEqual(json.loads(got[1][1])["command"], 13)

    async def test_a_continuation_without_a_start_is_a_protocol_error(self):
        await self.assert_closed_with(1002, frame(HEARTBEAT, CONTINUATION))

    async def test_a_fragmented_control_frame_is_a_protocol_error(self):
        await self.assert_closed_with(1002, frame(b"x", PING, fin=False))

    async def test_a_new_message_inside_a_fragmented_one_is_a_protocol_error(self):
        await self.assert_closed_with(1002, frame(b"{", TEXT, fin=False), frame(HEARTBEAT))

    # 6, UTF-8
    async def test_text_that_is_not_utf8_is_closed_with_1007(self):
        for bad in (b"\xff", b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80",
                    b"\xc0\xaf"):
            await self.assert_closed_with(1007, frame(bad))

    async def test_utf8_split_across_fragments_is_read(self):
        body = json.dumps({"cmd": 13, "hbbyte": "-127", "note": "κόσμε"},
                          ensure_ascii=False).encode()
        cut = body.index("ό".encode()) + 1  # inside a two-byte character
        got, _ = await self.send(frame(body[:cut], TEXT, fin=False),
                                 frame(body[cut:], CONTINUATION), wait_close=False)
        self.assertEqual(json.loads(got[0][1])["command"], 13)

    # 7, close handling
    async def test_a_close_payload_with_invalid_utf8_reason_is_closed_with_1007(self):
        await self.assert_closed_with(1007, frame(struct.pack(">H", 1000) + b"\xff", CLOSE))

    async def test_nothing_after_a_close_is_read(self):
        got, reason = await self.send(frame(struct.pack(">H", 1000), CLOSE), frame(HEARTBEAT))
        self.assertEqual([first for first, _ in got], [0x88], "no heartbeat reply")
        self.assertTrue(reason.check(ConnectionDone), reason)

    # 9, large messages; 10, auto-fragmentation: up to the limit is read, past it is 1009
    async def test_a_message_at_the_limit_is_read_and_past_it_is_1009(self):
        pad = 64 * 1024 - len(json.dumps({"cmd": 13, "hbbyte": "-127", "pad": ""}))
        body = json.dumps({"cmd": 13, "hbbyte": "-127", "pad": "x" * pad}).encode()
        self.assertEqual(len(body), 64 * 1024)
        pieces = [body[i:i + 1000] for i in range(0, len(body), 1000)]
        fragments = [frame(p, TEXT if i == 0 else CONTINUATION, fin=i == len(pieces) - 1)
                     for i, p in enumerate(pieces)]
        got, _ = await self.send(*fragments, wait_close=False)
        self.assertEqual(json.loads(got[0][1])["command"], 13)
        await self.assert_closed_with(1009, frame(body + b" "))
        await self.assert_closed_with(1009, frame(b"x" * 70_000, BINARY))
