# -*- test-case-name: tests.test_bus_local -*-
"""The bus and presence of a single node.

L{LocalBus} hands every published value to its subscribers at once, in the publisher's turn, so
a delivery costs a function call; a value a subscriber publishes waits until the one it handles
has reached every subscriber. With C{wire=True} it passes each value through its wire form
(L{jim.wire.busjson}) first, as a bus between nodes must: tests run the whole server that way
to prove that nothing the core publishes depends on being the same object.
"""
import collections
import itertools

from twisted.internet import defer
from twisted.logger import Logger
from zope.interface import implementer

from jim.interfaces import IBus, IPresence
from jim.model import BUS_VALUES
from jim.wire import busjson

_nodes = itertools.count(1)


@implementer(IBus)
class LocalBus:
    log = Logger()

    def __init__(self, node=None, wire=False, metrics=None):
        self.node = node or f"n{next(_nodes)}"
        self.node_number = 0
        self.lost = None  # and has no other node to lose
        self.shared = False
        self._wire = wire
        self._metrics = metrics
        self._handlers = {kind: [] for kind in BUS_VALUES}  # a value's type -> its handlers
        self._handing_out = False
        self._later = collections.deque()  # values published while one is handed out

    def start(self):
        return defer.succeed(None)

    def stop(self):
        return defer.succeed(None)

    def flushed(self):
        return defer.succeed(None)  # handed out already, to every subscriber there is

    def subscribe(self, handler, kinds=BUS_VALUES):
        for kind in kinds:
            self._handlers[kind].append(handler)

    def announcement(self, delivery):
        return None  # no other node: nothing goes with a commit

    def publish_announced(self, delivery, announced):
        self.publish(delivery)

    def publish(self, value):
        if self._wire:
            value = busjson.decode(busjson.encode(value))
        if self._metrics is not None:
            self._metrics.bus_values += 1
        if self._handing_out:
            # a subscriber publishes: the value it handles goes to the subscribers after it
            # first, so that every subscriber sees values in the order they were published
            self._later.append(value)
            return
        self._handing_out = True
        try:
            for handler in self._handlers[type(value)]:  # _hand_out, without its call
                try:
                    handler(value)
                except Exception:
                    self._failed(value)
            while self._later:
                self._hand_out(self._later.popleft())
        finally:
            self._handing_out = False

    def _hand_out(self, value):
        for handler in self._handlers[type(value)]:
            try:
                handler(value)
            except Exception:  # one broken subscriber must not keep the value from the others
                self._failed(value)

    def _failed(self, value):
        self.log.failure("a bus subscriber failed on {kind}", kind=type(value).__name__)


@implementer(IPresence)
class LocalPresence:
    """Who is online on this node, which is every node there is."""

    def __init__(self):
        self._connections = {}  # (app, username) -> {connection id: device}, oldest first
        self.changes = 0  # connections noted or forgotten so far

    def connect(self, app, username, connection_id, device):
        self.changes += 1
        connections = self._connections.get((app, username))
        if connections is None:
            self._connections[(app, username)] = {connection_id: device}
            return True
        connections[connection_id] = device
        return False

    def disconnect(self, app, username, connection_id):
        key = (app, username)
        connections = self._connections.get(key)
        if connections is None or connections.pop(connection_id, None) is None:
            return False
        self.changes += 1
        if connections:
            return False
        del self._connections[key]
        return True

    def is_online(self, app, username):
        return (app, username) in self._connections

    def announced(self, connection_id):
        return defer.succeed(None)  # this node is every node

    def online_among(self, app, usernames):
        connections = self._connections
        return [username for username in usernames if (app, username) in connections]

    def connections(self, app, username):
        return list(self._connections.get((app, username), {}).items())

    def online_users(self):
        return len(self._connections)
