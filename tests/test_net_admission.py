"""Connections counted by client address: the pure rules, then the sniffer applying them."""
import ipaddress

from hypothesis import given, strategies as st
from twisted.internet.address import IPv4Address, IPv6Address, UNIXAddress
from twisted.internet.error import ConnectionDone
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.task import Clock
from twisted.internet.testing import EventLoggingObserver, StringTransport
from twisted.logger import globalLogPublisher
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from jim.net.admission import (
    OVER_CAP,
    RESERVE,
    RESERVE_SHARE,
    Admission,
    LogThrottle,
    address_key,
    descriptor_limit,
    open_descriptors,
)
from jim.net.sniff import REFUSAL_LOG_INTERVAL, Route, SniffingFactory

ipv4s = st.integers(0, 2**32 - 1).map(ipaddress.IPv4Address)
ipv6s = st.integers(0, 2**128 - 1).map(ipaddress.IPv6Address)


class AddressKeyTests(SynchronousTestCase):
    @given(ipv4s)
    def test_mapped_ipv4_counts_as_ipv4(self, ip):
        self.assertEqual(address_key(f"::ffff:{ip}"), str(ip))
        self.assertEqual(address_key(str(ipaddress.IPv6Address(f"::ffff:{ip}").exploded)),
                         str(ip))
        self.assertEqual(address_key(str(ip)), str(ip))

    @given(ipv6s)
    def test_every_spelling_of_an_ipv6_address_is_one_key(self, ip):
        key = address_key(str(ip))
        self.assertEqual(address_key(ip.exploded), key)
        self.assertEqual(address_key(ip.exploded.upper()), key)
        self.assertEqual(address_key(f"{ip}%eth0"), key)
        self.assertEqual(ipaddress.ip_address(key).version,
                         4 if ip.ipv4_mapped is not None else 6)

    @given(ipv4s, ipv4s)
    def test_distinct_addresses_are_distinct_keys(self, a, b):
        self.assertEqual(address_key(str(a)) == address_key(str(b)), a == b)

    @given(st.text(max_size=40))
    def test_any_text_gets_a_key_without_raising(self, host):
        self.assertIsInstance(address_key(host), str)

    def test_no_host_no_key(self):
        self.assertIsNone(address_key(None))


class AdmissionTests(SynchronousTestCase):
    def test_cap_per_address(self):
        admission = Admission(per_address=3)
        for _ in range(3):
            self.assertIsNone(admission.admit("10.0.0.1"))
        self.assertEqual(admission.admit("10.0.0.1"), OVER_CAP)
        self.assertIsNone(admission.admit("10.0.0.2"))
        self.assertEqual((admission.held("10.0.0.1"), admission.total), (3, 4))
        admission.release("10.0.0.1")
        self.assertIsNone(admission.admit("10.0.0.1"))

    def test_no_address_is_counted_but_never_capped(self):
        admission = Admission(per_address=1)
        self.assertIsNone(admission.admit(None))
        self.assertIsNone(admission.admit(None))
        self.assertEqual(admission.total, 2)

    def test_reserve_refuses_only_addresses_holding_a_share(self):
        admission = Admission(per_address=1000, capacity=100, reserve=10)
        for _ in range(90):
            self.assertIsNone(admission.admit("flood"))
        self.assertTrue(admission.low() is False)
        self.assertIsNone(admission.admit("flood"))  # 91 open: 9 left, under the reserve
        self.assertTrue(admission.low())
        self.assertEqual(admission.admit("flood"), RESERVE)
        for _ in range(RESERVE_SHARE):
            self.assertIsNone(admission.admit("login"))
        self.assertEqual(admission.admit("login"), RESERVE)
        admission.release("flood")
        self.assertEqual(admission.admit("flood"), RESERVE)  # still low

    def test_no_reserve_without_a_known_limit(self):
        admission = Admission(per_address=10, capacity=None, reserve=10)
        for _ in range(10):
            self.assertIsNone(admission.admit("a"))
        self.assertFalse(admission.low())

    def test_release_of_nothing_is_a_bug(self):
        self.assertRaises(KeyError, Admission(per_address=1).release, "a")

    @given(st.lists(st.tuples(st.booleans(), st.sampled_from(["a", "b", "c", None])),
                    max_size=200),
           st.integers(1, 5), st.integers(0, 20))
    def test_counts_stay_within_the_rules(self, steps, cap, reserve):
        admission = Admission(per_address=cap, capacity=30, reserve=reserve, share=2)
        model = {}
        for opening, key in steps:
            if opening:
                low = reserve > 0 and 30 - sum(model.values()) < reserve
                refusal = admission.admit(key)
                held = model.get(key, 0)
                if key is not None and held >= cap:
                    self.assertEqual(refusal, OVER_CAP)
                elif key is not None and held >= 2 and low:
                    self.assertEqual(refusal, RESERVE)
                else:
                    self.assertIsNone(refusal)
                    model[key] = held + 1
            elif model.get(key):
                admission.release(key)
                model[key] -= 1
            self.assertEqual(admission.total, sum(model.values()))
            self.assertEqual(admission.held(key), model.get(key, 0))


