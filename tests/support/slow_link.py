"""A TCP forwarder whose answers reach the client late, for tests: a node connected to Redis
through it reads everything Redis sends it C{delay} seconds after Redis sent it, in order, as a
busy node would; what it sends reaches Redis at once."""
from collections import deque

from twisted.internet import reactor
from twisted.protocols import portforward


class _LateClient(portforward.ProxyClient):
    """The forwarder's connection to the server: what the server sends goes on to the client
    after the link's delay (each chunk in its turn, whatever order equal timers fire in)."""

    def connectionMade(self):
        self._held = deque()
        self._link = self.peer.factory  # (the client's side was made by the SlowLink)
        super().connectionMade()

    def dataReceived(self, data):
        self._held.append(data)
        self._link.clock.callLater(self._link.delay, self._release)

    def _release(self):
        data = self._held.popleft()
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.write(data)


class _LateClientFactory(portforward.ProxyClientFactory):
    protocol = _LateClient


class _Forwarder(portforward.ProxyServer):
    clientProtocolFactory = _LateClientFactory


class SlowLink(portforward.ProxyFactory):
    """Forwards each connection to C{port} on 127.0.0.1; what comes back is held C{delay}
    seconds. L{listen} it, then connect to the port it listens on."""

    protocol = _Forwarder
    noisy = False

    def __init__(self, port, delay, clock=reactor):
        super().__init__("127.0.0.1", port)
        self.delay = delay
        self.clock = clock

    def listen(self, test):
        """Listen on a free port of 127.0.0.1 until C{test} is over: the port."""
        listening = reactor.listenTCP(0, self, interface="127.0.0.1")
        test.addCleanup(listening.stopListening)
        return listening.getHost().port
