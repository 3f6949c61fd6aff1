"""The listen backlog: every listening port asks the kernel for --backlog pending connections,
not Twisted's 50. Checked where Twisted receives it: the C{listenTCP}/C{listenUNIX} call an
endpoint makes on a L{MemoryReactor}, and the endpoint jim's service listens on."""
from twisted.internet.protocol import Factory
from twisted.internet.testing import MemoryReactor
from twisted.trial.unittest import SynchronousTestCase, TestCase

from jim import service as service_module
from jim.config import Config
from jim.net.listen import listening_endpoint, with_backlog

from tests.support.inprocess import start_jim


class WithBacklogTests(SynchronousTestCase):
    def test_added_to_endpoints_that_take_one(self):
        self.assertEqual(with_backlog("tcp:8888", 1024), "tcp:8888:backlog=1024")
        self.assertEqual(with_backlog("tcp6:8888:interface=\\:\\:1", 9),
                         "tcp6:8888:interface=\\:\\:1:backlog=9")
        self.assertEqual(with_backlog("ssl:443:privateKey=k.pem", 9),
                         "ssl:443:privateKey=k.pem:backlog=9")
        self.assertEqual(with_backlog("unix:/run/jim.sock", 9), "unix:/run/jim.sock:backlog=9")

    def test_the_operators_own_backlog_wins(self):
        self.assertEqual(with_backlog("tcp:8888:backlog=7", 1024), "tcp:8888:backlog=7")

    def test_endpoints_without_a_backlog_are_left_alone(self):
        # an adopted socket already listens; a plugin's parser may refuse an unknown parameter
        self.assertEqual(with_backlog("systemd:domain=INET:index=0", 1024),
                         "systemd:domain=INET:index=0")
        self.assertEqual(with_backlog("txsni:certs:tcp:443", 1024), "txsni:certs:tcp:443")

    def test_an_escaped_colon_is_not_a_field(self):
        self.assertEqual(with_backlog("unix:/tmp/a\\:backlog=3", 5), "unix:/tmp/a\\:backlog=3:backlog=5")


class ListeningEndpointTests(SynchronousTestCase):
    def test_tcp_listens_with_the_backlog(self):
        reactor, factory = MemoryReactor(), Factory()
        listening_endpoint(reactor, "tcp:8888:interface=127.0.0.1", 1024).listen(factory)
        self.assertEqual(reactor.tcpServers, [(8888, factory, 1024, "127.0.0.1")])

    def test_tcp6_and_unix(self):
        reactor, factory = MemoryReactor(), Factory()
        listening_endpoint(reactor, "tcp6:8888", 512).listen(factory)
        listening_endpoint(reactor, "unix:/run/jim.sock", 512).listen(factory)
        [(_, _, backlog, _)] = reactor.tcpServers
        [(_, _, unix_backlog, _, _)] = reactor.unixServers
        self.assertEqual((backlog, unix_backlog), (512, 512))


class ServiceBacklogTests(TestCase):
    async def listened(self, **config):
        calls = []

        def recording(reactor, description, backlog):
            calls.append((description, backlog))
            return listening_endpoint(reactor, description, backlog)

        self.patch(service_module, "listening_endpoint", recording)
        await start_jim(self, store="memory", **config)
        return calls

    async def test_the_default_is_1024(self):
        self.assertEqual(Config().backlog, 1024)
        self.assertEqual(await self.listened(), [("tcp:0:interface=127.0.0.1", 1024)])

    async def test_every_port_gets_the_configured_backlog(self):
        calls = await self.listened(
            backlog=77, listen=("tcp:0:interface=127.0.0.1", "tcp:0:interface=127.0.0.1"))
        self.assertEqual([backlog for _, backlog in calls], [77, 77])
