"""An HTTP request's deadline: the pure rule, then the channel keeping it on a Clock."""
from hypothesis import given, strategies as st
from twisted.internet.address import IPv4Address
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.trial.unittest import SynchronousTestCase
from twisted.web import resource

from jim.metrics import Metrics
from jim.web.request_deadline import time_left
from jim.web.site import CLOSE_GRACE, JimSite

seconds = st.floats(0, 1e6, allow_nan=False)
rates = st.integers(1, 1 << 20)


class TimeLeftTests(SynchronousTestCase):
    def test_head_only(self):
        self.assertEqual(time_left(100.0, 100.0, 0, 30.0, 8192), 30.0)
        self.assertEqual(time_left(100.0, 130.0, 0, 30.0, 8192), 0.0)
        self.assertEqual(time_left(100.0, 130.0, 8192, 30.0, 8192), 1.0)
        self.assertEqual(time_left(100.0, 130.0, 8192, 30.0, 0), 0.0)

    @given(seconds, seconds, st.integers(0, 1 << 30), st.integers(0, 1 << 20), rates)
    def test_more_body_more_time_later_less(self, now, waited, received, more, rate):
        left = time_left(0.0, now, received, 30.0, rate)
        self.assertGreaterEqual(time_left(0.0, now, received + more, 30.0, rate), left)
        self.assertLessEqual(time_left(0.0, now + waited, received, 30.0, rate), left)

    @given(rates, st.floats(1, 1e5), st.floats(1, 1e5))
    def test_a_body_at_the_minimum_rate_is_never_late(self, rate, elapsed, faster):
        # received at (at least) the rate since the start: the time bought keeps ahead
        self.assertGreater(time_left(0.0, elapsed, rate * elapsed * (1 + faster / 1e5), 1.0,
                                     rate), 0)

    @given(rates, st.floats(0, 0.999))
    def test_a_trickle_is_late_once_the_timeout_and_its_bytes_are_spent(self, rate, share):
        # a body at a share of the rate: late by timeout / (1 - share)
        timeout = 30.0
        late_at = timeout / (1 - share) + 1e-6 * timeout / (1 - share)
        received = share * rate * late_at
        self.assertLessEqual(time_left(0.0, late_at, received, timeout, rate), 1e-6)


class Hello(resource.Resource):
    isLeaf = True

    def render_GET(self, request):
        return b"hello"

    def render_POST(self, request):
        return b"got %d" % len(request.content.read())


class ChannelDeadlineTests(SynchronousTestCase):
    def setUp(self):
        self.clock = Clock()
        self.site = JimSite(Hello(), 1 << 20, Metrics(), self.clock, request_timeout=10.0,
                            min_body_rate=100)

    def connect(self):
        channel = self.site.buildProtocol(IPv4Address("TCP", "192.0.2.1", 1234))
        transport = StringTransport(peerAddress=IPv4Address("TCP", "192.0.2.1", 1234))
        channel.makeConnection(transport)
        return channel, transport

    def test_a_trickled_body_gets_408_at_the_deadline(self):
        channel, transport = self.connect()
        channel.dataReceived(b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n")
        for _ in range(49):  # a byte every 0.2 s: 49 bytes buy half a second
            self.clock.advance(0.2)
            channel.dataReceived(b"x")
        self.assertEqual(transport.value(), b"")
        self.clock.advance(0.7)
        self.assertTrue(transport.value().startswith(b"HTTP/1.1 408 Request Timeout\r\n"),
                        transport.value())
        self.assertIn(b"Connection: close", transport.value())
        self.assertTrue(transport.disconnecting)
        self.assertEqual(self.site.metrics.bad_input, 1)
        # a client that does not take the answer is aborted
        self.clock.advance(CLOSE_GRACE)
        self.assertTrue(transport.disconnected)

    def test_a_trickled_head_gets_408_too(self):
        channel, transport = self.connect()
        for byte in b"GET / HTTP/1.1\r\nHost: aaaa":
            channel.dataReceived(bytes([byte]))
            self.clock.advance(0.5)
        self.assertTrue(transport.value().startswith(b"HTTP/1.1 408 "), transport.value())

    def test_a_body_at_the_minimum_rate_takes_as_long_as_it_needs(self):
        channel, transport = self.connect()
        channel.dataReceived(b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3000\r\n\r\n")
        for _ in range(30):  # 100 bytes a second for 30 s: three times the timeout
            self.clock.advance(1.0)
            channel.dataReceived(b"y" * 100)
        self.assertIn(b"200 OK", transport.value())
        self.assertTrue(transport.value().endswith(b"got 3000"))
        self.assertFalse(transport.disconnecting)

    def test_no_deadline_between_requests_nor_while_one_is_answered(self):
        channel, transport = self.connect()
        channel.dataReceived(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        self.assertTrue(transport.value().endswith(b"hello"))
        transport.clear()
        self.clock.advance(50.0)  # idle, under the site's 60 s idle timeout
        self.assertEqual(transport.value(), b"")
        self.assertFalse(transport.disconnecting)
        # the next request gets its own deadline, from its own first byte
        channel.dataReceived(b"GET / HTTP/1.1\r\n")
        self.clock.advance(9.0)
        channel.dataReceived(b"Host: a\r\n\r\n")
        self.assertTrue(transport.value().endswith(b"hello"))
        self.clock.advance(5.0)
        self.assertFalse(transport.disconnecting)

    def test_a_413_is_not_followed_by_a_408(self):
        self.site.max_body = 10
        channel, transport = self.connect()
        channel.dataReceived(b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n")
        self.assertTrue(transport.value().startswith(b"HTTP/1.1 413 "))
        self.clock.advance(20.0)
        self.assertNotIn(b"408", transport.value())

    def test_closing_cancels_the_timers(self):
        channel, transport = self.connect()
        channel.dataReceived(b"GET / HTTP/1.1\r\n")
        channel.connectionLost(None)
        self.assertEqual([c for c in self.clock.getDelayedCalls() if c.active()], [])
