"""The J-IM TCP adapter over a StringTransport: frames in any chunking, broken streams, flow
control and dropping a reader that stopped reading."""
import struct

import orjson
from twisted.internet.address import IPv4Address
from twisted.internet.error import ConnectionDone
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase
from zope.interface.verify import verifyObject

from jim.config import Limits
from jim.interfaces import IClient
from jim.protocols.tcp import CLOSE_GRACE, JimTcpFactory, JimTcpProtocol
from jim.wire.framing import FrameDecoder, encode

from tests.support.fakes import APP_KEY, make_core


def frame(cmd, obj, seq=None):
    return encode(cmd, orjson.dumps(obj), seq)


def login_frame(user, password="secret"):
    return frame(5, {"cmd": 5, "userId": user, "password": password})


class Connection:
    """A protocol on a StringTransport, and the frames it wrote, decoded."""

    def __init__(self, fx, port=40001):
        self.transport = StringTransport(peerAddress=IPv4Address("TCP", "10.0.0.7", port))
        self.protocol = JimTcpFactory(fx.core).buildProtocol(self.transport.getPeer())
        self.protocol.makeConnection(self.transport)
        self._decoder = FrameDecoder(max_body=2**30)

    def received(self):
        """Frames written since the last call: [(cmd, decoded body)]."""
        data = self.transport.value()
        self.transport.clear()
        return [(cmd, orjson.loads(body)) for cmd, _, body in self._decoder.feed(data)]

    def commands(self):
        return [(cmd, body.get("code")) for cmd, body in self.received()]


