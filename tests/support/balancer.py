"""A round-robin TCP load balancer in front of a cluster's nodes, for tests: each connection
goes to the next node, so a test written for one server exercises every path between nodes
(its users, REST calls and sockets land on different nodes)."""
import itertools

from twisted.internet import protocol
from twisted.protocols import portforward


class RoundRobin(protocol.Factory):
    """Hands each connection to the next of C{ports} on 127.0.0.1."""

    def __init__(self, ports):
        self._ports = itertools.cycle(ports)

    def buildProtocol(self, addr):
        forward = portforward.ProxyServer()
        forward.factory = portforward.ProxyFactory("127.0.0.1", next(self._ports))
        return forward