class SheddingTests(SynchronousTestCase):
    """When even the reserve runs out, a new connection closes the oldest unsettled one."""

    def open(self, admission, peer, key="a"):
        closed = []
        refusal = admission.admit(key, peer, lambda: closed.append(peer))
        self.assertIsNone(refusal)
        return closed

    def test_when_crowded_a_new_connection_closes_the_oldest_unsettled_one(self):
        admission = Admission(per_address=100, capacity=10, reserve=8, share=50)
        closes = [self.open(admission, f"10.0.0.{n}:1") for n in range(8)]
        self.assertFalse(admission.crowded(), "2 left: not fewer than 8 // 4")
        self.assertEqual(sum(map(len, closes)), 0)
        closes.append(self.open(admission, "10.0.0.8:1"))  # 1 left
        self.assertTrue(admission.crowded())
        self.assertEqual(closes[0], ["10.0.0.0:1"], "the ninth closed the oldest")
        self.assertEqual(sum(map(len, closes)), 1)
        self.assertEqual(admission.shed, 1)
        admission.release("a", "10.0.0.0:1")  # once it has closed
        self.open(admission, "10.0.0.9:1")
        self.assertEqual(closes[1], ["10.0.0.1:1"], "one at a time, oldest first")

    def test_settled_connections_are_never_closed_to_make_room(self):
        admission = Admission(per_address=100, capacity=6, reserve=4, share=50)
        settled = [self.open(admission, f"s:{n}") for n in range(3)]
        for n in range(3):
            admission.settle(f"s:{n}")
        waiting = self.open(admission, "w:0")
        admission.settle("nobody:0")  # unknown peers are ignored
        for n in range(1, 4):
            self.open(admission, f"w:{n}")
        self.assertEqual(sum(map(len, settled)), 0)
        self.assertEqual(waiting, ["w:0"])
        self.assertEqual(admission.unsettled(), 2, "w:0 and w:1 closed, w:2 and w:3 wait")

    def test_nothing_is_closed_without_a_reserve_or_a_known_limit(self):
        for admission in (Admission(per_address=100, capacity=3, reserve=0),
                          Admission(per_address=100)):
            closes = [self.open(admission, f"p:{n}") for n in range(10)]
            self.assertEqual(sum(map(len, closes)), 0)

    @given(st.lists(st.tuples(st.sampled_from(["open", "settle", "close"]), st.integers(0, 9)),
                    max_size=150))
    def test_only_the_oldest_unsettled_is_closed_and_only_when_crowded(self, steps):
        admission = Admission(per_address=100, capacity=8, reserve=8, share=100)
        unsettled, settled, closed = [], set(), []  # the model: unsettled oldest first
        opened = 0
        for action, n in steps:
            if action == "open":
                peer = f"p:{opened}"
                opened += 1
                crowded = 8 - (admission.total + 1) < 2
                victim = unsettled[0] if crowded and unsettled else None
                admission.admit("a", peer, lambda peer=peer: closed.append(peer))
                if victim is not None:
                    self.assertEqual(closed[-1], victim)
                    unsettled.pop(0)
                    admission.release("a", victim)  # its connectionLost
                unsettled.append(peer)
            elif action == "settle" and unsettled:
                peer = unsettled.pop(n % len(unsettled))
                admission.settle(peer)
                settled.add(peer)
            elif action == "close" and unsettled:
                admission.release("a", unsettled.pop(n % len(unsettled)))
            self.assertFalse(settled & set(closed), "a settled connection was closed")
            self.assertEqual(admission.unsettled(), len(unsettled))


class LogThrottleTests(SynchronousTestCase):
    def test_one_line_per_interval_counting_the_rest(self):
        throttle = LogThrottle(10)
        self.assertEqual(throttle.allow(0), 0)
        self.assertIsNone(throttle.allow(1))
        self.assertIsNone(throttle.allow(9.9))
        self.assertEqual(throttle.allow(10), 2)
        self.assertEqual(throttle.allow(100), 0)


