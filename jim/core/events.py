"""Making events and sending them to the users they concern, through the bus."""
from jim.model import Delivery, Event, UserCard

#: bits of an event id below the millisecond: a node number, then a counter. Ten bits leave
#: ids below 2**53 until the year 2248, so JavaScript clients read them exactly.
_NODE_BITS = 4
_SEQ_BITS = 6


class Events:
    """Builds L{Event}s with ids and times, and publishes each as a L{Delivery}.

    An id is the event's millisecond, this node's number and a counter: increasing on one
    node, unique across up to 16 nodes (each with its own number), and a number JavaScript
    reads exactly.
    """

    def __init__(self, bus, clock, metrics, node_number=0):
        self.bus = bus
        self.clock = clock
        self.metrics = metrics
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

    def send(self, event, recipients, alias=None):
        """Publish C{event} for C{recipients} (usernames of its app; repeats are dropped)."""
        recipients = tuple(dict.fromkeys(recipients))
        if recipients:
            self.metrics.count_event(event.kind, len(recipients))
            self.bus.publish(Delivery(event.app, event, recipients, None, alias))
        return event


def card(user, online=False, terminal=None):
    """A L{UserCard} of a L{jim.model.User}."""
    return UserCard(user.username, user.nickname, user.avatar, user.signature, online, terminal)


def bare_card(username):
    """A L{UserCard} of a user known only by name."""
    return UserCard(username)
