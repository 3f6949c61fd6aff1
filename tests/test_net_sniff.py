"""The sniffer: the pure classify() table and properties, then the protocol on StringTransport."""
import json

from hypothesis import given, strategies as st
from twisted.internet.interfaces import (
    IOpenSSLServerConnectionCreator,
    IProtocolFactory,
    IProtocolNegotiationFactory,
)
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.error import ConnectionDone
from twisted.internet.task import Clock
from twisted.internet.testing import EventLoggingObserver, StringTransport
from twisted.logger import LogLevel, globalLogPublisher
from twisted.protocols.tls import TLSMemoryBIOFactory
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import implementer
from zope.interface.verify import verifyObject

from jim.net.redirect import RedirectFactory, redirect_location
from jim.net.sniff import Route, SniffingFactory, SniffingProtocol, Unroutable, classify
from jim.net import sniff

CAP = 256

JIM_LOGIN = b"\x01\x51\x05\x00\x00\x00\x02{}"
CLIENT_HELLO_START = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"
HTTP_GET = b"GET /index.html HTTP/1.1\r\nHost: localhost:8080\r\nAccept: */*\r\n\r\n"
WS_UPGRADE = (
    b"GET /?username=a&password=b HTTP/1.1\r\nHost: localhost\r\n"
    b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


@implementer(IOpenSSLServerConnectionCreator)
class UnusedTlsOptions:
    """Stands in for CertificateOptions where no TLS connection is ever made."""

    def serverConnectionForTLS(self, protocol):
        raise AssertionError("no TLS connection expected in this test")


def outcome(buf, tls_allowed=True, max_bytes=CAP):
    """classify() as a value: None, a Route, or the string "unroutable"."""
    try:
        return classify(buf, tls_allowed, max_bytes)
    except Unroutable:
        return "unroutable"


class ClassifyTableTests(SynchronousTestCase):
    def assertRoute(self, buf, expected, tls_allowed=True, max_bytes=CAP):
        self.assertEqual(classify(buf, tls_allowed, max_bytes), expected, buf)

    def assertUnroutable(self, buf, reason_part, tls_allowed=True, max_bytes=CAP, **kw):
        with self.assertRaises(Unroutable) as caught:
            classify(buf, tls_allowed, max_bytes, **kw)
        self.assertIn(reason_part, caught.exception.reason)

    def test_emptyNeedsMore(self):
        self.assertRoute(b"", None)

    def test_tlsHandshake(self):
        self.assertRoute(b"\x16", Route.TLS)
        self.assertRoute(CLIENT_HELLO_START, Route.TLS)

    def test_tlsWithoutCertificate(self):
        self.assertUnroutable(CLIENT_HELLO_START, "no certificate configured", tls_allowed=False)

    def test_tlsInsideTls(self):
        self.assertUnroutable(
            CLIENT_HELLO_START, "TLS inside TLS", tls_allowed=False, inside_tls=True
        )

    def test_jimVersionOctet(self):
        self.assertRoute(b"\x01", Route.JIM)
        self.assertRoute(JIM_LOGIN, Route.JIM)

    def test_methodPrefixesNeedMore(self):
        for prefix in [b"G", b"GE", b"GET", b"P", b"PO", b"PU", b"PA", b"PATCH", b"D",
                       b"DELETE", b"H", b"HEAD", b"O", b"OPTIONS", b"GET ", b"POST /x"]:
            self.assertRoute(prefix, None)

    def test_everyMethodWithoutUpgradeIsHttp(self):
        for method in [b"GET", b"POST", b"PUT", b"DELETE", b"HEAD", b"OPTIONS", b"PATCH"]:
            self.assertRoute(method + b" / HTTP/1.1\r\nHost: h\r\n\r\n", Route.HTTP)

    def test_incompleteHeadNeedsMore(self):
        self.assertRoute(HTTP_GET[:-2], None)
        self.assertRoute(HTTP_GET[:-1], None)
        self.assertRoute(HTTP_GET, Route.HTTP)

    def test_bodyAfterHeadIsIgnored(self):
        post = b"POST /api HTTP/1.1\r\nContent-Length: 20\r\n\r\nUpgrade: websocket\r\n"
        self.assertRoute(post, Route.HTTP)

    def test_websocketUpgradeOnAnyPath(self):
        self.assertRoute(WS_UPGRADE, Route.WEBSOCKET)
        self.assertRoute(WS_UPGRADE.replace(b"GET /?", b"GET /deep/path?"), Route.WEBSOCKET)

    def test_upgradeSpellings(self):
        for header in [b"Upgrade: WebSocket", b"upgrade:websocket", b"UPGRADE:  websocket ",
                       b"Upgrade: h2c, websocket", b"Upgrade: websocket/13"]:
            head = b"GET / HTTP/1.1\r\n" + header + b"\r\n\r\n"
            self.assertRoute(head, Route.WEBSOCKET)

    def test_notAnUpgrade(self):
        for header in [b"X-Upgrade: websocket", b"Upgrade: websockets", b"Upgrade: h2c",
                       b"Connection: websocket", b"Upgrade websocket"]:
            head = b"GET / HTTP/1.1\r\n" + header + b"\r\n\r\n"
            self.assertRoute(head, Route.HTTP)

    def test_bareNewlinesAreRefused(self):
        """Neither the HTTP nor the WebSocket server reads them: refused, not left hanging."""
        for head in (b"GET / HTTP/1.0\nHost: h\n\n", b"GET / HTTP/1.0\nUpgrade: websocket\n\n",
                     b"GET / HTTP/1.0\r\nUpgrade: websocket\r\n\n"):
            self.assertUnroutable(head, "must end with CRLF")
        self.assertRoute(b"GET / HTTP/1.0\r\nHost: h\r\n", None)

    def test_garbageNamesTheFirstByte(self):
        self.assertUnroutable(b"\x00", "0x00")
        self.assertUnroutable(b"\xff\x01", "0xff")
        self.assertUnroutable(b"get / HTTP/1.1\r\n\r\n", "0x67")
        self.assertUnroutable(b"GEX", "0x47")
        self.assertUnroutable(b"GET/ HTTP/1.1", "0x47")
        self.assertUnroutable(b"CONNECT host:443 HTTP/1.1\r\n\r\n", "0x43")
        self.assertUnroutable(b"TRACE / HTTP/1.1\r\n\r\n", "0x54")
        self.assertUnroutable(b"SSH-2.0-OpenSSH_9.6\r\n", "0x53")

    def test_headCap(self):
        start = b"GET / HTTP/1.1\r\nX: "
        exact = start + b"a" * (CAP - len(start) - 4) + b"\r\n\r\n"
        self.assertEqual(len(exact), CAP)
        self.assertRoute(exact, Route.HTTP)
        self.assertRoute(exact[:-1], None)
        over = start + b"a" * (CAP - len(start) - 3) + b"\r\n\r\n"
        self.assertUnroutable(over, "larger than 256 bytes")
        self.assertRoute(over[:CAP], None)
        self.assertUnroutable(over[: CAP + 1], "larger than 256 bytes")


def http_heads():
    header_name = st.sampled_from([b"Host", b"Accept", b"Upgrade", b"upgrade", b"Connection"])
    header_value = st.sampled_from([b"websocket", b"WebSocket", b"h2c", b"x", b"", b"keep-alive"])
    header = st.tuples(header_name, header_value).map(lambda nv: nv[0] + b": " + nv[1])
    return st.builds(
        lambda method, path, headers, newline, body: (
            method + b" " + path + b" HTTP/1.1" + newline
            + b"".join(h + newline for h in headers) + newline + body
        ),
        st.sampled_from([b"GET", b"POST", b"PUT", b"DELETE", b"HEAD", b"OPTIONS", b"PATCH"]),
        st.sampled_from([b"/", b"/ws", b"/api/v1/users?x=1", b"/" + b"p" * 300]),
        st.lists(header, max_size=6),
        st.sampled_from([b"\r\n", b"\n"]),
        st.binary(max_size=20),
    )


def streams():
    """Whole first flights of bytes, routable or not."""
    return st.one_of(
        http_heads(),
        st.binary(max_size=40).map(lambda tail: CLIENT_HELLO_START + tail),
        st.binary(max_size=40).map(lambda tail: b"\x01" + tail),
        st.binary(min_size=1, max_size=60),
        st.sampled_from([HTTP_GET, WS_UPGRADE, JIM_LOGIN, b"GET / HTTP/1.1\r\n" + b"X" * 400]),
    )


def chunked(data, cuts):
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in zip(points, points[1:])]


