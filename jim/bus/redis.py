# -*- test-case-name: tests.test_bus_redis -*-
"""The bus and presence of a cluster: several nodes sharing one Redis (pub/sub).

Channels: C{jim:bus} goes to every node (kicks, invalidations, presence changes; each payload
starts with the node that sent it, which skips its own); C{jim:bus:NODE} to one node (the
deliveries for users connected there). A delivery is split by the nodes its recipients are
connected to (L{ClusterPresence} knows): this node's part is handed out at once, as the
single-node bus does; each other node gets the part for its users, with the other parts for
it of the same reactor turn: one PUBLISH a node and a turn, a line a delivery. Publishing goes
through one connection, so every node receives what one node published in the order it was
published. When the bus is on the store's Redis, that connection is the store's: a message's
parts may then be published by the store's append script, with its commit, on that same
connection (L{RedisBus.announcement}; docs/architecture.md, "Announced with the commit").

Redis pub/sub keeps nothing for a node that is not listening. Nothing needs keeping: a message
is in the log, and a device that did not get its push finds it in its inbox (L{jim.core.inbox}).
A node sent a part for a user who moved to another node sends it on there, once.

Presence (who is connected where, and which nodes are alive) is kept by
L{jim.bus.redis_presence.PresenceKeeper} over the same connection and channel.
"""
import os
import socket

from twisted.internet import defer
from twisted.logger import Logger
from zope.interface import implementer

from jim.bus.bookkeeping import RecentlySeen
from jim.bus.local import LocalBus
from jim.bus.presence import ClusterPresence
from jim.bus.redis_presence import BROADCAST, Broadcast, NoNodeNumber, PresenceKeeper
from jim.errors import JimError
from jim.interfaces import IBus
from jim.model import (
    BUS_VALUES, EVERY_APP, INVALIDATION_AREAS, RUN, Delivery,
    Invalidate, Message,
)
from jim.redis.client import RedisClient
from jim.redis.listener import Listener
from jim.wire import busjson

#: what starts a delivery a node sent on to where its recipient moved
_AGAIN = b"again "
#: what starts a message's part a store's script published with its commit
_STORED = b"stored "
#: how long a node remembers a message sent on to it (recipient by recipient), to take each
#: once: the second copy comes a hop after the first
SENT_ON_SECONDS = 30.0
#: and how many it remembers at most (their memory), beyond those of the part at hand
SENT_ON_REMEMBERED = 100_000


def new_node_id():
    """A node id no other node has: the host, the process, and random bits."""
    return f"{socket.gethostname()[:32]}-{os.getpid()}-{os.urandom(4).hex()}"


def node_channel(node):
    return f"jim:bus:{node}"


