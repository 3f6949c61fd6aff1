"""The credentials of a large body checked before it is read (L{jim.web.site.LimitedRequest}),
on a Clock with a fake transport: the connection is not read while the check runs, a refusal
is answered and closes it, a check that breaks is a 500, and small bodies are not checked."""
from twisted.internet import defer
from twisted.internet.address import IPv4Address
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.trial.unittest import SynchronousTestCase
from twisted.web import resource

from jim import errors
from jim.errors import JimError
from jim.metrics import Metrics
from jim.web.site import JimSite


class Echo(resource.Resource):
    isLeaf = True

    def render_POST(self, request):
        return b"got %d" % len(request.content.read())


class HeadCheckTests(SynchronousTestCase):
    def setUp(self):
        self.checks = []  # (request, Deferred) of each check, answered by the test
        self.site = JimSite(Echo(), 100, Metrics(), Clock(), route_limit=self.limit,
                            head_check=self.check)

    @staticmethod
    def limit(method, path):
        return 10_000 if path == b"/upload" else None

    async def check(self, request):
        d = defer.Deferred()
        self.checks.append((request, d))
        await d

    def post(self, path, length):
        channel = self.site.buildProtocol(IPv4Address("TCP", "192.0.2.1", 1234))
        transport = StringTransport(peerAddress=IPv4Address("TCP", "192.0.2.1", 1234))
        channel.makeConnection(transport)
        channel.dataReceived(b"POST %s HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n"
                             % (path, length))
        return channel, transport

    def test_the_body_waits_for_the_check_and_is_read_once_it_passed(self):
        channel, transport = self.post(b"/upload", 1000)
        [(_, d)] = self.checks
        self.assertEqual(transport.producerState, "paused")
        d.callback(None)
        self.assertEqual(transport.producerState, "producing")
        channel.dataReceived(b"x" * 1000)
        self.assertTrue(transport.value().endswith(b"got 1000"), transport.value())

    def test_a_refusal_is_answered_with_the_challenge_and_closes(self):
        channel, transport = self.post(b"/upload", 1000)
        [(_, d)] = self.checks
        d.errback(JimError(errors.AUTH_FAILED, "Basic authentication failed"))
        answer = transport.value()
        self.assertTrue(answer.startswith(b"HTTP/1.1 401 "), answer)
        self.assertIn(b'WWW-Authenticate: Basic realm="jim"', answer)
        self.assertIn(b"899008", answer)
        self.assertTrue(transport.disconnecting)
        channel.dataReceived(b"x" * 1000)  # what still comes is not read
        self.assertNotIn(b"got", transport.value())

    def test_a_check_that_breaks_is_a_500_and_logged(self):
        _, transport = self.post(b"/upload", 1000)
        [(_, d)] = self.checks
        d.errback(RuntimeError("the store fell over"))
        self.assertTrue(transport.value().startswith(b"HTTP/1.1 500 "), transport.value())
        self.assertTrue(transport.disconnecting)
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)

    def test_small_bodies_and_other_routes_are_not_checked_first(self):
        for path, length in ((b"/upload", 100), (b"/other", 50)):
            _, transport = self.post(path, length)
            self.assertEqual(self.checks, [])
            self.assertEqual(transport.producerState, "producing")