class ClassifyPropertyTests(SynchronousTestCase):
    @given(streams(), st.booleans())
    def test_prefixesGrowToTheSameAnswer(self, data, tls_allowed):
        answers = [outcome(data[:n], tls_allowed) for n in range(len(data) + 1)]
        final = answers[-1]
        decided = [a for a in answers if a is not None]
        # None until decided, then the same answer for every longer prefix
        self.assertEqual(answers, [None] * (len(answers) - len(decided)) + decided)
        self.assertEqual(set(decided) or {None}, {final})

    @given(
        st.binary(min_size=1, max_size=50).filter(lambda b: b[0] not in b"\x16\x01GPDHO"),
        st.booleans(),
    )
    def test_garbageFirstByteIsUnroutable(self, data, tls_allowed):
        with self.assertRaises(Unroutable) as caught:
            classify(data, tls_allowed, CAP)
        self.assertIn(f"0x{data[0]:02x}", caught.exception.reason)

    @given(
        st.integers(min_value=16, max_value=400),
        st.sampled_from([b"GET", b"POST", b"OPTIONS"]),
        st.binary(max_size=50).map(lambda b: b.replace(b"\n", b"")),
    )
    def test_headOverTheCapIsUnroutable(self, max_bytes, method, filler):
        data = method + b" /" + filler + b"x" * max_bytes + b" HTTP/1.1\r\n\r\n"
        with self.assertRaises(Unroutable):
            classify(data, True, max_bytes)


