# -*- test-case-name: tests.test_core_rates -*-
"""Chat rates shared by every connection of a node: per user, per client address and per app.

A connection's own rate (``--rate-limit``) pauses its reads: one connection cannot take more
than its share of the reactor. That alone lets a user open eight connections and send eight
times as much, or one address open a thousand. L{ChatRates} counts chats where they come from:
the user (all its connections), the address (all its connections, whoever logs in on them) and
the app (all its users). A chat over any of them is refused with L{errors.RATE_LIMITED}, which
the client is told (J-IM 10002 with a detail that says which limit), not dropped in silence.

Each limit is a token bucket of C{rate} chats a second holding at most two seconds' worth, so a
burst after a quiet moment goes through. A chat is charged to all three buckets or to none: one
refused by its app's limit does not also use up its user's. A bucket that has been full for a
while says nothing a new one would not, so idle ones are dropped as the table grows.

On a cluster (C{shared}) the buckets stay each node's, so that a chat never waits for another
node, and the nodes tell one another what they charged: every L{SHARE_SECONDS}, each node
publishes the chats it counted against each bucket since its last report
(L{ChatRates.take_usage}, a L{jim.model.RateUsage} on the bus), and every other node takes them
off its own bucket of that name (L{ChatRates.debit}). A user, an address or an app spread over
the nodes then gets its rate across the cluster, give or take what one report's delay lets
through: at most about one burst more per node.
"""
import heapq

from jim import errors
from jim.errors import JimError

BURST_SECONDS = 2.0
#: how often a node of a cluster reports what it charged (L{ChatRates.take_usage})
SHARE_SECONDS = 1.0
#: the most buckets one report names: the busiest, when more were charged
SHARE_MOST = 10_000
#: buckets kept before idle ones are swept out (a sweep is a pass over the table)
SWEEP_AT = 50_000


class ChatRates:
    """Token buckets per user, per address and per app.

    @param clock: C{seconds()}.
    @param user_rate: chats a second one user may send from all its connections; 0: no limit.
    @param address_rate: chats a second from one client address; 0: no limit.
    @param app_rate: chats a second from the users of one app; 0: no limit.
    """

    def __init__(self, clock, user_rate, address_rate, app_rate, shared=False):
        self._clock = clock
        self._limits = (("user", user_rate), ("address", address_rate), ("app", app_rate))
        self._rates = dict(self._limits)
        self.enabled = any(rate for _, rate in self._limits)
        #: whether other nodes share these limits (their usage is L{debit}ed here)
        self.shared = shared and self.enabled
        self._buckets = {}  # (kind, name...) -> [tokens, when they were counted]
        self._spent = {}  # (kind, name...) -> chats charged since the last take_usage
        self._sweep_at = SWEEP_AT

    def charge(self, app, username, address):
        """Count one chat; a L{JimError} (RATE_LIMITED) saying which limit it is over, or
        None when it may go (and was counted)."""
        if not self.enabled:
            return None
        now = self._clock.seconds()
        buckets = self._buckets
        keys = (("user", app, username), ("address", address), ("app", app))
        counted = []
        for key, (what, rate) in zip(keys, self._limits):
            if not rate:
                continue
            burst = rate * BURST_SECONDS
            bucket = buckets.get(key)
            if bucket is None:
                tokens = burst
            else:
                tokens = min(burst, bucket[0] + (now - bucket[1]) * rate)
            if tokens < 1.0:
                return JimError(errors.RATE_LIMITED, _refusal(what, rate, app, username,
                                                              address))
            counted.append((key, tokens))
        for key, tokens in counted:
            buckets[key] = [tokens - 1.0, now]
        if self.shared:
            spent = self._spent
            for key, _ in counted:
                spent[key] = spent.get(key, 0) + 1
        if len(buckets) >= self._sweep_at:
            self._sweep(now)
        return None

    def take_usage(self):
        """The C{(kind, name, username, count)} entries of the chats charged since the last
        call (at most L{SHARE_MOST}, the busiest), for the other nodes; forgets them."""
        spent, self._spent = self._spent, {}
        items = spent.items()
        if len(spent) > SHARE_MOST:
            items = heapq.nlargest(SHARE_MOST, items, key=lambda item: item[1])
        return tuple((key[0], key[1], key[2] if len(key) > 2 else "", count)
                     for key, count in items)

    def debit(self, entries):
        """Take chats another node charged (L{take_usage}'s entries) off the buckets here:
        a bucket may go down to minus a burst, so that what was sent elsewhere is paid for here
        before more goes."""
        if not self.enabled:
            return
        now = self._clock.seconds()
        buckets = self._buckets
        for kind, name, username, count in entries:
            rate = self._rates.get(kind)
            if not rate:
                continue
            key = (kind, name, username) if kind == "user" else (kind, name)
            burst = rate * BURST_SECONDS
            bucket = buckets.get(key)
            tokens = burst if bucket is None else min(burst, bucket[0] + (now - bucket[1]) * rate)
            buckets[key] = [max(-burst, tokens - count), now]

    def _sweep(self, now):
        """Forget the buckets that have refilled (they hold nothing a new one would not)."""
        rates = self._rates
        full = [key for key, (tokens, when) in self._buckets.items()
                if tokens + (now - when) * rates[key[0]] >= rates[key[0]] * BURST_SECONDS]
        for key in full:
            del self._buckets[key]
        # sweep again when the table has grown by as much again, not at every chat
        self._sweep_at = max(SWEEP_AT, 2 * len(self._buckets))

    def __len__(self):
        return len(self._buckets)


def _refusal(what, rate, app, username, address):
    limit = f"{rate:g} chats a second"
    if what == "user":
        return f"too many chats: user {username} is over {limit}; slow down"
    if what == "address":
        return f"too many chats: address {address} is over {limit}; slow down"
    return f"too many chats: app {app} is over {limit}; slow down"
