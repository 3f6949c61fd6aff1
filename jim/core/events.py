"""Making events, keeping them in the inboxes of the users they concern and sending them to
those users, through the bus."""
from twisted.internet import defer
from twisted.logger import Logger

from jim.model import INBOX_EVENT_KINDS, QUALIFIER, Delivery, Event, UserCard

#: bits of an event id below the millisecond: a node number, then a counter. Ten bits leave
#: ids below 2**53 until the year 2248, so JavaScript clients read them exactly.
_NODE_BITS = 4
_SEQ_BITS = 6


class Events:
    """Builds L{Event}s with ids and times, keeps those of L{INBOX_EVENT_KINDS} in their
    users' inboxes, and publishes each as a L{Delivery}.

    An event made here has a time-based id: the event's millisecond, this node's number and a
    counter: increasing on one node, unique across up to 16 nodes (each with its own number),
    and a number JavaScript reads exactly. An event kept in the inbox is given another there,
    of the inbox's sequence (L{jim.interfaces.IEventStore}).

    @param store: the L{jim.interfaces.IEventStore}, or None: no event is kept.
    """

    log = Logger()

    def __init__(self, bus, clock, metrics, node_number=0, store=None):
        self.bus = bus
        self.clock = clock
        self.metrics = metrics
        self.store = store
        #: C{ordered(pending, publish)}: publish what C{pending} fires with in the order of
        #: the message deliveries (L{jim.core.messages.Messages.publish_in_order}), or None
        self.ordered = None
        self._node = node_number % (1 << _NODE_BITS)
        self._last = (-1, 0)  # (millisecond, counter) of the last id

    def now_ms(self):
        return int(self.clock.seconds() * 1000)

    def make(self, kind, app, **fields):
        now = self.now_ms()
        return Event(kind, app, id=self._next_id(now), created=now, **fields)

    def _next_id(self, now):
        """The counter restarts each millisecond; past 64 events in one (or when the clock
        steps back) the id borrows the next millisecond, so ids always increase."""
        ms, seq = self._last
        if now > ms:
            ms, seq = now, 0
        else:
            seq += 1
            if seq >> _SEQ_BITS:
                ms, seq = ms + 1, 0
        self._last = (ms, seq)
        return (ms << (_NODE_BITS + _SEQ_BITS)) | (self._node << _SEQ_BITS) | seq

    def send(self, event, recipients, alias=None, keep=True):
        """Keep C{event} in the inboxes of C{recipients} (usernames of its app; repeats are
        dropped) when its kind is kept, then publish it for them. A Deferred of the event as
        published, fired at once for an event that is not kept; never a failure: an event the
        store could not keep is logged and published all the same (with its time-based id:
        connected devices get it, offline ones will not). C{keep} False: sent live only,
        whatever its kind (a chat room's, say)."""
        recipients = tuple(dict.fromkeys(recipients))
        if not recipients:
            return defer.succeed(event)
        if not keep or self.store is None or event.kind not in INBOX_EVENT_KINDS:
            self._publish(event, recipients, alias)
            return defer.succeed(event)
        kept = self.store.add_event(event, recipients)
        kept.addErrback(self._not_kept, event, recipients)
        if self.ordered is None:
            return kept.addCallback(self._publish, recipients, alias)
        # Its id is an inbox position: the messages given ids after it are published after
        # it, so that a device never holds (and acks) a later id while it is on its way.
        published = defer.Deferred()
        self.ordered(kept, lambda kept_event: published.callback(
            self._publish(kept_event, recipients, alias)))
        return published

    def _publish(self, event, recipients, alias):
        self.metrics.count_event(event.kind, len(recipients))
        self.bus.publish(Delivery(event.app, event, recipients, None, alias))
        return event

    def _not_kept(self, failure, event, recipients):
        self.log.warn("event {kind} of app {app} for {count} user(s) could not be kept in their"
                      " inboxes: {why}; only their connected devices get it",
                      kind=event.kind, app=event.app, count=len(recipients),
                      why=failure.getErrorMessage())
        return event


def card(user, online=False, terminal=None):
    """A L{UserCard} of a L{jim.model.User}."""
    return UserCard(user.username, user.nickname, user.avatar, user.signature, online, terminal)


def bare_card(username):
    """A L{UserCard} of a user known only by name."""
    return UserCard(username)


async def cards(users, app, usernames):
    """The L{UserCard}s of app C{app}'s C{usernames}, each with its profile where the user
    exists (C{users}, the L{jim.core.users.Users} service), else by name only (one deleted
    meanwhile, or another app's, by its qualified name: no store read for it)."""
    found = await users.get_many(app, [n for n in usernames if QUALIFIER not in n])
    return [card(found[n]) if n in found else bare_card(n) for n in usernames]
