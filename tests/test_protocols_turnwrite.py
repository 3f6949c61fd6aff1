"""L{TurnWriter} over real loopback sockets: one turn's writes leave in one send, in order,
and whatever the socket does not take goes through Twisted's own buffer, still in order."""
from twisted.internet import defer, reactor
from twisted.internet.endpoints import TCP4ClientEndpoint, TCP4ServerEndpoint
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.testing import StringTransport
from twisted.trial.unittest import SynchronousTestCase, TestCase

from jim.protocols.turnwrite import TurnWriter


class _Server(Protocol):
    def connectionMade(self):
        self.factory.connected.callback(self)


class _Client(Protocol):
    """Collects what the server sends; can stop reading to let the socket buffers fill."""

    def __init__(self):
        self.data = bytearray()
        self.closed = defer.Deferred()
        self._want = None

    def dataReceived(self, data):
        self.data += data
        if self._want is not None and len(self.data) >= self._want[0]:
            want, self._want = self._want, None
            want[1].callback(bytes(self.data))

    def connectionLost(self, reason):
        self.closed.callback(bytes(self.data))

    def received(self, size):
        """Fires with everything received once at least C{size} bytes arrived."""
        d = defer.Deferred()
        self._want = (size, d)
        self.dataReceived(b"")
        return d


def _counting(transport):
    """Count the calls to C{transport.write} (Twisted's queueing path)."""
    calls = []
    original = transport.write

    def write(data):
        calls.append(len(data))
        original(data)

    transport.write = write
    return calls


class RealSocketTests(TestCase):
    timeout = 30

    async def connect(self):
        factory = Factory.forProtocol(_Server)
        factory.connected = defer.Deferred()
        port = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(factory)
        self.addCleanup(port.stopListening)
        client = _Client()
        endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port)
        from twisted.internet.endpoints import connectProtocol

        await connectProtocol(endpoint, client)
        server = await factory.connected
        self.addCleanup(client.transport.abortConnection)
        self.addCleanup(server.transport.abortConnection)
        return server, client

    async def test_one_turn_leaves_in_one_send_in_order(self):
        server, client = await self.connect()
        writer = TurnWriter(reactor)
        queued = _counting(server.transport)
        for i in range(10):
            writer.write(server.transport, b"frame%d;" % i)
        self.assertEqual(client.data, b"")  # nothing leaves before the turn ends
        got = await client.received(len(b"".join(b"frame%d;" % i for i in range(10))))
        self.assertEqual(got, b"".join(b"frame%d;" % i for i in range(10)))
        self.assertEqual(queued, [])  # straight to the socket, never through Twisted's queue

    async def test_what_the_socket_does_not_take_follows_in_order(self):
        server, client = await self.connect()
        writer = TurnWriter(reactor)
        queued = _counting(server.transport)
        client.transport.pauseProducing()  # the client stops reading: the buffers fill up
        big = bytes(range(256)) * (16 * 1024)  # 4 MiB, more than loopback buffers hold
        writer.write(server.transport, big)
        writer.write(server.transport, b"after-big;")
        await deferLater(0.05)
        self.assertEqual(len(queued), 1)  # the rest went to Twisted's buffer
        writer.write(server.transport, b"later-turn;")  # must queue behind, not overtake
        await deferLater(0.05)
        self.assertEqual(len(queued), 2)
        client.transport.resumeProducing()
        expected = big + b"after-big;later-turn;"
        got = await client.received(len(expected))
        self.assertEqual(len(got), len(expected))
        self.assertTrue(got == expected)

    async def test_flush_one_before_close(self):
        server, client = await self.connect()
        writer = TurnWriter(reactor)
        writer.write(server.transport, b"last words")
        writer.flush_one(server.transport)
        server.transport.loseConnection()
        self.assertEqual(await client.closed, b"last words")
        writer.flush()  # nothing left for that transport: no second copy, no error
        self.assertEqual(client.data, b"last words")

    async def test_discarded_writes_never_leave(self):
        server, client = await self.connect()
        writer = TurnWriter(reactor)
        writer.write(server.transport, b"dropped")
        writer.discard(server.transport)
        writer.write(server.transport, b"kept")
        got = await client.received(4)
        self.assertEqual(got, b"kept")

    async def test_an_abandoned_connection_is_sent_nothing_more(self):
        """Abandoned (it is being aborted): neither what it was written this turn nor what it
        is written after leaves, in this turn or a later one, until its discard."""
        server, client = await self.connect()
        writer = TurnWriter(reactor)
        writer.write(server.transport, b"before")
        writer.abandon(server.transport)
        writer.write(server.transport, b"after")
        writer.flush()
        writer.write(server.transport, b"later")
        writer.flush_one(server.transport)
        writer.write(server.transport, b"and later")
        await deferLater(0.05)
        self.assertEqual(client.data, b"")
        writer.discard(server.transport)  # (its connectionLost): the transport is forgotten
        writer.write(server.transport, b"x")
        self.assertEqual(await client.received(1), b"x")

    async def test_write_after_the_peer_is_gone(self):
        server, client = await self.connect()
        writer = TurnWriter(reactor)
        lost = defer.Deferred()
        server.connectionLost = lambda reason: lost.callback(None)
        client.transport.abortConnection()  # RST
        await client.closed
        writer.write(server.transport, b"x" * 100000)
        writer.flush()  # the send fails or is taken; either way Twisted closes the connection
        await lost
        self.assertFalse(server.transport.connected)


def deferLater(seconds):
    from twisted.internet import task

    return task.deferLater(reactor, seconds, lambda: None)


class OtherTransportTests(SynchronousTestCase):
    def test_not_plain_tcp_is_written_at_once(self):
        transport = StringTransport()
        writer = TurnWriter(clock=None)  # no turn is ever scheduled for it
        writer.write(transport, b"a")
        writer.write(transport, b"b")
        self.assertEqual(transport.value(), b"ab")
