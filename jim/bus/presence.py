# -*- test-case-name: tests.test_bus_presence -*-
"""Who is online across the cluster, as one node sees it.

L{ClusterPresence} is an L{IPresence} that answers from memory (the chat hot path asks it for
every message): this node's connections exactly, and every other node's as they announced
them on the bus. Changes to this node's connections are handed to C{on_change}, which the
Redis bus writes to Redis and announces; other nodes' changes come in through L{remote_up},
L{remote_down}, L{drop_node} and L{replace_node}.
"""
from twisted.internet import defer
from zope.interface import implementer

from jim.interfaces import IPresence


@implementer(IPresence)
class ClusterPresence:
    """@ivar on_change: C{on_change(up, app, username, connection_id, device)} for each
        change to this node's connections (None: nobody listens)."""

    def __init__(self, node, clock, announce_timeout=2.0):
        self.node = node
        self.on_change = None
        self._clock = clock
        self._announce_timeout = announce_timeout
        self._announcing = {}  # connection id -> Deferred fired when its "up" went round
        self._connections = {}  # (app, username) -> {connection id: (node, device)}
        self._by_node = {}  # node -> {connection id: (app, username)}
        self._here = {}  # (app, username) -> how many connections they have on this node
        #: how many connections were noted or forgotten so far: while it stays the same, so
        #: does every answer of L{nodes_of}
        self.changes = 0

    # -- IPresence -------------------------------------------------------------------------

    def connect(self, app, username, connection_id, device):
        first = self._add(self.node, app, username, connection_id, device)
        if self.on_change is not None:
            timeout = self._clock.callLater(self._announce_timeout, self.went_round,
                                            connection_id)
            self._announcing[connection_id] = (timeout, [])
            self.on_change(True, app, username, connection_id, device)
        return first

    def disconnect(self, app, username, connection_id):
        mine = self._by_node.get(self.node, {})
        if mine.get(connection_id) != (app, username):
            return False
        last = self._remove(self.node, connection_id)
        if self.on_change is not None:
            self.on_change(False, app, username, connection_id, None)
        return last

    def is_online(self, app, username):
        return (app, username) in self._connections

    def announced(self, connection_id):
        announcing = self._announcing.get(connection_id)
        if announcing is None:
            return defer.succeed(None)  # not announcing (gone already, or announced)
        done = defer.Deferred()
        announcing[1].append(done)
        return done

    def went_round(self, connection_id):
        """This node's announcement of C{connection_id} came back from the bus (or could not
        be made, or took too long): whoever waits for it goes on."""
        timeout, waiting = self._announcing.pop(connection_id, (None, ()))
        if timeout is not None and timeout.active():
            timeout.cancel()
        for done in waiting:
            done.callback(None)

    def stop_announcing(self):
        """The bus stops: nobody waits for an announcement any longer."""
        for connection_id in list(self._announcing):
            self.went_round(connection_id)

    def online_among(self, app, usernames):
        connections = self._connections
        return [username for username in usernames if (app, username) in connections]

    def connections(self, app, username):
        held = self._connections.get((app, username), {})
        return [(connection_id, device) for connection_id, (_, device) in held.items()]

    def online_users(self):
        return len(self._connections)

    # -- what the bus asks -----------------------------------------------------------------

    def is_here(self, app, username):
        """Whether the user has a connection on this node."""
        return (app, username) in self._here

    def absent(self, app, usernames):
        """Those of C{usernames} with no connection on this node (every delivery that comes
        in asks, for each of its recipients)."""
        here = self._here
        return [username for username in usernames if (app, username) not in here]

    def online_beyond(self, app, username, node):
        """Whether the user has a connection on a node other than C{node}."""
        held = self._connections.get((app, username))
        return held is not None and any(n != node for n, _ in held.values())

    def nodes_of(self, app, usernames, exclude=None):
        """C{{node: [username, ...]}}: the nodes where these users have connections (a user
        on two nodes is listed under both; users online nowhere are left out, and so is a user
        whose one connection is C{exclude}: a private message's sender, whose sending
        connection is not sent its copy)."""
        found = {}
        connections = self._connections
        for username in usernames:
            held = connections.get((app, username))
            if held is None:
                continue
            if len(held) == 1:  # one connection, the usual case: one node
                if exclude in held:
                    continue
                for node, _ in held.values():
                    found.setdefault(node, []).append(username)
                continue
            for node in {node for node, _ in held.values()}:
                found.setdefault(node, []).append(username)
        return found

    def local_connections(self):
        """C{[(connection id, app, username, device), ...]} of this node."""
        return [(connection_id, app, username, self._connections[(app, username)][connection_id][1])
                for connection_id, (app, username) in self._by_node.get(self.node, {}).items()]

    def remote_up(self, node, app, username, connection_id, device):
        if node != self.node:
            self._add(node, app, username, connection_id, device)

    def remote_down(self, node, app, username, connection_id):
        if node != self.node and self._by_node.get(node, {}).get(connection_id) == (app, username):
            self._remove(node, connection_id)

    def drop_node(self, node, held=()):
        """Forget every connection of C{node} (it stopped, or its presence expired); the
        C{(app, username)} of the users who are now online nowhere. C{held}: the node's
        connections as it wrote them (C{[(connection id, app, username, device), ...]}, read
        from Redis), counted with those this node knew of it: a node that started after it
        died heard none of its announcements."""
        if node == self.node:
            return []
        known = dict(self._by_node.get(node, {}))
        gone = []
        for connection_id, user in known.items():
            if self._remove(node, connection_id):
                gone.append(user)
        self._by_node.pop(node, None)
        told = set(gone)
        for connection_id, app, username, _ in held:
            user = (app, username)
            if connection_id not in known and user not in told and user not in self._connections:
                told.add(user)
                gone.append(user)
        return gone

    def replace_node(self, node, entries):
        """What another node says it holds now, C{[(connection id, app, username,
        device), ...]}, replaces what this node knew of it."""
        if node == self.node:
            return
        self.drop_node(node)
        for connection_id, app, username, device in entries:
            self._add(node, app, username, connection_id, device)

    def remote_nodes(self):
        return [node for node in self._by_node if node != self.node]

    # -- the two tables, kept in step ------------------------------------------------------

    def _add(self, node, app, username, connection_id, device):
        """Note a connection; True if it is the user's first anywhere."""
        self.changes += 1
        held = self._connections.get((app, username))
        first = held is None
        if first:
            held = self._connections[(app, username)] = {}
        on_node = self._by_node.setdefault(node, {})
        if node == self.node:
            before = on_node.get(connection_id)
            if before != (app, username):
                if before is not None:
                    self._leave(before)
                self._here[(app, username)] = self._here.get((app, username), 0) + 1
        held[connection_id] = (node, device)
        on_node[connection_id] = (app, username)
        return first

    def _remove(self, node, connection_id):
        """Forget a connection; True if it was the user's last anywhere."""
        user = self._by_node.get(node, {}).pop(connection_id, None)
        if user is None:
            return False
        self.changes += 1
        if node == self.node:
            self._leave(user)
        held = self._connections.get(user)
        if held is None or held.pop(connection_id, None) is None:
            return False
        if held:
            return False
        del self._connections[user]
        return True

    def _leave(self, user):
        """One connection fewer of C{user} on this node."""
        left = self._here.pop(user, 0) - 1
        if left > 0:
            self._here[user] = left
