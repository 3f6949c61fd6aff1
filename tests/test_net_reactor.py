"""jim.net.reactor: epoll dispatch without the legacy log context, on real loopback sockets."""
import socket
import subprocess
import sys

from twisted.internet.error import ConnectionDone
from twisted.internet.protocol import Factory, Protocol
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from jim.net.reactor import JimReactor


class Recorder(Protocol):
    """Echoes what it reads; remembers how it ended."""

    def __init__(self, peers, on_data=None):
        self.peers = peers
        self.on_data = on_data
        self.received = b""
        self.lost = None

    def connectionMade(self):
        self.peers.append(self)

    def dataReceived(self, data):
        self.received += data
        if self.on_data is not None:
            self.on_data(self)
        self.transport.write(data)

    def connectionLost(self, reason):
        self.lost = reason


class JimReactorTests(SynchronousTestCase):
    def setUp(self):
        self.reactor = JimReactor()
        self.addCleanup(self._close_reactor)
        self.peers = []
        self.on_data = None
        factory = Factory.forProtocol(lambda: Recorder(self.peers, self.on_data))
        self.port = self.reactor.listenTCP(0, factory, interface="127.0.0.1")

    def _close_reactor(self):
        reactor = self.reactor
        self.port.stopListening()
        for selectable in reactor.removeAll():
            if selectable is not reactor.waker:
                selectable.connectionLost(Failure(ConnectionDone()))
        self._spin(lambda: False, turns=3)
        reactor._poller.close()

    def _spin(self, done, turns=200):
        for _ in range(turns):
            if done():
                return True
            self.reactor.iterate(0.01)
        return done()

    def _client(self):
        client = socket.create_connection(("127.0.0.1", self.port.getHost().port), timeout=5)
        self.addCleanup(client.close)
        count = len(self.peers)
        self.assertTrue(self._spin(lambda: len(self.peers) > count), "never accepted")
        return client, self.peers[-1]

    def _read(self, client, size):
        client.setblocking(False)
        got = b""

        def ready():
            nonlocal got
            try:
                got += client.recv(size - len(got))
            except BlockingIOError:
                pass
            return len(got) >= size

        self.assertTrue(self._spin(ready), f"read {got!r} of {size} bytes")
        return got

    def test_reads_and_writes(self):
        client, server = self._client()
        client.sendall(b"ping")
        self.assertEqual(self._read(client, 4), b"ping")
        self.assertEqual(server.received, b"ping")

    def test_peer_close_is_a_clean_connection_lost(self):
        client, server = self._client()
        client.close()
        self.assertTrue(self._spin(lambda: server.lost is not None))
        self.assertIsInstance(server.lost.value, ConnectionDone)

    def test_exception_in_a_protocol_drops_that_connection_and_is_logged(self):
        def explode(protocol):
            if protocol.received == b"boom":
                raise ZeroDivisionError("a protocol bug")

        self.on_data = explode
        bad, bad_server = self._client()
        good, good_server = self._client()
        bad.sendall(b"boom")
        self.assertTrue(self._spin(lambda: bad_server.lost is not None))
        self.assertIsInstance(bad_server.lost.value, ZeroDivisionError)
        self.assertEqual(len(self.flushLoggedErrors(ZeroDivisionError)), 1)
        bad.settimeout(5)
        self.assertEqual(bad.recv(10), b"")  # closed, nothing echoed
        good.sendall(b"still here")
        self.assertEqual(self._read(good, 10), b"still here")
        self.assertIsNone(good_server.lost)

    def test_a_connection_dropped_by_an_earlier_event_of_the_same_poll_is_skipped(self):
        def abort_the_others(protocol):
            for other in self.peers:
                if other is not protocol:
                    other.transport.abortConnection()

        first, first_server = self._client()
        second, second_server = self._client()
        self.on_data = abort_the_others
        for server in (first_server, second_server):
            server.on_data = abort_the_others
        first.sendall(b"a")
        second.sendall(b"b")  # both readable before the next poll
        self.reactor.iterate(0.5)
        self._spin(lambda: first_server.lost is not None or second_server.lost is not None)
        # exactly one was read; the other was aborted before its event was handled
        self.assertEqual(sorted([first_server.received, second_server.received])[0], b"")
        self.assertEqual(len(first_server.received + second_server.received), 1)


class InstallTests(SynchronousTestCase):
    def _python(self, *args):
        result = subprocess.run(
            [sys.executable, *args], capture_output=True, text=True, timeout=60
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        return result.stdout.split()

    def _install_after(self, setup):
        """install_if_unchosen() in a fresh interpreter after C{setup}: its answer and the
        class of the reactor that ends up installed."""
        return self._python("-c", setup + (
            "from jim.net.reactor import install_if_unchosen\n"
            "print(install_if_unchosen())\n"
            "from twisted.internet import reactor\n"
            "print(type(reactor).__name__)\n"
        ))

    def test_installed_when_no_reactor_was_chosen(self):
        self.assertEqual(self._install_after(""), ["True", "JimReactor"])

    def test_a_reactor_already_chosen_stays(self):
        setup = "from twisted.internet import pollreactor\npollreactor.install()\n"
        self.assertEqual(self._install_after(setup), ["False", "PollReactor"])

    def test_twistd_lists_it(self):
        out = self._python("-c", "from twisted.scripts.twistd import run; run()",
                           "--help-reactors")
        self.assertIn("jim", out)