class RecordingProtocol(Protocol):
    def __init__(self, route):
        self.route = route
        self.connections = []
        self.received = b""
        self.lost = []

    def makeConnection(self, transport):
        self.connections.append(transport)
        super().makeConnection(transport)

    def dataReceived(self, data):
        self.received += data

    def connectionLost(self, reason):
        self.lost.append(reason)


class RecordingFactory(Factory):
    """A stand-in child factory that keeps every protocol it builds."""

    noisy = False

    def __init__(self, route, refuse=False):
        self.route = route
        self.refuse = refuse
        self.built = []
        self.starts = self.stops = 0

    def buildProtocol(self, addr):
        if self.refuse:
            return None
        protocol = RecordingProtocol(self.route)
        self.built.append(protocol)
        return protocol

    def startFactory(self):
        self.starts += 1

    def stopFactory(self):
        self.stops += 1


def make_routes():
    return {route: RecordingFactory(route) for route in (Route.JIM, Route.WEBSOCKET, Route.HTTP)}


class SniffingProtocolTests(SynchronousTestCase):
    def setUp(self):
        self.clock = Clock()
        self.routes = make_routes()
        self.factory = SniffingFactory(self.routes, self.clock, timeout=10, max_bytes=CAP)
        self.log = EventLoggingObserver.createWithCleanup(self, globalLogPublisher)

    def connect(self, factory=None):
        factory = factory or self.factory
        transport = StringTransport()
        protocol = factory.buildProtocol(transport.getPeer())
        protocol.makeConnection(transport)
        return protocol, transport

    def built(self):
        return [p for f in self.routes.values() for p in f.built]

    def test_handOverWithTheOuterTransportAndExactBytes(self):
        protocol, transport = self.connect()
        for byte in WS_UPGRADE:
            protocol.dataReceived(bytes([byte]))
        [child] = self.routes[Route.WEBSOCKET].built
        self.assertEqual(child.connections, [transport])
        self.assertIs(child.transport, transport)
        self.assertEqual(child.received, WS_UPGRADE)
        protocol.dataReceived(b"\x81\x80more")
        self.assertEqual(child.received, WS_UPGRADE + b"\x81\x80more")
        self.assertEqual(child.connections, [transport])
        reason = Failure(ConnectionDone())
        protocol.connectionLost(reason)
        self.assertEqual(child.lost, [reason])
        self.assertFalse(transport.disconnecting)

    def test_firstFlightWithExtraBytes(self):
        protocol, transport = self.connect()
        protocol.dataReceived(JIM_LOGIN + JIM_LOGIN)
        [child] = self.routes[Route.JIM].built
        self.assertEqual(child.received, JIM_LOGIN + JIM_LOGIN)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    @given(streams(), st.lists(st.integers(min_value=0), max_size=8))
    def test_anyChunkingSameRouteSameBytes(self, data, cuts):
        routes = make_routes()
        factory = SniffingFactory(routes, Clock(), timeout=10, max_bytes=CAP)
        transport = StringTransport()
        protocol = factory.buildProtocol(None)
        protocol.makeConnection(transport)
        for chunk in chunked(data, cuts):
            protocol.dataReceived(chunk)
        expected = outcome(data, tls_allowed=False)
        built = {route: f.built for route, f in routes.items() if f.built}
        if expected is None:
            self.assertEqual((built, transport.disconnecting), ({}, False))
        elif expected == "unroutable":
            self.assertEqual((built, transport.disconnecting), ({}, True))
        else:
            [child] = built.pop(expected)
            self.assertEqual((built, child.received, child.connections), ({}, data, [transport]))

    def test_oneByteAtATimeSearchesOnlyTheNewBytes(self):
        """A client sending one byte per read costs linear work: each search for the end of
        the head starts near where the last one stopped (and still finds a blank line that
        straddles two reads)."""
        starts = []
        real_head_end = sniff.head_end

        def recording(buf, limit, start=0):
            starts.append((len(buf), start))
            return real_head_end(buf, limit, start)

        self.patch(sniff, "head_end", recording)
        for head, route in ((b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", Route.HTTP),
                            (b"GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n", Route.WEBSOCKET),
                            (b"GET / HTTP/1.1\nHost: h\n\n", "unroutable")):
            del starts[:]
            routes = make_routes()
            factory = SniffingFactory(routes, Clock(), timeout=10, max_bytes=CAP)
            transport = StringTransport()
            protocol = factory.buildProtocol(None)
            protocol.makeConnection(transport)
            for i in range(len(head)):
                protocol.dataReceived(head[i : i + 1])
            self.assertEqual([start for length, start in starts],
                             [length - 1 for length, _ in starts])  # only the byte just read
            built = [r for r, f in routes.items() if f.built]
            self.assertEqual(built or "unroutable", [route] if route != "unroutable" else route)

    def test_timeoutAbortsWithoutBuildingAChild(self):
        protocol, transport = self.connect()
        protocol.dataReceived(b"GET / HTTP/1.1\r\n")
        self.clock.advance(9.9)
        self.assertFalse(transport.disconnecting)
        self.clock.advance(0.1)
        self.assertTrue(transport.disconnected)  # StringTransport's mark of abortConnection
        self.assertEqual(self.built(), [])
        self.assertEqual(self.clock.getDelayedCalls(), [])
        [event] = [e for e in self.log if "aborting" in e["log_format"]]
        self.assertEqual(event["log_level"], LogLevel.info)
        self.assertEqual((event["peer"], event["buffered"]), ("192.168.1.1:54321", 16))
        protocol.dataReceived(b"\r\n")
        self.assertEqual(self.built(), [])

    def test_routedBeforeTheTimeout(self):
        protocol, transport = self.connect()
        protocol.dataReceived(HTTP_GET)
        self.assertEqual(self.clock.getDelayedCalls(), [])
        self.clock.advance(60)
        self.assertFalse(transport.disconnecting)

    def test_unroutableIsClosedAndLogged(self):
        protocol, transport = self.connect()
        protocol.dataReceived(b"\x00\x00")
        self.assertTrue(transport.disconnecting)
        self.assertFalse(transport.disconnected)
        self.assertEqual(self.built(), [])
        [event] = [e for e in self.log if "closing" in e["log_format"]]
        self.assertEqual(event["log_level"], LogLevel.info)
        self.assertEqual(event["peer"], "192.168.1.1:54321")
        self.assertIn("0x00", event["reason"])
        protocol.dataReceived(HTTP_GET)
        self.assertEqual(self.built(), [])

    def test_byteCap(self):
        protocol, transport = self.connect()
        protocol.dataReceived(b"GET / HTTP/1.1\r\n" + b"X-Filler: y\r\n" * 17)
        self.assertFalse(transport.disconnecting)
        protocol.dataReceived(b"X-Filler: y\r\n" * 2)
        self.assertTrue(transport.disconnecting)
        self.assertEqual(self.built(), [])
        # answered, as an HTTP client understands, before the close
        head, _, body = transport.value().partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 431 "), head)
        self.assertIn(b"Content-Length: %d" % len(body), head)
        self.assertEqual(json.loads(body)["error"]["code"], 899003)

    def test_theByteCapsAnswerCarriesTheSecureHeadersInsideTlsOnly(self):
        """The 431 a factory inside TLS gives carries its secure headers (the site's HSTS);
        plain text's never does, whatever it was given."""
        hsts = ((b"Strict-Transport-Security", b"max-age=60"),)
        oversize = b"GET / HTTP/1.1\r\n" + b"X-Filler: y\r\n" * 19
        for inside_tls, expected in ((True, True), (False, False)):
            factory = SniffingFactory(self.routes, self.clock, max_bytes=CAP,
                                      inside_tls=inside_tls, secure_headers=hsts)
            protocol, transport = self.connect(factory)
            protocol.dataReceived(oversize)
            head = transport.value().partition(b"\r\n\r\n")[0]
            self.assertTrue(head.startswith(b"HTTP/1.1 431 "), head)
            self.assertEqual(b"\r\nStrict-Transport-Security: max-age=60" in head, expected)

    def test_tlsWithoutCertificateIsClosed(self):
        protocol, transport = self.connect()
        protocol.dataReceived(CLIENT_HELLO_START)
        self.assertTrue(transport.disconnecting)
        [event] = [e for e in self.log if "closing" in e["log_format"]]
        self.assertEqual(event["reason"], "TLS handshake but no certificate configured")

    def test_childFactoryRefuses(self):
        factory = SniffingFactory({Route.JIM: RecordingFactory(Route.JIM, refuse=True)}, self.clock)
        protocol, transport = self.connect(factory)
        protocol.dataReceived(JIM_LOGIN)
        self.assertTrue(transport.disconnecting)
        protocol.connectionLost(Failure(ConnectionDone()))

    def test_routeWithoutAFactoryIsClosed(self):
        factory = SniffingFactory({Route.HTTP: self.routes[Route.HTTP]}, self.clock)
        protocol, transport = self.connect(factory)
        protocol.dataReceived(JIM_LOGIN)
        self.assertTrue(transport.disconnecting)
        self.assertEqual(self.built(), [])

    def test_lostWhileSniffing(self):
        protocol, transport = self.connect()
        protocol.dataReceived(b"GE")
        protocol.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(self.clock.getDelayedCalls(), [])
        protocol.dataReceived(b"T / HTTP/1.1\r\n\r\n")
        self.assertEqual(self.built(), [])

    def test_aThousandGarbageConnectionsLeaveNothingBehind(self):
        transports = []
        for n in range(1000):
            protocol, transport = self.connect()
            transports.append(transport)
            if n % 3 == 0:
                protocol.dataReceived(bytes([0x80 + n % 64]))
            elif n % 3 == 1:
                protocol.dataReceived(b"POST / HTTP/1.1\r\n" + b"a" * CAP)
            else:
                protocol.dataReceived(b"PU")
                protocol.connectionLost(Failure(ConnectionDone()))
            if transport.disconnecting:  # the peer saw the close
                protocol.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(self.clock.getDelayedCalls(), [])
        self.assertEqual(self.built(), [])
        self.assertEqual(sum(t.disconnecting for t in transports), 667)

    def test_aRefusedPeerThatNeverClosesIsAborted(self):
        """Inside TLS a refusal waits for the peer's close_notify: not for ever."""
        protocol, transport = self.connect()
        protocol.dataReceived(b"\x00")
        self.assertTrue(transport.disconnecting)
        self.assertFalse(transport.disconnected)
        self.clock.advance(sniff.DROP_GRACE)
        self.assertTrue(transport.disconnected)  # aborted
        protocol.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_sniffersAreSmall(self):
        protocol, _ = self.connect()
        protocol.dataReceived(HTTP_GET)
        self.assertIsInstance(protocol, SniffingProtocol)
        self.assertEqual(vars(protocol), {})  # everything lives in slots


class SniffingFactoryTests(SynchronousTestCase):
    def setUp(self):
        self.clock = Clock()
        self.routes = make_routes()

    def test_interfaces(self):
        factory = SniffingFactory(self.routes, self.clock)
        verifyObject(IProtocolFactory, factory)
        verifyObject(IProtocolNegotiationFactory, factory)
        self.assertEqual(factory.acceptableProtocols(), [b"http/1.1"])

    def test_startAndStopReachTheChildren(self):
        factory = SniffingFactory(self.routes, self.clock)
        factory.doStart()
        self.assertEqual([f.starts for f in self.routes.values()], [1, 1, 1])
        factory.doStop()
        self.assertEqual([f.stops for f in self.routes.values()], [1, 1, 1])

    def test_tlsRouteSniffsAgainOverTheSameRoutes(self):
        factory = SniffingFactory(self.routes, self.clock, timeout=3, max_bytes=999,
                                  tls_options=UnusedTlsOptions())
        tls = factory.routes[Route.TLS]
        self.assertIsInstance(tls, TLSMemoryBIOFactory)
        inner = tls.wrappedFactory
        self.assertIsInstance(inner, SniffingFactory)
        self.assertEqual((inner.inside_tls, inner.tls_allowed), (True, False))
        self.assertEqual((inner.timeout, inner.max_bytes, inner.clock), (3, 999, self.clock))
        self.assertEqual((factory.secure_headers, inner.secure_headers), ((), ()))
        hsts = ((b"Strict-Transport-Security", b"max-age=60"),)
        given = SniffingFactory(self.routes, self.clock, tls_options=UnusedTlsOptions(),
                                secure_headers=hsts)
        # the outer sniffer answers plain text: only the one inside TLS says it
        self.assertEqual((given.secure_headers, given.routes[Route.TLS].wrappedFactory
                          .secure_headers), ((), hsts))
        self.assertEqual(inner.routes, self.routes)
        for route, child in self.routes.items():
            self.assertIs(inner.routes[route], child)
            self.assertIs(factory.routes[route], child)
        verifyObject(IProtocolNegotiationFactory, inner)
        factory.doStart()
        # started once by the outer sniffer and once through TLS by the inner one
        self.assertEqual([f.starts for f in self.routes.values()], [1, 1, 1])
        self.assertEqual([f.numPorts for f in self.routes.values()], [2, 2, 2])
        factory.doStop()
        self.assertEqual([f.stops for f in self.routes.values()], [1, 1, 1])

    def test_badArguments(self):
        with self.assertRaises(ValueError):
            SniffingFactory(self.routes, self.clock, require_tls=True)
        with self.assertRaises(ValueError):
            SniffingFactory(
                self.routes, self.clock, tls_options=UnusedTlsOptions(), inside_tls=True
            )
        with self.assertRaises(ValueError):
            SniffingFactory({Route.TLS: Factory()}, self.clock, tls_options=UnusedTlsOptions())
        with self.assertRaises(ValueError):
            SniffingFactory(self.routes, self.clock, timeout=0)
        with self.assertRaises(ValueError):
            SniffingFactory(self.routes, self.clock, max_bytes=4)
        with self.assertRaises(TypeError):
            SniffingFactory({"http": Factory()}, self.clock)


class RequireTlsTests(SynchronousTestCase):
    def setUp(self):
        self.clock = Clock()
        self.routes = make_routes()
        self.factory = SniffingFactory(
            self.routes, self.clock, max_bytes=CAP, tls_options=UnusedTlsOptions(), require_tls=True
        )
        self.log = EventLoggingObserver.createWithCleanup(self, globalLogPublisher)

    def exchange(self, data):
        transport = StringTransport()
        protocol = self.factory.buildProtocol(transport.getPeer())
        protocol.makeConnection(transport)
        protocol.dataReceived(data)
        return transport

    def test_plainHttpIsRedirected(self):
        self.assertIsInstance(self.factory.routes[Route.HTTP], RedirectFactory)
        transport = self.exchange(b"GET /a/b?c=d HTTP/1.1\r\nHost: chat.example:8080\r\n\r\n")
        head, _, body = transport.value().partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        self.assertEqual(lines[0], b"HTTP/1.1 308 Permanent Redirect")
        self.assertIn(b"Location: https://chat.example:8080/a/b?c=d", lines)
        self.assertIn(b"Content-Length: 0", lines)
        self.assertEqual(body, b"")
        self.assertTrue(transport.disconnecting)
        self.assertEqual([f.built for f in self.routes.values()], [[], [], []])

    def test_plainJimAndWebSocketAreClosed(self):
        for data, route in [(JIM_LOGIN, "jim"), (WS_UPGRADE, "websocket")]:
            transport = self.exchange(data)
            self.assertTrue(transport.disconnecting)
            self.assertEqual(transport.value(), b"")
            event = self.log[-1]
            self.assertEqual(event["log_level"], LogLevel.info)
            self.assertEqual(event["reason"], f"plain-text {route} refused: TLS is required")
        self.assertEqual([f.built for f in self.routes.values()], [[], [], []])

    def test_tlsIsStillRouted(self):
        inner = self.factory.routes[Route.TLS].wrappedFactory
        self.assertIs(inner.routes[Route.JIM], self.routes[Route.JIM])
        self.assertIs(inner.routes[Route.HTTP], self.routes[Route.HTTP])


class RedirectTests(SynchronousTestCase):
    def answer(self, *chunks, max_bytes=CAP):
        transport = StringTransport()
        protocol = RedirectFactory(max_bytes).buildProtocol(None)
        protocol.makeConnection(transport)
        for chunk in chunks:
            protocol.dataReceived(chunk)
        return transport

    def test_location(self):
        cases = {
            b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n": b"https://localhost/",
            b"HEAD /x HTTP/1.0\nhost:[::1]:8443\n\n": b"https://[::1]:8443/x",
            b"GET http://h.example:80/p?q HTTP/1.1\r\nHost: other\r\n\r\n":
                b"https://h.example:80/p?q",
            b"GET http://h.example HTTP/1.1\r\n\r\n": b"https://h.example/",
            b"GET / HTTP/1.1\r\n\r\n": None,
            b"GET / HTTP/1.1\r\nHost: \r\n\r\n": None,
            b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n": None,
            b"GET / HTTP/1.1\r\nHost: evil.example/\r\n\r\n": None,
            b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n": None,
            b"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n": None,
            b"GET /\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n": None,
            b"GET / x HTTP/1.1\r\nHost: h\r\n\r\n": None,
        }
        for head, expected in cases.items():
            self.assertEqual(redirect_location(head), expected, head)

    def test_headInPieces(self):
        transport = self.answer(b"GET /p HTTP/1.1\r\nHo", b"st: h\r\n", b"\r\n")
        self.assertIn(b"\r\nLocation: https://h/p\r\n", transport.value())
        self.assertTrue(transport.disconnecting)

    def assert_refused(self, transport, status):
        """Answered C{status} with JMessage's error body of a bad request, then closed."""
        head, _, body = transport.value().partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 " + status + b"\r\n"), head)
        self.assertIn(b"\r\nContent-Type: application/json", head)
        self.assertNotIn(b"Location", head)
        self.assertEqual(json.loads(body)["error"]["code"], 899003)
        self.assertTrue(transport.disconnecting)

    def test_noUsableHostIs400(self):
        self.assert_refused(self.answer(b"GET / HTTP/1.1\r\n\r\n"), b"400 Bad Request")

    def test_headTooLargeIs431(self):
        self.assert_refused(self.answer(b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 60),
                            b"431 Request Header Fields Too Large")

    def test_answersOnce(self):
        transport = self.answer(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", b"GET / HTTP/1.1\r\n\r\n")
        self.assertEqual(transport.value().count(b"HTTP/1.1 "), 1)
