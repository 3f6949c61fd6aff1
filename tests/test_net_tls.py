"""TLS on the one port, over real loopback sockets, plus the loading of certificate files."""
import os

from OpenSSL import SSL
from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol, wrapClientTLS
from twisted.internet.interfaces import IOpenSSLClientConnectionCreator, ISSLTransport
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.ssl import CertificateOptions
from twisted.internet.testing import EventLoggingObserver
from twisted.internet.task import deferLater
from twisted.logger import LogLevel, globalLogPublisher
from twisted.trial.unittest import SynchronousTestCase, TestCase
from twisted.web.resource import Resource
from twisted.web.server import Site
from zope.interface import implementer

from jim.net.sniff import Route, SniffingFactory
from jim.net.tls import TLS12_CIPHERS, server_tls_options
from tests.support.certs import (
    chained_pair,
    client_options,
    dev_pair,
    server_options,
    write_pair,
    write_pem,
)

JIM_BYTES = b"\x01\x51\x05\x00\x00\x00\x02{}"
HTTP_BYTES = b"GET /x HTTP/1.1\r\nHost: localhost\r\n\r\n"
WS_BYTES = b"GET /?u=a HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n\r\n"


class EchoChild(Protocol):
    """Echoes what it gets behind a prefix naming its route, and remembers its transport
    and the ALPN protocol it saw while connected."""

    def __init__(self, factory):
        self.factory = factory
        self.lost = Deferred()
        self.alpn = "never asked"

    def connectionMade(self):
        self.factory.connected.append(self)

    def dataReceived(self, data):
        self.alpn = getattr(self.transport, "negotiatedProtocol", "not TLS")
        self.transport.write(self.factory.prefix + data)

    def connectionLost(self, reason):
        self.lost.callback(None)


class EchoFactory(Factory):
    noisy = False

    def __init__(self, prefix):
        self.prefix = prefix
        self.connected = []

    def buildProtocol(self, addr):
        return EchoChild(self)


class Hello(Resource):
    isLeaf = True

    def render_GET(self, request):
        return b"hi there"


class Client(Protocol):
    """Sends one payload, closes once C{expected} bytes came back, remembers how it ended."""

    def __init__(self, payload, expected):
        self.payload = payload
        self.expected = expected
        self.received = b""
        self.reason = None
        self.done = Deferred()

    def connectionMade(self):
        self.transport.write(self.payload)

    def dataReceived(self, data):
        self.received += data
        if self.expected is not None and len(self.received) >= len(self.expected):
            self.transport.loseConnection()

    def connectionLost(self, reason):
        self.reason = reason
        self.done.callback(self)


@implementer(IOpenSSLClientConnectionCreator)
class PinnedVersionClient:
    """A TLS client that speaks exactly one protocol version and checks nothing.

    Built on pyOpenSSL directly, because Twisted's client options (rightly) refuse to go
    below TLS 1.2; the security level is lowered so the local OpenSSL still sends an old hello.
    """

    def __init__(self, version, ciphers=b"DEFAULT"):
        self.version = version
        self.ciphers = ciphers

    def clientConnectionForTLS(self, tlsProtocol):
        context = SSL.Context(SSL.TLS_METHOD)
        context.set_min_proto_version(self.version)
        context.set_max_proto_version(self.version)
        context.set_cipher_list(self.ciphers + b":@SECLEVEL=0")
        connection = SSL.Connection(context, None)
        connection.set_app_data(tlsProtocol)
        connection.set_connect_state()
        return connection


