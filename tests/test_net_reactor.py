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

    def __init__(self, peers, on_data=None, on_lost=None):
        self.peers = peers
        self.on_data = on_data
        self.on_lost = on_lost
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
        if self.on_lost is not None:
            self.on_lost(self)


class CountingPoller:
    """The reactor's epoll object, noting how many events each poll returned."""

    def __init__(self, poller):
        self._poller = poller
        self.polls = []

    def poll(self, *args):
        events = self._poller.poll(*args)
        self.polls.append(len(events))
        return events

    def __getattr__(self, name):
        return getattr(self._poller, name)


class JimReactorTests(SynchronousTestCase):
    def setUp(self):
        self.reactor = JimReactor()
        self.addCleanup(self._close_reactor)
        self.poller = self.reactor._poller = CountingPoller(self.reactor._poller)
        self.peers = []
        self.on_data = None
        self.on_lost = None
        factory = Factory.forProtocol(lambda: Recorder(self.peers, self.on_data, self.on_lost))
        self.port = self.reactor.listenTCP(0, factory, interface="127.0.0.1")

    def _close_reactor(self):
        reactor = self.reactor
        self.port.stopListening()
        for peer in self.peers:
            peer.on_lost = None
        for selectable in reactor.removeAll():
            if selectable is not reactor.waker:
                selectable.connectionLost(Failure(ConnectionDone()))
        self._spin(lambda: False, turns=3)
        reactor.waker.connectionLost(None)  # closes the waker's pipe
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
        del self.poller.polls[:]
        self.reactor.iterate(0.5)
        self.assertEqual(self.poller.polls[0], 2)  # one poll reported both
        self._spin(lambda: first_server.lost is not None or second_server.lost is not None)
        # exactly one was read; the other was aborted before its event was handled
        self.assertEqual(sorted([first_server.received, second_server.received])[0], b"")
        self.assertEqual(len(first_server.received + second_server.received), 1)


    def test_an_exception_out_of_one_event_is_logged_and_the_others_are_handled(self):
        # _doReadOrWrite catches what doRead raises, but not what a protocol's connectionLost
        # raises on a hang-up: the reactor must, as EPollReactor's callWithLogger did
        def explode(protocol):
            raise ZeroDivisionError("a connectionLost bug")

        self.on_lost = explode
        leaving, leaving_server = self._client()
        staying, staying_server = self._client()
        leaving.close()
        staying.sendall(b"in the same poll")
        del self.poller.polls[:]
        self.reactor.iterate(0.5)
        self.assertEqual(self.poller.polls[0], 2)
        self.assertIsNotNone(leaving_server.lost)
        self.assertEqual(len(self.flushLoggedErrors(ZeroDivisionError)), 1)
        self.assertEqual(staying_server.received, b"in the same poll")
        self.assertEqual(self._read(staying, 16), b"in the same poll")


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

    def test_twistd_jim_installs_it(self):
        # jim.tap is imported by twistd before any reactor: it must not import one itself
        out = self._python("-c", (
            "import sys\n"
            "import jim.tap\n"
            "print('twisted.internet.reactor' in sys.modules)\n"
            "options = jim.tap.Options()\n"
            "options.parseOptions(['--store', 'memory'])\n"
            "jim.tap.makeService(options)\n"
            "from twisted.internet import reactor\n"
            "print(type(reactor).__name__)\n"
        ))
        self.assertEqual(out, ["False", "JimReactor"])

    def test_without_epoll_the_plugin_refuses_as_twisted_reactors_do(self):
        out = self._python("-c", (
            "import jim.net.reactor as r\n"
            "r.EPollReactor = None\n"
            "try:\n"
            "    r.install()\n"
            "except ImportError as e:\n"
            "    print('ImportError')\n"
        ))
        self.assertEqual(out, ["ImportError"])

    def test_twistd_lists_it(self):
        out = self._python("-c", "from twisted.scripts.twistd import run; run()",
                           "--help-reactors")
        self.assertIn("jim", out)