class DescriptorTests(SynchronousTestCase):
    def test_limit_and_open_descriptors_are_read(self):
        limit = descriptor_limit()
        opened = open_descriptors()
        self.assertGreater(opened, 2)  # stdin, stdout, stderr at least
        if limit is not None:
            self.assertLessEqual(opened, limit)


class Echo(Protocol):
    pass


class SnifferAdmissionTests(SynchronousTestCase):
    def setUp(self):
        self.clock = Clock()
        self.admission = Admission(per_address=2)
        self.factory = SniffingFactory({Route.JIM: Factory.forProtocol(Echo)}, self.clock,
                                       admission=self.admission)
        self.events = EventLoggingObserver.createWithCleanup(self, globalLogPublisher)

    def connect(self, host, port=1000):
        addr = (IPv6Address if ":" in host else IPv4Address)("TCP", host, port)
        protocol = self.factory.buildProtocol(addr)
        if protocol is not None:
            protocol.makeConnection(StringTransport(peerAddress=addr))
        return protocol

    def test_the_connection_over_the_cap_is_refused_and_logged_once_per_interval(self):
        first = self.connect("192.0.2.1")
        self.connect("::ffff:192.0.2.1")  # the same address, through a dual-stack socket
        self.assertIsNone(self.connect("192.0.2.1"))
        self.assertIsNone(self.connect("192.0.2.1"))
        self.assertIsNotNone(self.connect("192.0.2.2"))
        refusals = [e for e in self.events if "refusal" in e]
        self.assertEqual(len(refusals), 1)
        self.assertEqual(refusals[0]["refusal"], OVER_CAP)
        self.assertEqual(refusals[0]["peer"], "192.0.2.1:1000")
        first.connectionLost(Failure(ConnectionDone()))
        self.assertIsNotNone(self.connect("192.0.2.1"))
        self.clock.advance(REFUSAL_LOG_INTERVAL)
        self.assertIsNone(self.connect("192.0.2.1"))
        refusals = [e for e in self.events if "refusal" in e]
        self.assertEqual([e["unlogged"] for e in refusals], [0, 1])

    def test_every_connection_is_released_once_whatever_its_route(self):
        protocols = [self.connect("192.0.2.1"), self.connect("192.0.2.9")]
        protocols[0].dataReceived(b"\x01\x51")  # handed over to J-IM
        protocols[1].dataReceived(b"\xff")  # unroutable: dropped
        self.assertEqual(self.admission.total, 2)
        for protocol in protocols:
            protocol.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(self.admission.total, 0)

    def test_when_crowded_a_new_connection_closes_the_oldest_not_logged_in(self):
        admission = Admission(per_address=100, capacity=5, reserve=4, share=100)
        factory = SniffingFactory({Route.JIM: Factory.forProtocol(Echo),
                                   Route.HTTP: Factory.forProtocol(Echo)}, self.clock,
                                  admission=admission)
        self.factory = factory
        http = self.connect("192.0.2.1", 1)
        http.dataReceived(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")  # to HTTP: settled
        jim_logged_in = self.connect("192.0.2.2", 2)
        jim_logged_in.dataReceived(b"\x01\x51")
        admission.settle("192.0.2.2:2")  # what the session says at its login
        sniffing = self.connect("192.0.2.3", 3)
        jim_waiting = self.connect("192.0.2.4", 4)
        jim_waiting.dataReceived(b"\x01\x51")
        self.assertFalse(any(p.transport.disconnecting for p in (http, jim_logged_in, sniffing,
                                                                 jim_waiting)))
        self.connect("192.0.2.5", 5)  # 5 of 5: the oldest unsettled makes room
        self.assertTrue(sniffing.transport.disconnecting)
        self.assertFalse(any(p.transport.disconnecting for p in (http, jim_logged_in,
                                                                 jim_waiting)))
        sheds = [e for e in self.events if "unsettled" in e]
        self.assertEqual(len(sheds), 1)
        self.assertEqual(sheds[0]["peer"], "192.0.2.3:3")

    def test_a_unix_socket_is_counted_but_not_capped(self):
        for _ in range(3):
            protocol = self.factory.buildProtocol(UNIXAddress(b"/sock"))
            self.assertIsNotNone(protocol)
        self.assertEqual(self.admission.total, 3)

    def test_without_admission_nothing_is_counted(self):
        factory = SniffingFactory({Route.JIM: Factory.forProtocol(Echo)}, self.clock)
        protocol = factory.buildProtocol(IPv4Address("TCP", "192.0.2.1", 1))
        protocol.makeConnection(StringTransport())
        protocol.connectionLost(Failure(ConnectionDone()))
