"""The J-IM WebSocket adapter, driven through autobahn over a StringTransport: the upgrade on
any path, the demo page's ``?username=&password=`` login, JSON in text or binary messages,
replies as text frames. Timers run on the test's Clock (autobahn's go through txaio's loop)."""
import struct

import orjson
import txaio
from twisted.internet.address import IPv4Address
from twisted.internet.error import ConnectionDone
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase
from zope.interface.verify import verifyObject

from jim.interfaces import IClient
from jim.protocols.websocket import CLOSE_GRACE, JimWebSocketFactory

from tests.support.fakes import APP_KEY, make_core, offline

KEY = "dGhlIHNhbXBsZSBub25jZQ=="
ACCEPT = b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
MASK = b"\x37\xfa\x21\x3d"

TEXT, BINARY, CLOSE, PING, PONG = 0x1, 0x2, 0x8, 0x9, 0xA


def upgrade(target="/"):
    return (
        f"GET {target} HTTP/1.1\r\nHost: localhost:8888\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode("ascii")


def client_frame(payload, opcode=TEXT):
    """A masked, final client frame."""
    n = len(payload)
    if n < 126:
        head = bytes([0x80 | opcode, 0x80 | n])
    elif n < 65536:
        head = bytes([0x80 | opcode, 0x80 | 126]) + struct.pack(">H", n)
    else:
        head = bytes([0x80 | opcode, 0x80 | 127]) + struct.pack(">Q", n)
    masked = bytes(b ^ MASK[i % 4] for i, b in enumerate(payload))
    return head + MASK + masked


def server_frames(data):
    """[(first byte, payload)] of unmasked server frames."""
    frames = []
    pos = 0
    while pos < len(data):
        first, second = data[pos], data[pos + 1]
        assert not second & 0x80, "server frames are not masked"
        n = second & 0x7F
        pos += 2
        if n == 126:
            (n,) = struct.unpack_from(">H", data, pos)
            pos += 2
        elif n == 127:
            (n,) = struct.unpack_from(">Q", data, pos)
            pos += 8
        frames.append((first, data[pos : pos + n]))
        pos += n
    return frames


class WebSocketTestCase(SynchronousTestCase):
    def setUp(self):
        self.fx = make_core()
        self.patch(txaio.config, "loop", self.fx.clock)
        self.fx.add_user("alice")
        self.fx.add_user("用户", "密码")
        self.factory = JimWebSocketFactory(self.fx.core)

    def connect(self, target="/"):
        transport = StringTransport(peerAddress=IPv4Address("TCP", "10.0.0.9", 5555))
        protocol = self.factory.buildProtocol(transport.getPeer())
        protocol.makeConnection(transport)
        protocol.dataReceived(upgrade(target))
        head, _, rest = transport.value().partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 101 "), head)
        self.assertIn(b"Sec-WebSocket-Accept: " + ACCEPT, head)
        transport.clear()
        transport.io.write(rest)
        self.addCleanup(self.lose, protocol)
        return protocol, transport

    def lose(self, protocol):
        if protocol.session is not None:
            protocol.connectionLost(Failure(ConnectionDone()))

    def replies(self, transport):
        """The JSON of every text frame written since the last call; no other opcodes."""
        frames = server_frames(transport.value())
        transport.clear()
        for first, _ in frames:
            self.assertEqual(first, 0x81)  # FIN + text
        return [orjson.loads(payload) for _, payload in frames]

    def codes(self, transport):
        return [(r["command"], r.get("code")) for r in self.replies(transport)]


class UrlLoginTests(WebSocketTestCase):
    def test_username_password(self):
        protocol, transport = self.connect("/?username=alice&password=secret")
        [reply] = self.replies(transport)
        self.assertEqual((reply["command"], reply["code"]), (6, 10007))
        self.assertEqual(reply["user"]["terminal"], "ws")
        self.assertEqual(protocol.session.username, "alice")
        self.assertTrue(self.fx.core.presence.is_online(APP_KEY, "alice"))

    def test_any_path_and_url_encoding(self):
        target = "/some/where?username=%E7%94%A8%E6%88%B7&password=%E5%AF%86%E7%A0%81"
        protocol, transport = self.connect(target)
        self.assertEqual(self.codes(transport), [(6, 10007)])
        self.assertEqual(protocol.session.username, "用户")

    def test_wrong_password(self):
        protocol, transport = self.connect("/?username=alice&password=nope")
        frames = server_frames(transport.value())
        self.assertEqual(orjson.loads(frames[0][1])["code"], 10008)
        self.assertEqual([first & 0x0F for first, _ in frames[1:]], [CLOSE])
        self.assertIsNone(protocol.session.username)

    def test_token(self):
        token = self.fx.accounts.token_for(self.successResultOf(self.fx.store.users.get_user(APP_KEY, "alice")))
        protocol, transport = self.connect(f"/?token={token}")
        self.assertEqual(self.codes(transport), [(6, 10007)])
        self.assertEqual(protocol.session.username, "alice")

    def test_unknown_app_key(self):
        protocol, transport = self.connect("/?username=alice&password=secret&appKey=other")
        first, payload = server_frames(transport.value())[0]
        self.assertEqual((first, orjson.loads(payload)["code"]), (0x81, 10008))
        self.assertIsNone(protocol.session.username)

    def test_no_query_no_login(self):
        protocol, transport = self.connect("/")
        self.assertEqual(transport.value(), b"")
        self.assertIsNone(protocol.session.username)
        protocol, transport = self.connect("/?password=secret")
        self.assertEqual(transport.value(), b"")


class MessageTests(WebSocketTestCase):
    def test_interfaces(self):
        protocol, _ = self.connect()
        verifyObject(IClient, protocol)
        self.assertEqual(protocol.terminal, "ws")
        self.assertEqual(protocol.peer, "10.0.0.9:5555")
        self.assertEqual(self.fx.metrics.connections, {"ws": 1})

    def test_text_and_binary(self):
        protocol, transport = self.connect()
        login = b'{"cmd":5,"userId":"alice","password":"secret"}'
        protocol.dataReceived(client_frame(login))
        protocol.dataReceived(client_frame(b'{"cmd":"17","type":"0"}', BINARY))
        self.assertEqual(self.codes(transport), [(6, 10007), (18, 10005)])

    def test_large_reply(self):
        """Replies past 125 and 65535 bytes use the longer length forms, still one text frame.

        The message size limit is for what clients send: a long history page must still go out.
        """
        protocol, transport = self.connect("/?username=alice&password=secret")
        self.replies(transport)
        size = self.fx.limits.max_body + 10
        protocol.send(11, orjson.dumps({"command": 11, "data": {"content": "x" * size}}))
        [reply] = self.replies(transport)
        self.assertEqual(len(reply["data"]["content"]), size)

    def test_incoming_limit(self):
        protocol, transport = self.connect("/?username=alice&password=secret")
        self.replies(transport)
        body = b'{"cmd":13,"pad":"' + b"x" * self.fx.limits.max_body + b'"}'
        protocol.dataReceived(client_frame(body))
        frames = server_frames(transport.value())
        self.assertEqual([first & 0x0F for first, _ in frames], [CLOSE])

    def test_a_connection_autobahn_fails_goes_offline_at_once(self):
        self.fx.add_user("bob")
        alice, alice_transport = self.connect("/?username=alice&password=secret")
        bob, bob_transport = self.connect("/?username=bob&password=secret")
        for transport in (alice_transport, bob_transport):
            transport.clear()
        body = b'{"cmd":13,"pad":"' + b"x" * self.fx.limits.max_body + b'"}'
        alice.dataReceived(client_frame(body))  # over --max-body: autobahn closes with 1009
        [(first, payload)] = server_frames(alice_transport.value())
        self.assertEqual((first & 0x0F, struct.unpack(">H", payload[:2])[0]), (CLOSE, 1009))
        self.assertFalse(self.fx.core.presence.is_online(APP_KEY, "alice"))
        self.assertEqual(self.fx.metrics.bad_input, 1)
        # a chat to her meanwhile is kept for her, not reported delivered and lost
        bob.dataReceived(client_frame(b'{"cmd":11,"chatType":2,"to":"alice","content":"hi"}'))
        self.assertEqual(self.codes(bob_transport), [(12, 10001)])
        kept = offline(self.fx, "alice", device="j:~")
        self.assertEqual([m.body for m in kept], [{"text": "hi"}])

    def test_jims_own_close_leaves_the_session_to_its_caller(self):
        """The service stopping closes every connection through its client: that is no
        leaving of groups, and nobody is told that anybody left."""
        names = ["u0", "u1", "u2", "u3"]
        for name in names:
            self.fx.add_user(name)
        self.fx.add_group("g", *names)
        connections = [self.connect(f"/?username={name}&password=secret") for name in names]
        for _, transport in connections:
            transport.clear()
        for protocol, _ in connections:
            protocol.session.client.close("server shutting down")
        for _, transport in connections:
            self.assertEqual([first & 0x0F for first, _ in server_frames(transport.value())],
                             [CLOSE])
        self.assertEqual(self.fx.metrics.bad_input, 0)

    def test_the_clients_close_takes_it_offline_at_once(self):
        alice, transport = self.connect("/?username=alice&password=secret")
        transport.clear()
        alice.dataReceived(client_frame(struct.pack(">H", 1000), opcode=CLOSE))
        self.assertEqual([first & 0x0F for first, _ in server_frames(transport.value())], [CLOSE])
        self.assertFalse(self.fx.core.presence.is_online(APP_KEY, "alice"))
        self.assertEqual(self.fx.metrics.bad_input, 0)

    def test_push_to_closing_connection(self):
        """Between our close frame and the end of the connection, pushes are dropped quietly:
        the sender's chat still succeeds and the other recipients still get it."""
        alice, alice_transport = self.connect("/?username=alice&password=secret")
        other, other_transport = self.connect(
            "/?username=%E7%94%A8%E6%88%B7&password=%E5%AF%86%E7%A0%81"
        )
        other2, other2_transport = self.connect(
            "/?username=%E7%94%A8%E6%88%B7&password=%E5%AF%86%E7%A0%81"
        )
        for transport in (alice_transport, other_transport, other2_transport):
            transport.clear()
        other.close("going away")
        other_transport.clear()
        alice.dataReceived(client_frame('{"cmd":11,"chatType":2,"to":"用户"}'.encode()))
        self.assertEqual(self.codes(alice_transport), [(12, 10000)])
        self.assertEqual(other_transport.value(), b"")
        self.assertEqual(self.codes(other2_transport), [(11, None)])

    def test_unknown_and_unparsable(self):
        protocol, transport = self.connect()
        protocol.dataReceived(client_frame(b"not json"))
        protocol.dataReceived(client_frame(b'{"cmd":42}'))
        self.assertEqual(self.codes(transport), [(0, 10017), (0, 10017)])

    def test_gate(self):
        protocol, transport = self.connect()
        protocol.dataReceived(client_frame(b'{"cmd":11,"chatType":2,"to":"alice"}'))
        self.assertEqual(self.codes(transport), [(12, 10020)])

    def test_chat_between_ws_users(self):
        alice, alice_transport = self.connect("/?username=alice&password=secret")
        other, other_transport = self.connect(
            "/?username=%E7%94%A8%E6%88%B7&password=%E5%AF%86%E7%A0%81"
        )
        self.replies(alice_transport)
        self.replies(other_transport)
        body = '{"cmd":11,"chatType":"2","to":"用户","msgType":"0","content":"你好"}'
        alice.dataReceived(client_frame(body.encode()))
        self.assertEqual(self.codes(alice_transport), [(12, 10000)])
        [push] = self.replies(other_transport)
        self.assertEqual(
            (push["command"], push["data"]["from"], push["data"]["content"]), (11, "alice", "你好")
        )

    def test_pong_is_activity(self):
        protocol, _ = self.connect("/?username=alice&password=secret")
        self.fx.clock.advance(50)
        protocol.dataReceived(client_frame(b"", PONG))
        self.assertEqual(protocol.session.last_seen, 50)

    def test_pause_and_resume_reading(self):
        protocol, transport = self.connect()
        protocol.pause_reading()
        self.assertEqual(transport.producerState, "paused")
        protocol.resume_reading()
        self.assertEqual(transport.producerState, "producing")

    def test_connection_lost(self):
        protocol, transport = self.connect("/?username=alice&password=secret")
        session = protocol.session
        protocol.connectionLost(Failure(ConnectionDone()))
        self.assertIsNone(protocol.session)
        self.assertTrue(session.closed)
        self.assertFalse(self.fx.core.presence.is_online(APP_KEY, "alice"))
        self.assertEqual(self.fx.metrics.connections, {"ws": 0})
        transport.clear()
        protocol.send(13, b'{"command":13}')  # nothing is written to a gone connection
        self.assertEqual(transport.value(), b"")

    def test_close_command(self):
        protocol, transport = self.connect("/?username=alice&password=secret")
        self.replies(transport)
        protocol.dataReceived(client_frame(b'{"cmd":14}'))
        frames = server_frames(transport.value())
        self.assertEqual(orjson.loads(frames[0][1])["code"], 10021)
        self.assertEqual([first & 0x0F for first, _ in frames[1:]], [CLOSE])


class SlowReaderTests(WebSocketTestCase):
    def test_a_websocket_reader_that_stops_reading_is_dropped(self):
        protocol, transport = self.connect("/?username=alice&password=secret")
        self.replies(transport)
        self.assertIs(transport.producer, protocol)
        protocol.pauseProducing()  # its socket buffer is full
        self.assertEqual(transport.producerState, "paused")  # its requests wait too
        limit = self.fx.limits.outbox
        body = b'{"command":11,"data":{}}'
        for _ in range(limit // len(body)):
            protocol.send(11, body)
        self.assertFalse(transport.disconnecting)
        protocol.send(11, body * 2)
        self.assertTrue(transport.disconnecting or transport.disconnected)

    def test_a_drained_reader_is_read_again(self):
        protocol, transport = self.connect("/?username=alice&password=secret")
        protocol.pauseProducing()
        protocol.resumeProducing()
        self.assertEqual(transport.producerState, "producing")


class CloseHandshakeTests(WebSocketTestCase):
    """A close frame with a code RFC 6455 forbids, or a 1-byte payload, is a protocol error:
    the answer is a close frame with 1002, then an orderly close (never an abort, which would
    throw that frame away). tests/integration/test_websocket_close.py does it over sockets."""

    def close_with(self, payload):
        alice, transport = self.connect("/?username=alice&password=secret")
        transport.clear()
        alice.dataReceived(client_frame(payload, opcode=CLOSE))
        frames = [(first & 0x0F, body[:2]) for first, body in server_frames(transport.value())]
        return alice, transport, frames

    def test_an_invalid_code_is_answered_1002_and_closed_in_order(self):
        for payload in (struct.pack(">H", 999), struct.pack(">H", 1005), b"\x03"):
            bad_input = self.fx.metrics.bad_input
            _, transport, frames = self.close_with(payload)
            self.assertEqual(frames, [(CLOSE, struct.pack(">H", 1002))], payload)
            self.assertTrue(transport.disconnecting)
            self.assertFalse(transport.disconnected)  # not aborted
            self.assertFalse(self.fx.core.presence.is_online(APP_KEY, "alice"))
            self.assertEqual(self.fx.metrics.bad_input, bad_input + 1)

    def test_a_valid_code_is_echoed(self):
        for code in (1000, 1001, 3000, 4999):
            _, transport, frames = self.close_with(struct.pack(">H", code) + b"bye")
            self.assertEqual(frames, [(CLOSE, struct.pack(">H", code))])
            self.assertTrue(transport.disconnecting)
        self.assertEqual(self.fx.metrics.bad_input, 0)

    def test_a_peer_that_does_not_let_the_close_finish_is_aborted(self):
        _, transport, _ = self.close_with(struct.pack(">H", 1005))
        self.fx.clock.advance(CLOSE_GRACE - 0.1)
        self.assertFalse(transport.disconnected)
        self.fx.clock.advance(0.2)
        self.assertTrue(transport.disconnected)

    def test_a_finished_close_cancels_the_abort(self):
        alice, transport, _ = self.close_with(struct.pack(">H", 1000))
        alice.connectionLost(Failure(ConnectionDone()))
        self.fx.clock.advance(CLOSE_GRACE + 1)
        self.assertFalse(transport.disconnected)
