# -*- test-case-name: tests.test_bus_redis -*-
"""The presence half of the Redis bus: what a node tells the others about its connections,
and how it finds out that another node died.

Each node keeps its connections in the hash C{jim:presence:NODE} (connection id -> C{[app,
username, device]}) and announces every change on C{jim:bus}: C{up}, C{down}, and C{sync}
(its whole list, which replaces what the others knew of it: sent after a break, or after a
change could not be written). It beats every C{expiry / 3} seconds into the sorted set
C{jim:nodes} (node -> Redis time of its last beat, in ms); a node whose beat is older than
C{expiry} is taken as dead by the first node to see it, which deletes its presence and
announces it C{gone}: its users are then offline everywhere. After every (re)subscription a
node forgets the nodes that died meanwhile, announces its list and asks the others for theirs
(C{hello}), since it may have missed announcements. Each node also holds an event-id number (0 to 15, C{jim:node-number:N}) for as
long as it beats.
"""
import orjson
from twisted.internet import defer
from twisted.internet.task import LoopingCall
from twisted.logger import Logger

from jim.redis.client import Script

BROADCAST = "jim:bus"
NODES = "jim:nodes"
#: how many nodes may share one Redis: an event id has 4 bits for the node
NODE_NUMBERS = 16

#: the beat: note this node alive (by Redis's clock), keep its presence hash and number from
#: expiring, and take out of the set (once, whoever sees it first) every node gone silent,
#: unless ARGV[3] is '0' (this node has not heard the others' lists yet: it leaves the dead to
#: a node that has). Its reply: "1" if this node was not in the set (another node took it for
#: dead, or Redis lost it), "1" if its event-id number is still its own, then the nodes taken
#: out
_BEAT = Script("beat", """
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local expiry = tonumber(ARGV[2])
local fresh = redis.call('ZADD', KEYS[1], ms, ARGV[1])
redis.call('PEXPIRE', KEYS[2], expiry * 3)
local mine = '1'
if redis.call('GET', KEYS[3]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[3], expiry)
elseif not redis.call('SET', KEYS[3], ARGV[1], 'PX', expiry, 'NX') then
  mine = '0'
end
local dead = {}
if ARGV[3] ~= '0' then
  dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ms - expiry)
  for _, node in ipairs(dead) do redis.call('ZREM', KEYS[1], node) end
end
table.insert(dead, 1, mine)
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

_RELEASE = Script("release-number", """
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0
""")


class NoNodeNumber(ValueError):
    """Every event-id number is held: this node cannot join. A ValueError, as a limit of the
    configuration (L{NODE_NUMBERS} nodes a Redis), not a bug: a node refused for it says so in
    one line (L{jim.service})."""


def presence_key(node):
    return f"jim:presence:{node}"


def number_key(number):
    return f"jim:node-number:{number}"


def _entries(held):
    """C{[(connection id, app, username, device), ...]} of a presence hash's HGETALL reply
    (fields and values in turn); an entry that cannot be read is passed over."""
    entries = []
    for i in range(0, len(held) - 1, 2):
        try:
            app, username, device = orjson.loads(held[i + 1])
        except (TypeError, ValueError):
            continue
        connection_id = held[i]
        entries.append((connection_id.decode() if isinstance(connection_id, bytes)
                        else connection_id, app, username, device))
    return entries


class Broadcast:
    """This node's announcements on C{jim:bus}, counted as they leave and as they come back
    (a node hears its own): L{flushed} tells when all it sent so far went round, that is when
    Redis has handed them to every node."""

    def __init__(self, client, node, clock, timeout=2.0):
        self.node = node
        self._client = client
        self._clock = clock
        self._timeout = timeout
        self._sent = 0
        self._back = 0  # heard back, or known never to come back
        self._waiting = []  # [(count to reach, Deferred, its deadline)]

    def send(self, kind, body=b""):
        """Announce C{kind} (bytes or text) with C{body}: a Deferred of Redis's answer."""
        if isinstance(kind, str):
            kind = kind.encode()
        self._sent += 1
        sent = self._client.call(
            "PUBLISH", BROADCAST, self.node.encode() + b"\n" + kind + b" " + body)
        sent.addErrback(self._lost)
        return sent

    def _lost(self, failure):
        self.heard_back()  # it will not come back
        return failure

    def heard_back(self):
        self._back += 1
        self._release()

    def resubscribed(self):
        """What was sent while this node was not listening never comes back to it."""
        self._back = self._sent
        self._release()

    def flushed(self):
        """Fires once what was sent so far went round (or after C{timeout}: never late)."""
        if self._back >= self._sent:
            return defer.succeed(None)
        done = defer.Deferred()
        deadline = self._clock.callLater(self._timeout, self._expire, done)
        self._waiting.append((self._sent, done, deadline))
        return done

    def _expire(self, done):
        self._waiting = [entry for entry in self._waiting if entry[1] is not done]
        done.callback(None)

    def _release(self):
        if not self._waiting:
            return
        keep = []
        for target, done, deadline in self._waiting:
            if target <= self._back:
                deadline.cancel()
                done.callback(None)
            else:
                keep.append((target, done, deadline))
        self._waiting = keep

    def stop(self):
        """Nothing sent will come back: nobody waits for it."""
        self.resubscribed()


class PresenceKeeper:
    """Keeps a L{jim.bus.presence.ClusterPresence} in step with the cluster, through
    C{client} (the bus's one publishing connection: the store's, when the bus is on the
    store's Redis)."""

    log = Logger()

    def __init__(self, client, broadcast, presence, reactor, expiry):
        self.node = presence.node
        self.node_number = None
        self._client = client
        self._broadcast = broadcast
        self._presence = presence
        self._reactor = reactor
        self._expiry_ms = int(expiry * 1000)
        self._beaten = False  # a first beat always adds this node
        # asked the other nodes for their lists (hello) since the last (re)subscription: until
        # then its beats leave dead nodes to others, since it could not tell who of a dead
        # node's users is online elsewhere
        self._caught_up = False
        self._resync = None  # the DelayedCall of a whole announcement to make again
        self._stopped = False
        self._beating = LoopingCall(self._beat)
        self._beating.clock = reactor
        self._beat_every = expiry / 3
        self.on_lost = None  # on_lost(users): the (app, username) a dead node took offline
        presence.on_change = self.changed

    async def claim_number(self):
        """Take a free event-id number; L{NoNodeNumber} when 16 nodes hold them all."""
        number = await self._client.run(_CLAIM, [number_key(n) for n in range(NODE_NUMBERS)],
                                        [self.node, self._expiry_ms])
        if number < 0:
            raise NoNodeNumber(f"{NODE_NUMBERS} nodes already share this Redis: no event-id"
                               " number is free (a node that died frees its own after the"
                               " presence expiry)")
        self.node_number = number
        return number

    def start_beating(self):
        self._beating.start(self._beat_every, now=True)

    async def leave(self):
        """Stop, and tell the cluster at once rather than after the expiry."""
        self._stopped = True
        self._presence.stop_announcing()
        if self._resync is not None and self._resync.active():
            self._resync.cancel()
        if self._beating.running:
            self._beating.stop()
        try:
            await self._client.call("ZREM", NODES, self.node)
            await self._client.call("DEL", presence_key(self.node))
            await self._broadcast.send("gone", self.node.encode())
            if self.node_number is not None:
                await self._client.run(_RELEASE, [number_key(self.node_number)], [self.node])
        except Exception:
            self.log.failure("bus: could not tell the cluster this node is leaving")

    # -- this node's changes ---------------------------------------------------------------

    def changed(self, up, app, username, connection_id, device):
        """A connection of this node came or went: write it, and announce it."""
        key = presence_key(self.node)
        if up:
            written = self._client.call("HSET", key, connection_id,
                                        orjson.dumps([app, username, device]))
            body = orjson.dumps([app, username, connection_id, device])
            sent = self._broadcast.send("up", body)
            sent.addErrback(self._announce_failed, connection_id)
        else:
            written = self._client.call("HDEL", key, connection_id)
            body = orjson.dumps([app, username, connection_id])
            sent = self._broadcast.send("down", body)
            sent.addErrback(self._announce_failed, None)
        written.addErrback(self._announce_failed, None)

    def _announce_failed(self, failure, connection_id):
        self.log.warn("bus: presence could not be written or announced: {why}",
                      why=failure.getErrorMessage())
        if connection_id is not None:
            self._presence.went_round(connection_id)  # no echo will come: the login goes on
        self._resync_soon()

    def announce_all(self):
        """Write this node's presence hash anew and tell every node this node's whole list.
        The commands leave together, in order, on the one publishing connection: no change
        to this node's connections can come between them. Fires when Redis answered."""
        key = presence_key(self.node)
        mine = self._presence.local_connections()
        writes = [self._client.call("DEL", key)]
        if mine:
            fields = []
            for connection_id, app, username, device in mine:
                fields += [connection_id, orjson.dumps([app, username, device])]
            writes.append(self._client.call("HSET", key, *fields))
        body = orjson.dumps([[c, app, user, device] for c, app, user, device in mine])
        writes.append(self._broadcast.send("sync", body))
        for connection_id, *_ in mine:  # what waits for an "up" may go on
            self._presence.went_round(connection_id)
        return defer.gatherResults(writes, consumeErrors=True)

    def _resync_soon(self):
        """Announce the whole list again in a second (once, however many changes failed)."""
        if self._stopped or self._resync is not None and self._resync.active():
            return
        self._resync = self._reactor.callLater(1.0, self._resync_now)

    def _resync_now(self):
        self._resync = None
        self.announce_all().addErrback(lambda f: self._resync_soon())

    # -- the other nodes' --------------------------------------------------------------------

    def heard(self, origin, kind, body):
        """An announcement on C{jim:bus} (bytes) from node C{origin} (text)."""
        presence = self._presence
        if origin == self.node:
            if kind == b"up":  # this node's own announcement went round
                presence.went_round(orjson.loads(body)[2])
        elif kind == b"up":
            app, username, connection_id, device = orjson.loads(body)
            presence.remote_up(origin, app, username, connection_id, device)
        elif kind == b"down":
            app, username, connection_id = orjson.loads(body)
            presence.remote_down(origin, app, username, connection_id)
        elif kind == b"sync":
            presence.replace_node(origin, [tuple(entry) for entry in orjson.loads(body)])
        elif kind == b"gone":
            presence.drop_node(body.decode())
        elif kind == b"hello":  # a node (back) on the bus asks for every node's list
            self.announce_all().addErrback(lambda f: self._resync_soon())
        else:
            self.log.warn("bus: unknown announcement {kind!r} from {origin}", kind=kind[:32],
                          origin=origin[:64])

    async def catch_up(self):
        """After a (re)subscription: forget the nodes that died meanwhile, announce this
        node's list, and ask every other node for its own (C{hello}). Each answers with a
        C{sync} on the channel where its later changes follow, so nothing read here can be
        overtaken by a change made while it was read. From its next beat on, this node may
        take dead nodes out (their lists come before that beat)."""
        self._caught_up = False
        await self._beat()
        alive = set(await self._client.call("ZRANGE", NODES, 0, -1))
        for node in self._presence.remote_nodes():
            if node not in alive:
                self._presence.drop_node(node)
        await self.announce_all()
        await self._broadcast.send("hello")
        self._caught_up = True

    async def _beat_once(self):
        fresh, mine, *dead = await self._client.run(
            _BEAT, [NODES, presence_key(self.node), number_key(self.node_number)],
            [self.node, self._expiry_ms, "1" if self._caught_up else "0"])
        if mine != "1":
            self.log.error("bus: another node took this node's event-id number {number} while"
                           " it was taken for dead: restart this node (event ids may repeat)",
                           number=self.node_number)
        if fresh == "1" and self._beaten:
            # the others dropped this node (it was silent too long): tell them its users again
            self.log.warn("bus: this node was taken for dead; announcing its users again")
            await self.announce_all()
        self._beaten = True
        for node in dead:
            self.log.warn("bus: node {node} stopped beating: its users are offline", node=node)
            # what it held, as it wrote it: this node may have started after it died
            held = await self._client.call("HGETALL", presence_key(node))
            await self._client.call("DEL", presence_key(node))
            await self._broadcast.send("gone", node.encode())
            lost = self._presence.drop_node(node, _entries(held))
            if lost and self.on_lost is not None:  # this node found it dead: it tells
                try:
                    self.on_lost(lost)
                except Exception:
                    self.log.failure("bus: telling of the users of dead node {node} failed",
                                     node=node)

    def _beat(self):
        beat = defer.ensureDeferred(self._beat_once())
        beat.addErrback(lambda f: self.log.warn("bus: beat failed: {why}",
                                                why=f.getErrorMessage()))
        return beat
