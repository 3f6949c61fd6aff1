# -*- test-case-name: tests.test_bus_redis -*-
"""The bus and presence of a cluster: several nodes sharing one Redis (pub/sub).

Channels: C{jim:bus} goes to every node (kicks, invalidations, presence changes; each payload
starts with the node that sent it, which skips its own); C{jim:bus:NODE} to one node (the
deliveries for users connected there). A delivery is split by the nodes its recipients are
connected to (L{ClusterPresence} knows): this node's part is handed out at once, as the
single-node bus does; each other node gets the part for its users. Publishing goes through one
connection, so every node receives what one node published in the order it was published.

Redis pub/sub keeps nothing for a node that is not listening. So a message a node was sent for
users it no longer has, or that no node received (Redis answered PUBLISH with 0 listeners, or
could not be reached) is handed to C{missed}: the core keeps it as an offline message for them.

Presence: each node keeps its connections in the hash C{jim:presence:NODE} (connection id ->
C{[app, username, terminal]}) and announces every change on C{jim:bus}. It beats every
C{expiry / 3} seconds into the sorted set C{jim:nodes} (node -> Redis time of its last beat, in
ms); a node whose beat is older than C{expiry} is taken as dead by the first node to see it,
which deletes its presence and announces it gone: its users are then offline everywhere. After
every (re)subscription a node writes its own presence again and reads every other node's,
because it may have missed announcements. Each node also holds an event-id number (0 to 15,
C{jim:node-number:N}) for as long as it beats.
"""
import os
import socket

import orjson
from twisted.internet import defer
from twisted.internet.task import LoopingCall
from twisted.logger import Logger
from zope.interface import implementer

from jim.bus.local import LocalBus
from jim.bus.presence import ClusterPresence
from jim.interfaces import IBus
from jim.model import (
    APPS_AREA, BUS_VALUES, EVERY_APP, GROUPS_AREA, RELATIONS_AREA, USERS_AREA, Delivery,
    Invalidate, Message,
)
from jim.redis.client import RedisClient, Script
from jim.redis.listener import Listener
from jim.wire import busjson

BROADCAST = "jim:bus"
NODES = "jim:nodes"
#: how many nodes may share one Redis: an event id has 4 bits for the node
NODE_NUMBERS = 16

#: the beat: note this node alive (by Redis's clock), keep its presence hash and number from
#: expiring, and take out of the set (once, whoever sees it first) every node gone silent.
#: Its reply: "1" if this node was not in the set (another node took it for dead, or Redis
#: lost it), then the nodes taken out
_BEAT = Script("beat", """
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local expiry = tonumber(ARGV[2])
local fresh = redis.call('ZADD', KEYS[1], ms, ARGV[1])
redis.call('PEXPIRE', KEYS[2], expiry * 3)
if redis.call('GET', KEYS[3]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[3], expiry)
else
  redis.call('SET', KEYS[3], ARGV[1], 'PX', expiry, 'NX')
end
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ms - expiry)
for _, node in ipairs(dead) do redis.call('ZREM', KEYS[1], node) end
table.insert(dead, 1, tostring(fresh))
return dead
""")

#: the first free event-id number, taken for this node (-1: every number is taken)
_CLAIM = Script("claim-number", """
for i = 1, #KEYS do
  if redis.call('SET', KEYS[i], ARGV[1], 'PX', ARGV[2], 'NX') then return i - 1 end
end
return -1
""")


def new_node_id():
    """A node id no other node has: the host, the process, and random bits."""
    return f"{socket.gethostname()[:32]}-{os.getpid()}-{os.urandom(4).hex()}"


def node_channel(node):
    return f"jim:bus:{node}"


def presence_key(node):
    return f"jim:presence:{node}"


def number_key(number):
    return f"jim:node-number:{number}"