@implementer(IBus)
class RedisBus:
    """The L{IBus} of a cluster over the Redis at C{address}; its L{ClusterPresence} is
    C{self.presence}.

    @param expiry: seconds after its last beat a node is taken as dead.
    @param client: the store's L{RedisClient} (of one connection) when the bus is on the
        store's Redis: the bus publishes on it rather than on a connection of its own (the
        store starts and stops it, and its timeout applies, not C{timeout}), and may then
        announce (L{announcement}).
    @ivar node_number: this node's event-id number (0 to 15), once started.

    A stopped bus publishes nothing more (the store may go on with its connection): what it
    is asked to publish or announce then is dropped, its recipients find it in their inboxes.
    """

    log = Logger()

    def __init__(self, address, reactor, node=None, metrics=None, expiry=30.0, ping_every=5.0,
                 timeout=5.0, client=None):
        self.node = node or new_node_id()
        self.presence = ClusterPresence(self.node, reactor)
        self.lost = None
        self.shared = True
        self._metrics = metrics
        self._local = LocalBus(node=self.node)
        # one connection: what this node publishes reaches every node in order
        self._owns_client = client is None
        self._client = client or RedisClient(address, reactor, timeout=timeout, poolsize=1)
        self._buffered = False  # whether _flush_now is the store's client's buffer (_start)
        self._broadcast = Broadcast(self._client, self.node, reactor)
        self._keeper = PresenceKeeper(self._client, self._broadcast, self.presence, reactor,
                                      expiry)
        self._keeper.on_lost = self._users_lost
        self._own_channel = node_channel(self.node).encode()
        self._listener = Listener(address, reactor, [BROADCAST.encode(), self._own_channel],
                                  self._received, self._subscribed, ping_every)
        self._stopped = False
        self._subscriptions = 0
        self._reactor = reactor
        self._outgoing = {}  # node -> [line of a delivery part, ...] of this reactor turn
        # (app, message id, username) of the messages sent on to here lately: one sent on
        # twice (by the node its recipient left, and by its sender) is handed out once
        self._sent_on = RecentlySeen(reactor, SENT_ON_SECONDS, SENT_ON_REMEMBERED)
        self._flushing = None  # the DelayedCall that sends them

    @property
    def node_number(self):
        return self._keeper.node_number

    # -- IBus ------------------------------------------------------------------------------

    async def _start(self):
        if self._owns_client:
            await self._client.start()
        try:
            number = await self._keeper.claim_number()
        except NoNodeNumber:
            if self._owns_client:
                await self._client.stop()
            raise
        if not self._owns_client:
            # on the store's connection, what this turn queued leaves before an append script
            # that publishes parts (RedisClient.flush_buffers): the connection keeps their
            # order. Only while the bus runs: the store goes on without it
            self._client.add_buffer(self._flush_now)
            self._buffered = True
        try:
            await self._listener.start()
        except Exception:
            self._let_go_of_buffer()
            raise
        self._keeper.start_beating()
        self.log.info("bus: node {node} (number {number}) on Redis at {address}",
                      node=self.node, number=number, address=self._client.address.describe())

    def start(self):
        return defer.ensureDeferred(self._start())

    async def _stop(self):
        if self._stopped:
            return
        self._stopped = True
        self._flush_now()  # what this turn queued still leaves
        self._let_go_of_buffer()  # the store goes on without it
        self._broadcast.stop()
        await self._listener.stop()
        await self._keeper.leave()
        if self._owns_client:
            await self._client.stop()

    def stop(self):
        return defer.ensureDeferred(self._stop())

    def _let_go_of_buffer(self):
        if self._buffered:
            self._buffered = False
            self._client.remove_buffer(self._flush_now)

    def subscribe(self, handler, kinds=BUS_VALUES):
        self._local.subscribe(handler, kinds)

    def publish(self, value):
        if self._stopped:
            self._dropped(value)
            return
        if self._metrics is not None:
            self._metrics.bus_values += 1
        if type(value) is Delivery:
            self._route(value)
            return
        self._local.publish(value)
        self._broadcast.send("bus", busjson.encode(value)).addErrback(self._publish_failed,
                                                                      BROADCAST)

    def flushed(self):
        return self._broadcast.flushed()

    # -- deliveries ------------------------------------------------------------------------

    def _route(self, delivery):
        # A message's recipient whose one connection is the excluded one (the sender's own)
        # is left out. An event's is not: its hub follows what the event changes (a group it
        # joined) for every connection, the excluded one too.
        exclude = delivery.exclude if type(delivery.item) in _MESSAGES else None
        nodes = self.presence.nodes_of(delivery.app, delivery.recipients, exclude)
        mine = nodes.pop(self.node, None)
        for node, names in nodes.items():
            self._queue(node, _to(delivery, names), b"")
        if mine:
            if len(mine) != len(delivery.recipients):
                delivery = _to(delivery, mine)
            self._local.publish(delivery)

    def announcement(self, delivery):
        """The parts of a message's delivery for the other nodes, for a store to publish with
        the message's commit (L{jim.interfaces.IAnnouncingMessageStore.add_announced_then}),
        the message having no id yet: C{(parts, announced)}, where C{parts} lists C{(channel,
        tail)} (a part is C{b"stored [" + id + b"," + json + b"," + tail + b"]"}, C{json} the
        message as the store keeps it: L{busjson.stored_delivery_tail}) and C{announced} is
        what L{publish_announced} takes; C{((), None)} if no other node has a recipient. None
        when the bus publishes on a connection of its own: a store's script, on another,
        could overtake what it published. Each part names this node and the nodes that get
        one (L{_hand_over}). None too once the bus stopped: nothing goes with a commit then."""
        if self._owns_client or self._stopped:
            return None
        app, _, recipients, exclude, alias = delivery
        presence = self.presence
        nodes = presence.nodes_of(app, recipients, exclude)
        mine = nodes.pop(self.node, None)
        if not nodes:
            return (), None
        tail = busjson.stored_delivery_tail
        origin, told = self.node, list(nodes)
        parts = [(node_channel(node), tail(app, names, exclude, alias, origin, told))
                 for node, names in nodes.items()]
        return parts, (presence.changes, nodes, mine)

    def publish_announced(self, delivery, announced):
        """L{publish} a message's delivery whose parts for other nodes went out with its
        commit (C{announced}, as L{announcement} gave it): this node's part is handed out here,
        to the recipients connected here now; if connections came or went meanwhile, each
        recipient is sent a part on every other node it is on now whose part did not name it
        (L{_publish_rest})."""
        if self._stopped:
            self._dropped(delivery)
            return
        if self._metrics is not None:
            self._metrics.bus_values += 1
        changes, told, mine = announced
        recipients = delivery.recipients
        if changes != self.presence.changes:  # connections came or went meanwhile
            nodes = self.presence.nodes_of(delivery.app, recipients, delivery.exclude)
            mine = nodes.pop(self.node, None)
            if nodes != told:
                self._publish_rest(delivery, told, nodes)
        if mine:
            self._local.publish(delivery if len(mine) == len(recipients) else _to(delivery, mine))

    def _publish_rest(self, delivery, told, nodes):
        """Queue, for each of C{nodes} (where the recipients are now, this node aside), a part
        for its recipients its announced part (C{told}) did not name. It goes as a part sent
        on (C{again}): after the message's other parts from here, in order, and never sent on
        further; a node that also had it sent on by the node a recipient left takes it once
        (L{_first_time})."""
        for node, names in nodes.items():
            had = told.get(node)
            if had:
                had = set(had)
                names = [name for name in names if name not in had]
            if names:
                self._queue(node, _to(delivery, names), _AGAIN)

    def _queue(self, node, part, prefix):
        """Send C{part} to C{node} with the others of this reactor turn: one PUBLISH a node
        and a turn, each delivery a line of it (their wire form has no newline). Nothing
        leaves a stopped bus (its recipients find it in their inboxes)."""
        if self._stopped:
            return
        queued = self._outgoing.get(node)
        if queued is None:
            queued = self._outgoing[node] = []
            if self._flushing is None:
                self._flushing = self._reactor.callLater(0, self._flush)
        if prefix and type(part.item) is RUN:  # a run sent on: a line a message (each is
            # checked on its own, L{_first_time})
            queued.extend([prefix + busjson.encode(_with_item(part, message))
                           for message in part.item])
            return
        queued.append(prefix + busjson.encode(part))

    def _flush_now(self):
        """Send what this turn queued now, before a command of the store's (a script) that
        must come after it."""
        if self._outgoing:
            if self._flushing is not None:
                self._flushing.cancel()
            self._flush()

    def _flush(self):
        self._flushing = None
        outgoing, self._outgoing = self._outgoing, {}
        for node, queued in outgoing.items():
            channel = node_channel(node)
            sent = self._client.call("PUBLISH", channel, b"\n".join(queued))
            # a part no node took is in its recipients' inboxes (the message log)
            sent.addErrback(self._publish_failed, channel)

    def _dropped(self, value):
        self.log.debug("bus: stopped: {kind} not published", kind=type(value).__name__)

    def _users_lost(self, users):
        if self.lost is not None:
            self.lost(users)

    def _publish_failed(self, failure, channel):
        self.log.warn("bus: could not publish to {channel}: {why}", channel=channel,
                      why=failure.getErrorMessage())

    # -- what comes in ---------------------------------------------------------------------

    def _received(self, channel, payload):
        if channel == self._own_channel:
            # consecutive messages for the same recipients (a run's, which the store's script
            # publishes a line each) are handed out as one delivery, whose item is the tuple of
            # their messages
            run, head = [], None  # the messages, and (delivery, skip) of the first
            for line in payload.split(b"\n"):
                again = line.startswith(_AGAIN)
                skip = ()  # the nodes that hand out their own part
                try:
                    if line.startswith(_STORED):
                        delivery, origin, told = busjson.decode_stored(line)
                        skip = (origin, *told)
                    else:
                        delivery = busjson.decode(line[len(_AGAIN):] if again else line)
                except JimError as e:  # one bad line does not cost the others theirs
                    self.log.warn("bus: a delivery could not be read: {why}", why=e.detail)
                    continue
                if type(delivery) is not Delivery:
                    continue
                item = delivery.item
                if not again and type(item) in _MESSAGES:
                    if run and _same_run(head, delivery, skip):
                        if type(item) is RUN:
                            run.extend(item)
                        else:
                            run.append(item)
                        continue
                    self._hand_over_run(run, head)
                    run, head = [*item] if type(item) is RUN else [item], (delivery, skip)
                    continue
                self._hand_over_run(run, head)
                run = []
                if again and type(delivery.item) is Message:
                    delivery = self._first_time(delivery)
                    if delivery is None:
                        continue
                self._hand_over(delivery, again, skip)
            self._hand_over_run(run, head)
            return
        origin, _, rest = payload.partition(b"\n")
        kind, _, body = rest.partition(b" ")
        origin = origin.decode()
        if origin == self.node:
            self._broadcast.heard_back()
        if kind != b"bus":
            self._keeper.heard(origin, kind, body)
        elif origin != self.node:
            self._local.publish(busjson.decode(body))

    def _hand_over_run(self, run, head):
        """L{_hand_over} of the messages C{run} gathered (none, one, or a run's)."""
        if run:
            delivery, skip = head
            self._hand_over(delivery if len(run) == 1 else _with_item(delivery, tuple(run)),
                            False, skip)

    def _hand_over(self, delivery, again, skip=()):
        """A delivery sent to this node: to its recipients here. One who moved to another node
        since the sender looked is sent it there, but to the nodes C{skip} (those that had a
        part of their own), once: a delivery sent on (C{again}) is not sent on again. One
        connected nowhere now finds it in its inbox."""
        app = delivery.app
        presence = self.presence
        gone = presence.absent(app, delivery.recipients)
        if not gone:
            self._local.publish(delivery)
            return
        if len(gone) != len(delivery.recipients):
            left = set(gone)
            self._local.publish(_to(delivery, [u for u in delivery.recipients
                                               if u not in left]))
        if again:
            return
        elsewhere = presence.nodes_of(app, gone, delivery.exclude)
        for node in (self.node, *skip):
            elsewhere.pop(node, None)
        for other, names in elsewhere.items():
            self._queue(other, _to(delivery, names), _AGAIN)

    def _first_time(self, delivery):
        """C{delivery} for those of its recipients this node was not sent it on for lately
        (a message sent on both by the node a recipient left and by its sender), or None."""
        app, message_id = delivery.app, delivery.item.id
        fresh = self._sent_on.first_time([(app, message_id, username)
                                          for username in delivery.recipients])
        if len(fresh) == len(delivery.recipients):
            return delivery
        return _to(delivery, [key[2] for key in fresh]) if fresh else None

    def _subscribed(self):
        """After every (re)subscription: catch up with the others' presence; after a
        resubscription also forget every cache (invalidations may have been missed meanwhile)
        and check every local user again (kicks too)."""
        if self._subscriptions:
            self._broadcast.resubscribed()
            self.log.warn("bus: back on Redis after a break: forgetting every cache")
            for area in INVALIDATION_AREAS:
                self._local.publish(Invalidate(area, EVERY_APP, "", ""))
        self._subscriptions += 1
        defer.ensureDeferred(self._keeper.catch_up()).addErrback(self._catch_up_failed)

    def _catch_up_failed(self, failure):
        if failure.check(defer.FirstError):  # one of the announcements' writes
            failure = failure.value.subFailure
        if failure.check(JimError):  # Redis went away again: the next subscription catches up
            self.log.warn("bus: catching up with the cluster failed: {why}",
                          why=failure.value.detail)
            return
        self.log.failure("bus: catching up with the cluster failed", failure)


#: the items of a message's delivery: one, or a run of them (a tuple)
_MESSAGES = (Message, RUN)


def _same_run(head, delivery, skip):
    """Whether C{delivery} (with its C{skip}) goes to the same connections as the first of a
    run (C{head}: its delivery and skip)."""
    first, first_skip = head
    return (delivery.recipients == first.recipients and delivery.exclude == first.exclude
            and delivery.app == first.app and delivery.alias == first.alias
            and skip == first_skip)


def _with_item(delivery, item):
    return tuple.__new__(Delivery, (delivery.app, item, delivery.recipients, delivery.exclude,
                                    delivery.alias))


def _to(delivery, recipients):
    """C{delivery} for C{recipients} only (C{_replace} costs three times as much; this runs
    for every delivery that crosses nodes)."""
    return tuple.__new__(Delivery, (delivery.app, delivery.item, tuple(recipients),
                                    delivery.exclude, delivery.alias))
