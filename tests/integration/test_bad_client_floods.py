"""One bad client never harms another: slow clients and floods.

While the others chat: a slow client (50 J-IM connections and 10 WebSocket ones holding
half a frame), and floods: 2,000 junk frames, or WebSocket messages, in one write; a flood
broken halfway; 50 connections of raw bytes.

The others, the server and the checks are those of test_bad_client_fuzz.py's properties
(tests/support/bad_client.py).
"""
import json
import struct
import time

from twisted.internet import reactor
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.task import deferLater
from twisted.trial.unittest import TestCase

from jim.wire import framing, status
from tests.integration.test_one_port import Raw
from tests.integration.test_websocket_close import RawWebSocket
from tests.support.bad_client import (
    C_ADDRESS, CHAT_WITHIN, World, check_frame, replies, tcp_frames_of,
)
from tests.support.bad_input import answers_to, encode
from tests.support.jimclient import tcp_client
from tests.test_protocols_websocket import TEXT, client_frame, server_frames


# -- slow clients and floods ----------------------------------------------------------------------

class SlowClientTests(TestCase):
    timeout = 60

    async def test_fifty_connections_holding_half_a_frame_are_closed_while_others_chat(self):
        # the login and idle timeouts (docs/configuration.md, Limits) short, so the test is
        world = await World.start(self, login_timeout=2.0, idle_timeout=3.0)
        login = framing.encode(5, encode({"cmd": 5, "token": world.token}))
        half = framing.encode(11, encode({"cmd": 11, "chatType": 2, "to": "alice",
                                          "content": "never finished"}))
        half = half[:len(half) // 2]
        held = []
        for n in range(50):
            if n % 10 == 0:  # the others keep talking (their idle timeout is short too)
                await world.others_chat()
            client = await tcp_client(world.port, source=C_ADDRESS)
            world.opened.append(client)
            if n % 2:  # logged in, then half a frame: the idle timeout is its end
                client.write(login)
                await client.expect(6)
            client.write(half if n % 4 < 2 else half[:3])
            held.append(client)
        # and over WebSocket: half a message's frame after the upgrade, never logged in
        websockets = []
        for _ in range(10):
            raw = await _connect_raw(world.port, RawWebSocket())
            await raw.opened
            raw.transport.write(client_frame(b'{"cmd":13}' * 20, TEXT)[:100])
            websockets.append(raw)

        def still_open():
            return (sum(not c.inbox.closed.called for c in held)
                    + sum(not r.closed.called for r in websockets))

        # the login timeout, then the sweep (a quarter of it), then a WebSocket's close
        # handshake (5 s) that the peer never answers
        slowest = await others_served_until(self, world, lambda: not still_open(), 12.0,
                                            lambda: f"{still_open()} still open", pause=0.1)
        self.assertLess(slowest, CHAT_WITHIN)
        await world.others_chat()
        world.forget_noise()
        # they never finished a chat: nobody heard one
        self.assertEqual(await world.rest.snapshot(), world.snapshot)
        world.errors.check()


class FloodTests(TestCase):
    timeout = 60

    def garbage(self, count, seed):
        """C{count} whole frames of commands that each get exactly one reply whatever their
        body (no login, no close), with bodies that are no JSON object."""
        import random
        rng = random.Random(seed)
        cmds = [c for c in range(256) if c not in (5, 14)]
        frames, expected = [], []
        for _ in range(count):
            cmd = rng.choice(cmds)
            body = rng.choice((b"", b"[]", b"{", b"\xff\xfe", b"null", b"1",
                               b"\xff" + bytes(rng.randrange(256)
                                               for _ in range(rng.randrange(40)))))
            frames.append(framing.encode(cmd, body))
            expected.append(cmd)
        return b"".join(frames), expected

    async def flood(self, world, c, data, expected_count):
        c.write(data)
        return await others_served_until(
            self, world,
            lambda: len(replies(c.inbox.frames)) >= expected_count or c.inbox.closed.called,
            20.0, lambda: f"{len(c.inbox.frames)} of {expected_count} replies so far")

    async def test_two_thousand_junk_frames_in_one_write_are_each_refused_politely(self):
        world = await World.start(self)
        for logged_in in (True, False):
            c = await world.c_over_tcp(logged_in)
            before = len(tcp_frames_of(c))
            data, cmds = self.garbage(2000, seed=int(logged_in))
            slowest = await self.flood(world, c, data, len(cmds))
            self.assertLess(slowest, CHAT_WITHIN, "the others waited for the flood")
            self.assertFalse(c.inbox.closed.called, "polite refusals, not a close")
            frames = replies(tcp_frames_of(c)[before:])
            self.assertEqual(len(frames), 2000, "nothing is dropped (rate limit: reads pause)")
            for (cmd, obj), sent in zip(frames, cmds):
                check_frame(obj, cmd)
                self.assertIn(cmd, answers_to(sent), (sent, obj))
            self.assertEqual(await c.request(13, {"cmd": 13}, 13), {"command": 13,
                                                                   "data": {"hbbyte": -128}})
            await c.disconnect()
            world.forget_noise()
        self.assertEqual(await world.rest.snapshot(), world.snapshot)
        world.errors.check()

    async def test_a_flood_with_a_broken_frame_is_served_up_to_it_then_closed(self):
        world = await World.start(self)
        c = await world.c_over_tcp(logged_in=True)
        data, cmds = self.garbage(2000, seed=7)
        cut = len(data) // 2
        cut = data.index(b"\x01\x51", cut)  # a frame's start: from there the bytes are junk
        c.write(data[:cut] + b"\x02" + data[cut + 1:])
        slowest = await others_served_until(self, world, lambda: c.inbox.closed.called, 20.0,
                                            lambda: "still open")
        self.assertLess(slowest, CHAT_WITHIN)
        frames = tcp_frames_of(c)
        for cmd, obj in frames:
            check_frame(obj, cmd)
        self.assertEqual(frames[-1][1]["code"], status.VERSION_MISMATCH, frames[-1])
        await world.others_chat()
        world.errors.check()

    async def test_two_thousand_junk_websocket_messages_in_one_write_are_each_answered(self):
        world = await World.start(self)
        raw = await _connect_raw(world.port, RawWebSocket())
        await raw.opened
        messages = [b"not json", b"[1,2]", b'{"x":1}', b'{"cmd":"eleven"}', b'{"cmd":true}',
                    b'{"cmd":11,"chatType":2,"to":"alice"}', b'{"cmd":200}', b'{"cmd":19}']
        raw.transport.write(b"".join(client_frame(messages[i % len(messages)], TEXT)
                                     for i in range(2000)))
        answers = []

        def read():
            try:
                answers[:] = server_frames(raw.received)
            except (AssertionError, IndexError, struct.error):  # a frame not all here yet
                pass
            return len(answers) >= 2000 or raw.closed.called

        slowest = await others_served_until(self, world, read, 20.0,
                                            lambda: f"{len(answers)} of 2000 so far")
        self.assertLess(slowest, CHAT_WITHIN, "the others waited for the flood")
        self.assertFalse(raw.closed.called, "polite refusals, not a close")
        self.assertEqual(len(answers), 2000)
        for first, payload in answers:
            self.assertEqual(first, 0x81)  # one text frame each
            obj = json.loads(payload)
            check_frame(obj)
            self.assertIn(obj["code"], (status.UNKNOWN_CMD, status.INVALID), obj)
        raw.transport.abortConnection()
        await world.others_chat()
        world.forget_noise()
        self.assertEqual(await world.rest.snapshot(), world.snapshot)
        world.errors.check()

    async def test_fifty_connections_that_each_flood_raw_bytes_are_closed(self):
        world = await World.start(self)
        raws = []
        for n in range(50):
            raw = await _connect_raw(world.port)
            raws.append(raw)
            raw.transport.write(b"\x01" + bytes((n * 37 + i) % 256 for i in range(20000)))
        await others_served_until(self, world, lambda: all(r.closed.called for r in raws),
                                  20.0, lambda: "still open")
        for raw in raws:  # one framing error each, then the close
            self.assertLessEqual(len(raw.received), 512)
        await world.others_chat()
        world.errors.check()


async def others_served_until(test, world, done, within, missing, pause=0):
    """Keep the well-behaved clients chatting, and check the server's log, until C{done()};
    fail past C{within} seconds, saying C{missing()}. Returns the slowest of their chats."""
    started = time.monotonic()
    slowest = 0.0
    while not done():
        slowest = max(slowest, await world.others_chat())
        world.errors.check()
        test.assertLess(time.monotonic() - started, within, missing())
        if pause:
            await deferLater(reactor, pause, lambda: None)
    return slowest


async def _connect_raw(port, protocol=None):
    endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", port, bindAddress=(C_ADDRESS, 0))
    return await connectProtocol(endpoint, Raw() if protocol is None else protocol)