class FramingTests(SynchronousTestCase):
    def setUp(self):
        self.fx = make_core()
        self.fx.add_user("alice")
        self.conn = Connection(self.fx)

    def test_interfaces(self):
        verifyObject(IClient, self.conn.protocol)
        self.assertEqual(self.conn.protocol.terminal, "tcp")
        self.assertEqual(self.conn.protocol.peer, "10.0.0.7:40001")
        self.assertIs(self.conn.transport.producer, self.conn.protocol)
        self.assertEqual(self.fx.metrics.connections, {"tcp": 1})

    def test_byte_by_byte(self):
        data = login_frame("alice") + encode(13, b"\x80")
        for i in range(len(data)):
            self.conn.protocol.dataReceived(data[i : i + 1])
        self.assertEqual(self.conn.commands(), [(6, 10007), (13, None)])

    def test_reply_bytes(self):
        self.conn.protocol.dataReceived(bytes.fromhex("01 51 0D 00 00 00 01 80"))
        self.assertEqual(
            self.conn.transport.value(),
            bytes.fromhex("01 51 0D 00 00 00 25") + b'{"command":13,"data":{"hbbyte":-128}}',
        )

    def test_several_frames_in_one_chunk(self):
        data = (
            encode(1, b"")
            + login_frame("alice")
            + frame(17, {"type": 0}, seq=5)
            + frame(99, {})
            + encode(13, b"")
        )
        self.conn.protocol.dataReceived(data)
        self.assertEqual(
            self.conn.commands(), [(2, None), (6, 10007), (18, 10005), (0, 10017), (13, None)]
        )

    def test_the_chats_of_one_chunk_go_as_runs_and_keep_their_order(self):
        self.fx.add_user("bob")
        bob = Connection(self.fx, port=40002)
        for conn, user in ((self.conn, "alice"), (bob, "bob")):
            conn.protocol.dataReceived(login_frame(user))
            conn.received()  # the login's reply

        def chat(text):
            return frame(11, {"cmd": 11, "chatType": 2, "to": "bob", "content": text})

        self.conn.protocol.dataReceived(chat("warm"))  # bob and his relations are in memory
        self.assertEqual(self.conn.commands(), [(12, 10000)])
        self.assertEqual([cmd for cmd, _ in bob.received()], [11])
        self.conn.protocol.dataReceived(b"".join([chat("1"), chat("2"), chat("3"), encode(13, b""),
                                                  chat("4"), chat("5")]))
        self.assertEqual([(c, b["data"]["content"]) for c, b in bob.received()],
                         [(11, text) for text in "12345"])
        self.assertEqual(self.conn.commands(), [(12, 10000)] * 3 + [(13, None)]
                         + [(12, 10000)] * 2)
        self.assertEqual(self.fx.metrics.messages_in, 1 + 5)

    def test_bad_version(self):
        self.conn.protocol.dataReceived(b"\x02\x51\x0d\x00\x00\x00\x00")
        [(cmd, body)] = self.conn.received()
        self.assertEqual(
            (cmd, body["code"], body["command"], body["msg"]),
            (0, 10013, 0, "Protocol version number does not match 协议版本号不匹配!"),
        )
        self.assertTrue(self.conn.transport.disconnecting)
        self.assertEqual(self.fx.metrics.bad_input, 1)

    def test_oversized_length(self):
        limit = self.fx.limits.max_body
        self.conn.protocol.dataReceived(b"\x01\x51\x0b" + struct.pack(">i", limit + 1))
        [(cmd, body)] = self.conn.received()
        self.assertEqual((cmd, body["code"]), (0, 10020))
        self.assertTrue(self.conn.transport.disconnecting)

    def test_negative_length(self):
        self.conn.protocol.dataReceived(b"\x01\xf1\x00\x00\x00\x01\x0b\xff\xff\xff\xff")
        self.assertEqual(self.conn.commands(), [(0, 10020)])
        self.assertTrue(self.conn.transport.disconnecting)

    def test_nothing_after_a_broken_frame(self):
        """Bytes after a framing error are not read as frames (they could be anything)."""
        data = b"\x01\x51\x0b" + struct.pack(">i", -1) + encode(13, b"")
        self.conn.protocol.dataReceived(data)
        self.conn.protocol.dataReceived(encode(13, b"") + login_frame("alice"))
        self.assertEqual(self.conn.commands(), [(0, 10020)])
        self.assertFalse(self.fx.core.presence.is_online(APP_KEY, "alice"))

    def test_a_framing_error_takes_the_user_offline_at_once(self):
        self.conn.protocol.dataReceived(login_frame("alice"))
        self.assertTrue(self.fx.core.presence.is_online(APP_KEY, "alice"))
        self.conn.received()
        self.conn.protocol.dataReceived(b"\x02garbage")
        self.assertEqual(self.conn.commands(), [(0, 10013)])
        # not seconds later, when the peer has gone: pushes to it would be lost meanwhile
        self.assertFalse(self.fx.core.presence.is_online(APP_KEY, "alice"))
        self.assertTrue(self.conn.protocol.session.closed)
        self.assertTrue(self.conn.transport.disconnecting)

    def test_close_aborts_after_grace(self):
        self.conn.protocol.dataReceived(b"\x07")
        self.assertTrue(self.conn.transport.disconnecting)
        self.assertFalse(self.conn.transport.disconnected)
        self.fx.clock.advance(CLOSE_GRACE)
        self.assertTrue(self.conn.transport.disconnected)

    def test_connection_lost_cancels_grace(self):
        self.conn.protocol.dataReceived(b"\x07")
        self.conn.protocol.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(self.fx.clock.getDelayedCalls(), [])
        self.assertEqual(self.fx.metrics.connections, {"tcp": 0})

    def test_failed_login_closes(self):
        self.conn.protocol.dataReceived(login_frame("alice", "wrong"))
        self.assertEqual(self.conn.commands(), [(6, 10008)])
        self.assertTrue(self.conn.transport.disconnecting)

    def test_close_command(self):
        self.conn.protocol.dataReceived(login_frame("alice") + frame(14, {}))
        self.assertEqual(self.conn.commands(), [(6, 10007), (14, 10021)])
        self.assertTrue(self.conn.transport.disconnecting)

    def test_connection_lost_unbinds(self):
        self.conn.protocol.dataReceived(login_frame("alice"))
        self.assertTrue(self.fx.core.presence.is_online(APP_KEY, "alice"))
        self.conn.protocol.connectionLost(Failure(ConnectionDone()))
        self.assertFalse(self.fx.core.presence.is_online(APP_KEY, "alice"))
        self.assertEqual(self.fx.core.sessions, set())


