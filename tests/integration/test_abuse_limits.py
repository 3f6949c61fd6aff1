"""Slow clients and connection floods, over real sockets on loopback: a request trickling its
body is cut at its deadline with a 408 while others are served, and one address cannot open
more than its share of connections while another address still can.

Linux routes all of 127/8 to the loopback interface, so a client socket bound to 127.0.0.2 is
another client address.
"""
import json
import time

from twisted.internet import reactor
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.task import LoopingCall, deferLater
from twisted.trial.unittest import TestCase
from twisted.web.client import Agent

from jim.net.admission import RESERVE_SHARE
from tests.integration.test_one_port import Raw
from tests.support.bodies import read_body
from tests.support.inprocess import start_jim
from tests.support.jimclient import TIMEOUT, TcpClient

OTHER_ADDRESS = "127.0.0.2"


def endpoint(port, source="127.0.0.1"):
    return TCP4ClientEndpoint(reactor, "127.0.0.1", port, timeout=TIMEOUT,
                              bindAddress=(source, 0))


async def jim_client(port, testcase, source="127.0.0.1"):
    client = await connectProtocol(endpoint(port, source), TcpClient())
    testcase.addCleanup(client.disconnect)
    return client


class SlowBodyTests(TestCase):
    timeout = 60

    async def test_a_trickled_body_is_cut_with_408_while_others_are_served(self):
        jim = await start_jim(self, limits={"http_request_timeout": 1.5,
                                            "http_min_body_rate": 1024})
        alice = await jim_client(jim.port, self)
        bob = await jim_client(jim.port, self)
        await alice.login("alice")
        await bob.login("bob")

        slow = await connectProtocol(endpoint(jim.port), Raw())
        slow.transport.write(b"POST /api/x HTTP/1.1\r\nHost: localhost\r\n"
                             b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
        trickle = LoopingCall(lambda: slow.transport.write(b" "))
        trickle.clock = reactor
        trickle.start(0.2, now=False)
        self.addCleanup(slow.transport.abortConnection)
        self.addCleanup(lambda: trickle.running and trickle.stop())
        started = time.monotonic()

        # meanwhile, another client's requests and chats are served
        agent = Agent(reactor)
        served = 0
        while not slow.closed.called:
            response = await agent.request(b"GET", f"http://127.0.0.1:{jim.port}/healthz".encode())
            self.assertEqual(json.loads(await read_body(response))["status"], "ok")
            alice.send(11, {"cmd": 11, "chatType": 2, "to": "bob", "content": f"m{served}"})
            self.assertEqual((await alice.expect(12))["code"], 10000)
            self.assertEqual((await bob.expect(11))["data"]["content"], f"m{served}")
            served += 1
            await deferLater(reactor, 0.1, lambda: None)
            self.assertLess(time.monotonic() - started, 10, "the trickling request was not cut")
        answer = await slow.closed
        elapsed = time.monotonic() - started
        trickle.stop()
        self.assertTrue(answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n"), answer)
        self.assertGreaterEqual(elapsed, 1.4)
        self.assertLess(elapsed, 5.0)
        self.assertGreater(served, 3)


class ConnectionsPerAddressTests(TestCase):
    timeout = 60

    async def test_the_connection_over_the_cap_is_refused_but_another_address_gets_in(self):
        cap = 5
        jim = await start_jim(self, limits={"max_connections_per_address": cap})
        held = []
        for _ in range(cap):
            # HTTP, J-IM and still-sniffing connections all count
            held.append(await connectProtocol(endpoint(jim.port), Raw()))
        held[0].transport.write(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        held[1].transport.write(b"\x01")
        self.addCleanup(lambda: [p.transport.abortConnection() for p in held])
        await deferLater(reactor, 0.2, lambda: None)

        refused = await connectProtocol(endpoint(jim.port), Raw())
        self.assertEqual(await refused.closed.addTimeout(TIMEOUT, reactor), b"")

        other = await jim_client(jim.port, self, OTHER_ADDRESS)
        await other.login("carol")
        self.assertEqual((await other.request(13, {"cmd": 13}, 13))["command"], 13)
        self.assertFalse(any(p.closed.called for p in held))

        # one closes: its address may connect again
        held[2].transport.loseConnection()
        await held[2].closed
        await deferLater(reactor, 0.1, lambda: None)
        again = await jim_client(jim.port, self)
        await again.login("dave")


class DescriptorReserveTests(TestCase):
    timeout = 60

    async def test_near_the_limit_an_address_holding_many_is_refused_a_new_one_logs_in(self):
        jim = await start_jim(self)
        admission = jim.admission
        # as if the process had descriptors for only 20 more connections, 10 of them reserve
        admission.capacity, admission.reserve = admission.total + 20, 10
        held = []
        self.addCleanup(lambda: [p.transport.abortConnection() for p in held])
        while admission.held("127.0.0.1") < RESERVE_SHARE:
            held.append(await connectProtocol(endpoint(jim.port), Raw()))
            await deferLater(reactor, 0.01, lambda: None)
        self.assertTrue(admission.low())
        refused = await connectProtocol(endpoint(jim.port), Raw())
        self.assertEqual(await refused.closed.addTimeout(TIMEOUT, reactor), b"")
        newcomer = await jim_client(jim.port, self, OTHER_ADDRESS)
        await newcomer.login("erin")
        self.assertFalse(any(p.closed.called for p in held))

    async def test_when_even_the_reserve_runs_out_connections_not_logged_in_make_room(self):
        jim = await start_jim(self)
        admission = jim.admission
        alice = await jim_client(jim.port, self, "127.0.0.3")
        await alice.login("alice")
        # room for 10 more connections; fewer than 8 // 4 = 2 left is crowded
        admission.capacity, admission.reserve = admission.total + 10, 8
        idle = []  # from four addresses, each well under its share: never logging in
        self.addCleanup(lambda: [p.transport.abortConnection() for p in idle])
        for n in range(12):
            idle.append(await connectProtocol(endpoint(jim.port, f"127.0.0.{4 + n % 4}"), Raw()))
            if n % 2:
                idle[-1].transport.write(b"\x01")  # J-IM's handshake byte, then nothing
            await deferLater(reactor, 0.01, lambda: None)
        newcomer = await jim_client(jim.port, self, OTHER_ADDRESS)
        await newcomer.login("erin")
        await deferLater(reactor, 0.1, lambda: None)

        closed = [p for p in idle if p.closed.called]
        self.assertGreaterEqual(len(closed), 4, "the 9th to 12th each made room")
        self.assertEqual(closed, idle[:len(closed)], "the oldest went first")
        self.assertGreaterEqual(admission.shed, 4)
        for client in (alice, newcomer):  # logged in: never closed to make room
            self.assertEqual((await client.request(13, {"cmd": 13}, 13))["command"], 13)
