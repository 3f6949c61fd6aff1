"""permessage-deflate over a real socket: negotiated only when chosen, compressed both ways,
and bounded on inflation, from a raw client that deflates its own frames."""
import json
import struct
import zlib

from twisted.internet import reactor
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.trial.unittest import TestCase

from tests.integration.test_cluster import quiet
from tests.integration.test_websocket_close import RawWebSocket
from tests.support.inprocess import start_jim
from tests.support.jimclient import TIMEOUT
from tests.test_protocols_websocket import CLOSE, KEY, MASK, TEXT, server_frames

HEARTBEAT = json.dumps({"cmd": 13, "hbbyte": "-127", "note": "hello " * 50}).encode()


def deflated(payload):
    """A permessage-deflate body: raw deflate, sync-flushed, its last 4 bytes dropped."""
    compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    return (compressor.compress(payload) + compressor.flush(zlib.Z_SYNC_FLUSH))[:-4]


def masked_frame(payload, opcode=TEXT, rsv1=False):
    first = 0x80 | (0x40 if rsv1 else 0) | opcode
    n = len(payload)
    head = bytes([first, 0x80 | n]) if n < 126 else (
        bytes([first, 0x80 | 126]) + struct.pack(">H", n) if n < 65536
        else bytes([first, 0x80 | 127]) + struct.pack(">Q", n))
    return head + MASK + bytes(b ^ MASK[i % 4] for i, b in enumerate(payload))


class DeflateClient(RawWebSocket):
    def connectionMade(self):
        self.transport.write((
            "GET / HTTP/1.1\r\nHost: localhost:8888\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
        ).encode())


class DeflateTests(TestCase):
    timeout = 60

    async def connect(self, port):
        endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", port, timeout=TIMEOUT)
        raw = await connectProtocol(endpoint, DeflateClient())
        head = await raw.opened.addTimeout(TIMEOUT, reactor)
        self.assertTrue(head.startswith(b"HTTP/1.1 101"), head)
        return raw, head

    async def finish(self, raw):
        raw.transport.write(masked_frame(struct.pack(">H", 1000), CLOSE))
        await raw.closed.addTimeout(TIMEOUT, reactor)

    async def test_off_by_default_the_offer_is_declined(self):
        jim = await start_jim(self, store="memory")
        raw, head = await self.connect(jim.port)
        self.assertNotIn(b"permessage-deflate", head.lower())
        await self.finish(raw)

    async def test_when_chosen_messages_are_compressed_both_ways(self):
        jim = await start_jim(self, store="memory", ws_deflate="on")
        raw, head = await self.connect(jim.port)
        self.assertIn(b"sec-websocket-extensions: permessage-deflate", head.lower())
        body = deflated(HEARTBEAT)
        self.assertLess(len(body), len(HEARTBEAT) / 4)
        raw.transport.write(masked_frame(body, rsv1=True))
        await quiet(0.3)
        [(first, payload)] = server_frames(raw.received)
        self.assertEqual(first, 0xC1, "a final text frame with RSV1: compressed")
        reply = zlib.decompressobj(-15).decompress(payload + b"\x00\x00\xff\xff")
        self.assertEqual(json.loads(reply)["command"], 13)
        await self.finish(raw)

    async def test_a_small_frame_that_inflates_past_the_limit_is_1009(self):
        jim = await start_jim(self, store="memory", ws_deflate="no-takeover",
                              limits={"max_body": 64 * 1024})
        raw, _ = await self.connect(jim.port)
        bomb = deflated(b" " * (10 * 1024 * 1024))  # 10 MiB of spaces in about 10 KiB
        self.assertLess(len(bomb), 20_000)
        raw.transport.write(masked_frame(bomb, rsv1=True))
        await raw.closed.addTimeout(TIMEOUT, reactor)
        frames = server_frames(raw.received)
        self.assertEqual(frames[-1][0], 0x88)
        self.assertEqual(struct.unpack(">H", frames[-1][1][:2])[0], 1009)