class OnePortTests(TestCase):
    timeout = 20

    def setUp(self):
        self.children = {
            Route.JIM: EchoFactory(b"jim:"),
            Route.HTTP: EchoFactory(b"http:"),
            Route.WEBSOCKET: EchoFactory(b"ws:"),
        }
        self.log = EventLoggingObserver.createWithCleanup(self, globalLogPublisher)

    def listen(self, tls=True, require_tls=False):
        options = server_options(self.mktemp()) if tls else None
        factory = SniffingFactory(
            self.children, reactor, timeout=5, tls_options=options, require_tls=require_tls
        )
        port = reactor.listenTCP(0, factory, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        self.port = port.getHost().port
        return factory

    async def exchange(self, payload, expected, tls=None):
        """Connect (through C{tls} client options if given), send, and wait for the end.

        Also waits for the server side of any child to be gone, so no socket outlives the test.
        """
        endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", self.port)
        if tls is not None:
            endpoint = wrapClientTLS(tls, endpoint)
        client = Client(payload, expected)
        await connectProtocol(endpoint, client)
        await client.done
        for factory in self.children.values():
            for child in getattr(factory, "connected", ()):
                await child.lost
        return client

    def connectedChildren(self):
        return {route: len(f.connected) for route, f in self.children.items() if f.connected}

    async def test_plainRoutes(self):
        self.listen()
        for payload, prefix in [(JIM_BYTES, b"jim:"), (HTTP_BYTES, b"http:"), (WS_BYTES, b"ws:")]:
            client = await self.exchange(payload, prefix + payload)
            self.assertEqual(client.received, prefix + payload)
        self.assertEqual(
            self.connectedChildren(), {Route.JIM: 1, Route.HTTP: 1, Route.WEBSOCKET: 1}
        )
        for factory in self.children.values():
            [child] = factory.connected
            self.assertFalse(ISSLTransport.providedBy(child.transport))
            self.assertEqual(child.alpn, "not TLS")

    async def test_tlsRoutes(self):
        self.listen()
        for payload, prefix in [(JIM_BYTES, b"jim:"), (HTTP_BYTES, b"http:"), (WS_BYTES, b"ws:")]:
            client = await self.exchange(payload, prefix + payload, tls=client_options())
            self.assertEqual(client.received, prefix + payload)
        for factory in self.children.values():
            [child] = factory.connected
            self.assertTrue(ISSLTransport.providedBy(child.transport))
            self.assertIsNone(child.alpn)

    async def test_alpnHttp11(self):
        self.listen()
        tls = client_options(acceptableProtocols=[b"h2", b"http/1.1"])
        client = await self.exchange(HTTP_BYTES, b"http:" + HTTP_BYTES, tls=tls)
        self.assertEqual(client.received, b"http:" + HTTP_BYTES)
        [child] = self.children[Route.HTTP].connected
        self.assertEqual(child.alpn, b"http/1.1")

    async def test_tls12Accepted(self):
        # the control for the next test: the same hand-made client works at TLS 1.2
        self.listen()
        tls = PinnedVersionClient(SSL.TLS1_2_VERSION)
        client = await self.exchange(JIM_BYTES, b"jim:" + JIM_BYTES, tls=tls)
        self.assertEqual(client.received, b"jim:" + JIM_BYTES)

    async def test_tls11Refused(self):
        self.listen()
        client = await self.exchange(JIM_BYTES, None, tls=PinnedVersionClient(SSL.TLS1_1_VERSION))
        self.assertEqual(client.received, b"")
        self.assertIsInstance(client.reason.value, SSL.Error)
        self.assertIn("protocol version", str(client.reason.value))
        self.assertEqual(self.connectedChildren(), {})
        # and the log says so (the server may see the end a moment after the client)
        for _ in range(100):
            failed = [e for e in self.log if e.get("log_format", "").startswith("TLS with")]
            if failed:
                break
            await deferLater(reactor, 0.02, lambda: None)
        [event] = failed
        self.assertEqual(event["log_level"], LogLevel.info)
        self.assertIn("unsupported protocol", event["error"])

    async def test_tls12CbcSuitesRefused(self):
        # Lucky Thirteen: TLS 1.2 is AEAD only (the dev certificate is ECDSA, hence the names)
        self.listen()
        for cipher in (b"ECDHE-ECDSA-AES128-SHA256", b"ECDHE-ECDSA-AES256-SHA384",
                       b"ECDHE-ECDSA-AES128-SHA", b"ECDHE-ECDSA-AES256-SHA"):
            tls = PinnedVersionClient(SSL.TLS1_2_VERSION, cipher)
            client = await self.exchange(JIM_BYTES, None, tls=tls)
            self.assertEqual(client.received, b"", cipher)
            self.assertIsInstance(client.reason.value, SSL.Error, cipher)
            self.assertIn("handshake failure", str(client.reason.value), cipher)
        self.assertEqual(self.connectedChildren(), {})

    async def test_tls12AeadSuitesAccepted(self):
        self.listen()
        for cipher in (b"ECDHE-ECDSA-AES128-GCM-SHA256", b"ECDHE-ECDSA-AES256-GCM-SHA384",
                       b"ECDHE-ECDSA-CHACHA20-POLY1305"):
            tls = PinnedVersionClient(SSL.TLS1_2_VERSION, cipher)
            client = await self.exchange(JIM_BYTES, b"jim:" + JIM_BYTES, tls=tls)
            self.assertEqual(client.received, b"jim:" + JIM_BYTES, cipher)

    async def test_tls13Accepted(self):
        self.listen()
        tls = PinnedVersionClient(SSL.TLS1_3_VERSION)
        client = await self.exchange(JIM_BYTES, b"jim:" + JIM_BYTES, tls=tls)
        self.assertEqual(client.received, b"jim:" + JIM_BYTES)

    async def test_aCleanTlsCloseIsNotLoggedAsAFailure(self):
        self.listen()
        await self.exchange(JIM_BYTES, b"jim:" + JIM_BYTES, tls=client_options())
        self.assertEqual([e for e in self.log if e.get("log_format", "").startswith("TLS with")], [])

    async def test_tlsInsideTlsRefused(self):
        self.listen()
        endpoint = wrapClientTLS(
            client_options(),
            wrapClientTLS(client_options(), TCP4ClientEndpoint(reactor, "127.0.0.1", self.port)),
        )
        client = Client(JIM_BYTES, None)
        await connectProtocol(endpoint, client)
        await client.done
        self.assertEqual(client.received, b"")
        self.assertEqual(self.connectedChildren(), {})
        self.assertIn("TLS inside TLS", [e.get("reason") for e in self.log])

    async def test_tlsWithoutCertificateClosed(self):
        self.listen(tls=False)
        client = await self.exchange(JIM_BYTES, None, tls=client_options())
        self.assertEqual(client.received, b"")
        self.assertIsNotNone(client.reason)
        self.assertEqual(self.connectedChildren(), {})
        self.assertIn(
            "TLS handshake but no certificate configured", [e.get("reason") for e in self.log]
        )
        # and the port still serves plain text
        client = await self.exchange(JIM_BYTES, b"jim:" + JIM_BYTES)
        self.assertEqual(client.received, b"jim:" + JIM_BYTES)

    async def test_requireTls(self):
        self.listen(require_tls=True)
        request = b"GET /chat?room=1 HTTP/1.1\r\nHost: localhost:%d\r\n\r\n" % self.port
        client = await self.exchange(request, None)
        head = client.received.split(b"\r\n\r\n")[0].split(b"\r\n")
        self.assertEqual(head[0], b"HTTP/1.1 308 Permanent Redirect")
        self.assertIn(b"Location: https://localhost:%d/chat?room=1" % self.port, head)

        client = await self.exchange(JIM_BYTES, None)
        self.assertEqual(client.received, b"")
        client = await self.exchange(WS_BYTES, None)
        self.assertEqual(client.received, b"")
        self.assertEqual(self.connectedChildren(), {})

        for payload, prefix in [(JIM_BYTES, b"jim:"), (request, b"http:"), (WS_BYTES, b"ws:")]:
            client = await self.exchange(payload, prefix + payload, tls=client_options())
            self.assertEqual(client.received, prefix + payload)

    async def test_intermediateChainIsSent(self):
        root, intermediate, server = chained_pair()
        directory = self.mktemp()
        cert_path = write_pem(directory, "server.pem", server.cert_pem)
        key_path = write_pem(directory, "server.key.pem", server.key_pem)
        chain_path = write_pem(directory, "chain.pem", intermediate.cert_pem)
        factory = SniffingFactory(
            self.children, reactor, tls_options=server_tls_options(cert_path, key_path, chain_path)
        )
        port = reactor.listenTCP(0, factory, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        self.port = port.getHost().port
        tls = client_options(root.cert_pem)
        client = await self.exchange(JIM_BYTES, b"jim:" + JIM_BYTES, tls=tls)
        self.assertEqual(client.received, b"jim:" + JIM_BYTES)

    async def test_realSitePlainAndTls(self):
        root = Resource()
        root.putChild(b"hello", Hello())
        self.children[Route.HTTP] = Site(root)
        self.listen()
        request = b"GET /hello HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        for tls in (None, client_options()):
            client = await self.exchange(request, None, tls=tls)
            self.assertTrue(client.received.startswith(b"HTTP/1.1 200 OK\r\n"), client.received)
            self.assertTrue(client.received.endswith(b"\r\n\r\nhi there"))


class ServerOptionsTests(SynchronousTestCase):
    def setUp(self):
        self.directory = self.mktemp()
        self.cert_path, self.key_path = write_pair(self.directory)

    def test_only_aead_suites_for_tls12(self):
        """What the server offers: TLS 1.3's suites, and for TLS 1.2 ECDHE with AES-GCM or
        ChaCha20-Poly1305 only, whatever the key type (no CBC, no RSA key exchange, no DHE)."""
        options = server_tls_options(self.cert_path, self.key_path)
        offered = SSL.Connection(options.getContext()).get_cipher_list()
        tls12 = [name for name in offered if not name.startswith("TLS_")]
        self.assertEqual(sorted(tls12), sorted(TLS12_CIPHERS.split(":")))
        for name in tls12:
            self.assertTrue(name.startswith(("ECDHE-ECDSA-", "ECDHE-RSA-")), name)
            self.assertTrue(name.endswith(("-GCM-SHA256", "-GCM-SHA384", "-CHACHA20-POLY1305")),
                            name)
        self.assertIn("TLS_AES_128_GCM_SHA256", offered)  # TLS 1.3 as it was

    def assertRefused(self, *paths, says):
        with self.assertRaises(ValueError) as caught:
            server_tls_options(*paths)
        message = str(caught.exception)
        self.assertIn(says, message)
        return message

    def test_options(self):
        options = server_tls_options(self.cert_path, self.key_path)
        self.assertIsInstance(options, CertificateOptions)
        self.assertEqual(options.extraCertChain, [])
        context = options.getContext()
        # set_options() ORs in nothing and answers the options in force
        flags = context.set_options(0)
        self.assertTrue(flags & SSL.OP_NO_RENEGOTIATION)
        self.assertTrue(flags & SSL.OP_NO_TLSv1_1)
        self.assertTrue(flags & SSL.OP_NO_TLSv1)

    def test_chainFromFullchainAndChainFile(self):
        root, intermediate, server = chained_pair()
        full = write_pem(self.directory, "full.pem", server.cert_pem + intermediate.cert_pem)
        key = write_pem(self.directory, "inter.key.pem", server.key_pem)
        chain = write_pem(self.directory, "chain.pem", root.cert_pem)
        options = server_tls_options(full, key, chain)
        self.assertEqual(options.certificate, server.cert)
        self.assertEqual(options.extraCertChain, [intermediate.cert, root.cert])

    def test_missingFile(self):
        missing = os.path.join(self.directory, "nope.pem")
        message = self.assertRefused(missing, self.key_path, says="does not exist")
        self.assertIn(missing, message)
        message = self.assertRefused(self.cert_path, missing, says="does not exist")
        self.assertIn("private key", message)
        self.assertRefused(self.cert_path, self.key_path, missing, says="chain file")

    def test_unreadableFile(self):
        message = self.assertRefused(self.directory, self.key_path, says="cannot be read")
        self.assertIn(self.directory, message)

    def test_notPem(self):
        junk = write_pem(self.directory, "junk.pem", b"hello\n")
        self.assertRefused(junk, self.key_path, says="holds no PEM certificate")
        self.assertRefused(self.cert_path, junk, says="holds no PEM private key")
        self.assertRefused(self.cert_path, self.cert_path, says="holds no PEM private key")
        broken = write_pem(
            self.directory, "broken.pem",
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        self.assertRefused(broken, self.key_path, says="certificate 1 is not valid PEM")

    def test_keyDoesNotMatch(self):
        _, _, other = chained_pair()
        other_key = write_pem(self.directory, "other.key.pem", other.key_pem)
        message = self.assertRefused(self.cert_path, other_key, says="does not match")
        self.assertIn(other_key, message)
        self.assertIn(self.cert_path, message)

    def test_encryptedKey(self):
        from cryptography.hazmat.primitives import serialization

        encrypted = dev_pair().server.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
        path = write_pem(self.directory, "enc.key.pem", encrypted)
        self.assertRefused(self.cert_path, path, says="is encrypted")

    def test_keyAndCertificateInOneFile(self):
        pair = dev_pair()
        both = write_pem(self.directory, "both.pem", pair.server.key_pem + pair.server.cert_pem)
        options = server_tls_options(both, both)
        self.assertEqual(options.certificate, pair.server.cert)