class FlowControlTests(SynchronousTestCase):
    def setUp(self):
        self.fx = make_core(limits=Limits(outbox=1000, rate=2.0), users=("alice", "bob"))
        self.alice = Connection(self.fx, 1)
        self.bob = Connection(self.fx, 2)
        self.alice.protocol.dataReceived(login_frame("alice"))
        self.bob.protocol.dataReceived(login_frame("bob"))
        self.alice.received()
        self.bob.received()

    def chat(self, content):
        body = {"chatType": 2, "to": "bob", "content": content}
        self.fx.clock.advance(1)  # stay under the rate limit
        self.alice.protocol.dataReceived(frame(11, body))

    def push_size(self):
        """The body size of one push of C{chat("x" * 200)}."""
        self.chat("x" * 200)
        [(command, push)] = self.bob.received()
        self.alice.received()
        return len(orjson.dumps(push))

    def test_slow_reader_dropped(self):
        fits = 1000 // self.push_size()
        self.bob.protocol.pauseProducing()  # bob's socket buffer is full
        self.assertEqual(self.bob.transport.producerState, "paused")  # stop reading bob
        for _ in range(fits):
            self.chat("x" * 200)
        self.assertFalse(self.bob.transport.disconnected)
        self.assertEqual(len(self.bob.received()), fits)  # queued in the transport meanwhile
        self.chat("x" * 200)
        self.assertTrue(self.bob.transport.disconnected)
        self.assertEqual(self.bob.received(), [])
        self.assertEqual([code for _, code in self.alice.commands()], [10000] * (fits + 1))

    def test_a_full_buffer_paused_again_at_every_write_still_counts(self):
        # Twisted calls pauseProducing at each write while the buffer stays full: the count of
        # what is queued must not start over each time
        fits = 1000 // self.push_size()
        for _ in range(fits + 1):
            self.bob.protocol.pauseProducing()
            self.chat("x" * 200)
        self.assertTrue(self.bob.transport.disconnected)

    def test_drained_reader_kept(self):
        fits = 1000 // self.push_size()
        self.bob.protocol.pauseProducing()
        for _ in range(fits):
            self.chat("x" * 200)
        self.bob.protocol.resumeProducing()  # the buffer drained
        self.assertEqual(self.bob.transport.producerState, "producing")
        for _ in range(fits + 1):
            self.chat("x" * 200)
        self.bob.protocol.pauseProducing()
        for _ in range(fits):
            self.chat("x" * 200)
        self.assertFalse(self.bob.transport.disconnected)
        self.assertEqual(len(self.bob.received()), 3 * fits + 1)

    def test_rate_limit_pauses_transport(self):
        for _ in range(5):
            self.alice.protocol.dataReceived(encode(13, b""))
        self.assertEqual(self.alice.transport.producerState, "paused")
        self.fx.clock.advance(0.5)
        self.assertEqual(self.alice.transport.producerState, "producing")

    def test_reading_stays_paused_while_congested(self):
        protocol = self.alice.protocol
        protocol.pauseProducing()
        protocol.pause_reading()
        protocol.resume_reading()
        self.assertEqual(self.alice.transport.producerState, "paused")
        protocol.resumeProducing()
        self.assertEqual(self.alice.transport.producerState, "producing")

    def test_congestion_ends_but_reading_paused(self):
        protocol = self.alice.protocol
        protocol.pause_reading()
        protocol.pauseProducing()
        protocol.resumeProducing()
        self.assertEqual(self.alice.transport.producerState, "paused")
        protocol.resume_reading()
        self.assertEqual(self.alice.transport.producerState, "producing")


class FactoryTests(SynchronousTestCase):
    def test_build(self):
        fx = make_core()
        factory = JimTcpFactory(fx.core)
        protocol = factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 1))
        self.assertIsInstance(protocol, JimTcpProtocol)
        self.assertIs(protocol.core, fx.core)


class GoodFramesBeforeGarbageTests(SynchronousTestCase):
    def test_frames_before_bad_bytes_are_still_served(self):
        fx = make_core()
        conn = Connection(fx)
        conn.protocol.dataReceived(encode(13, b"\x80") + b"\x7fgarbage")
        self.assertEqual(conn.commands(), [(13, None), (0, 10013)])
        self.assertTrue(conn.transport.disconnecting)