@implementer(IBus)
class RedisBus:
    """The L{IBus} of a cluster over the Redis at C{address}; its L{ClusterPresence} is
    C{self.presence}.

    @param expiry: seconds after its last beat a node is taken as dead.
    @ivar missed: C{missed(delivery, usernames)}: a message for these users reached nobody.
    @ivar node_number: this node's event-id number (0 to 15), once started.
    """

    log = Logger()

    def __init__(self, address, reactor, node=None, metrics=None, expiry=30.0, ping_every=5.0,
                 timeout=5.0):
        self.node = node or new_node_id()
        self.node_number = None
        self.presence = ClusterPresence(self.node, reactor)
        self.presence.on_change = self._presence_changed
        self.missed = None
        self._reactor = reactor
        self._metrics = metrics
        self._expiry_ms = int(expiry * 1000)
        self._local = LocalBus(node=self.node)
        # one connection: what this node publishes reaches every node in order
        self._client = RedisClient(address, reactor, timeout=timeout, poolsize=1)
        self._listener = Listener(address, reactor, [BROADCAST.encode(),
                                                     node_channel(self.node).encode()],
                                  self._received, self._subscribed, ping_every)
        self._beaten = False  # a first beat always adds this node
        self._stopped = False
        self._resync = None  # the DelayedCall of a presence announcement to make again
        self._subscriptions = 0
        self._beating = LoopingCall(self._beat)
        self._beating.clock = reactor
        self._beat_every = expiry / 3

    # -- IBus ------------------------------------------------------------------------------

    async def _start(self):
        await self._client.start()
        number = await self._client.run(_CLAIM, [number_key(n) for n in range(NODE_NUMBERS)],
                                        [self.node, self._expiry_ms])
        if number < 0:
            await self._client.stop()
            raise RuntimeError(f"{NODE_NUMBERS} nodes already share this Redis: no event-id"
                               " number is free (a node that died frees its own after the"
                               " presence expiry)")
        self.node_number = number
        await self._listener.start()
        self._beating.start(self._beat_every, now=True)
        self.log.info("bus: node {node} (number {number}) on Redis at {address}",
                      node=self.node, number=number, address=self._client.address.describe())

    def start(self):
        return defer.ensureDeferred(self._start())

    async def _stop(self):
        if self._stopped:
            return
        self._stopped = True
        self.presence.stop_announcing()
        if self._resync is not None and self._resync.active():
            self._resync.cancel()
        if self._beating.running:
            self._beating.stop()
        await self._listener.stop()
        try:  # leave at once rather than after the expiry
            await self._client.call("ZREM", NODES, self.node)
            await self._client.call("DEL", presence_key(self.node))
            await self._client.call("PUBLISH", BROADCAST, f"{self.node}\ngone {self.node}")
            if self.node_number is not None:
                await self._client.run(_RELEASE, [number_key(self.node_number)], [self.node])
        except Exception:
            self.log.failure("bus: could not tell the cluster this node is leaving")
        await self._client.stop()

    def stop(self):
        return defer.ensureDeferred(self._stop())

    def subscribe(self, handler, kinds=BUS_VALUES):
        self._local.subscribe(handler, kinds)

    def publish(self, value):
        if self._metrics is not None:
            self._metrics.bus_values += 1
        if type(value) is Delivery:
            self._route(value)
            return
        self._local.publish(value)
        self._send(BROADCAST, f"{self.node}\nbus ".encode() + busjson.encode(value))

    # -- deliveries ------------------------------------------------------------------------

    def _route(self, delivery):
        nodes = self.presence.nodes_of(delivery.app, delivery.recipients)
        mine = nodes.pop(self.node, None)
        for node, names in nodes.items():
            part = delivery._replace(recipients=tuple(names))
            self._send(node_channel(node), busjson.encode(part), part, node)
        if mine:
            if len(mine) != len(delivery.recipients):
                delivery = delivery._replace(recipients=tuple(mine))
            self._local.publish(delivery)

    def _send(self, channel, payload, delivery=None, node=None):
        sent = self._client.call("PUBLISH", channel, payload)
        if delivery is None:
            sent.addErrback(self._publish_failed, channel)
        else:
            sent.addCallbacks(self._delivered, self._not_delivered, callbackArgs=(delivery, node),
                              errbackArgs=(delivery, channel, node))

    def _delivered(self, listeners, delivery, node):
        if listeners == 0:  # that node is gone, or between connections
            self._report_missed(delivery, self._only_on(delivery, node))

    def _not_delivered(self, failure, delivery, channel, node):
        self._publish_failed(failure, channel)
        self._report_missed(delivery, self._only_on(delivery, node))

    def _only_on(self, delivery, node):
        """The recipients of C{delivery} connected to no node but C{node}."""
        beyond = self.presence.online_beyond
        return [u for u in delivery.recipients if not beyond(delivery.app, u, node)]

    def _publish_failed(self, failure, channel):
        self.log.warn("bus: could not publish to {channel}: {why}", channel=channel,
                      why=failure.getErrorMessage())

    def _report_missed(self, delivery, usernames):
        item = delivery.item
        if self.missed is None or type(item) is not Message or item.no_offline or not usernames:
            return
        try:
            self.missed(delivery, tuple(usernames))
        except Exception:
            self.log.failure("bus: keeping a missed message for later failed")

    # -- what comes in ---------------------------------------------------------------------

    def _received(self, channel, payload):
        if channel == self._listener_channel_self():
            delivery = busjson.decode(payload)
            if type(delivery) is Delivery:
                here = self.presence.is_here
                gone = [u for u in delivery.recipients if not here(delivery.app, u)]
                if gone:  # left since the sender looked: unless they are on a third node
                    beyond = self.presence.online_beyond
                    self._report_missed(delivery, [u for u in gone
                                                   if not beyond(delivery.app, u, self.node)])
            self._local.publish(delivery)
            return
        origin, _, rest = payload.partition(b"\n")
        kind, _, body = rest.partition(b" ")
        if origin.decode() == self.node:
            if kind == b"up":  # this node's own announcement went round
                self.presence.went_round(orjson.loads(body)[2])
            return
        if kind == b"bus":
            self._local.publish(busjson.decode(body))
        elif kind == b"up":
            app, username, connection_id, terminal = orjson.loads(body)
            self.presence.remote_up(origin.decode(), app, username, connection_id, terminal)
        elif kind == b"down":
            app, username, connection_id = orjson.loads(body)
            self.presence.remote_down(origin.decode(), app, username, connection_id)
        elif kind == b"sync":
            self.presence.replace_node(origin.decode(),
                                       [tuple(entry) for entry in orjson.loads(body)])
        elif kind == b"gone":
            self.presence.drop_node(body.decode())
        else:
            self.log.warn("bus: unknown announcement {kind!r} from {origin}", kind=kind[:32],
                          origin=origin[:64])

    def _listener_channel_self(self):
        return node_channel(self.node).encode()

    # -- presence --------------------------------------------------------------------------

    def _presence_changed(self, up, app, username, connection_id, terminal):
        key = presence_key(self.node)
        if up:
            written = self._client.call("HSET", key, connection_id,
                                        orjson.dumps([app, username, terminal]))
            body = orjson.dumps([app, username, connection_id, terminal])
            sent = self._client.call("PUBLISH", BROADCAST, f"{self.node}\nup ".encode() + body)
            sent.addErrback(self._announce_failed, connection_id)
        else:
            written = self._client.call("HDEL", key, connection_id)
            body = orjson.dumps([app, username, connection_id])
            sent = self._client.call("PUBLISH", BROADCAST, f"{self.node}\ndown ".encode() + body)
            sent.addErrback(self._announce_failed, None)
        written.addErrback(self._announce_failed, None)

    def _announce_failed(self, failure, connection_id):
        self._publish_failed(failure, BROADCAST)
        if connection_id is not None:
            self.presence.went_round(connection_id)  # no echo will come: the login goes on
        self._resync_soon()

    def _subscribed(self):
        """After every (re)subscription: write this node's presence again, read the others';
        after a resubscription also forget every cache (invalidations may have been missed
        meanwhile) and check every local user again (kicks too)."""
        if self._subscriptions:
            self.log.warn("bus: back on Redis after a break: forgetting every cache")
            for area in (USERS_AREA, RELATIONS_AREA, GROUPS_AREA, APPS_AREA):
                self._local.publish(Invalidate(area, EVERY_APP, "", ""))
        self._subscriptions += 1
        defer.ensureDeferred(self._catch_up()).addErrback(
            lambda f: self.log.failure("bus: catching up with the cluster failed", f))

    def _announce_all(self):
        """Write this node's presence hash anew and tell every node this node's whole list
        (C{sync}: it replaces what they knew of this node, ghosts included). The commands
        leave together, in order, on the one publishing connection: no change to this
        node's connections can come between them. Fires when Redis answered them all."""
        key = presence_key(self.node)
        mine = self.presence.local_connections()
        writes = [self._client.call("DEL", key)]
        if mine:
            fields = []
            for connection_id, app, username, terminal in mine:
                fields += [connection_id, orjson.dumps([app, username, terminal])]
            writes.append(self._client.call("HSET", key, *fields))
        body = orjson.dumps([[c, app, user, terminal] for c, app, user, terminal in mine])
        writes.append(self._client.call("PUBLISH", BROADCAST, f"{self.node}\nsync ".encode()
                                        + body))
        for connection_id, *_ in mine:  # what waits for an "up" may go on
            self.presence.went_round(connection_id)
        return defer.gatherResults(writes, consumeErrors=True)

    def _resync_soon(self):
        """A presence change could not be written or announced: announce the whole list again
        in a second (once, however many changes failed meanwhile)."""
        if self._resync is not None and self._resync.active() or self._stopped:
            return
        self._resync = self._reactor.callLater(1.0, self._resync_now)

    def _resync_now(self):
        self._resync = None
        done = self._announce_all()
        done.addErrback(lambda f: (self.log.warn("bus: presence could not be announced: {why};"
                                                 " trying again", why=f.getErrorMessage()),
                                   self._resync_soon()))

    async def _catch_up(self):
        await self._announce_all()
        await self._beat()
        nodes = await self._client.call("ZRANGE", NODES, 0, -1)
        entries = []
        for node in nodes:
            if node == self.node:
                continue
            held = await self._client.call("HGETALL", presence_key(node))
            for connection_id, value in _pairs(held):
                app, username, terminal = orjson.loads(value)
                entries.append((node, connection_id, app, username, terminal))
        self.presence.replace_remote(entries)

    async def _beat_once(self):
        fresh, *dead = await self._client.run(
            _BEAT, [NODES, presence_key(self.node), number_key(self.node_number)],
            [self.node, self._expiry_ms])
        if fresh == "1" and self._beaten:
            # the others dropped this node (it was silent too long): tell them its users again
            self.log.warn("bus: this node was taken for dead; announcing its users again")
            await self._announce_all()
        self._beaten = True
        for node in dead:
            self.log.warn("bus: node {node} stopped beating: its users are offline", node=node)
            await self._client.call("DEL", presence_key(node))
            await self._client.call("PUBLISH", BROADCAST, f"{self.node}\ngone {node}")
            self.presence.drop_node(node)

    def _beat(self):
        beat = defer.ensureDeferred(self._beat_once())
        beat.addErrback(lambda f: self.log.warn("bus: beat failed: {why}",
                                                why=f.getErrorMessage()))
        return beat


_RELEASE = Script("release-number", """
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0
""")


def _pairs(flat):
    """C{[(field, value), ...]} of an HGETALL reply (a flat list, or a dict)."""
    if isinstance(flat, dict):
        return list(flat.items())
    return list(zip(flat[::2], flat[1::2]))
