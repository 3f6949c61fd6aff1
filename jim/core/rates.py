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
refused by its app's limit does not also use up its user's. The buckets are this node's: on a
cluster each node counts what reaches it (a client spreading its connections over the nodes
gets each node's allowance). A bucket that has been full for a while says nothing a new one
would not, so idle ones are dropped as the table grows.
"""
from jim import errors
from jim.errors import JimError

BURST_SECONDS = 2.0
#: buckets kept before idle ones are swept out (a sweep is a pass over the table)
SWEEP_AT = 50_000


class ChatRates:
    """Token buckets per user, per address and per app.

    @param clock: C{seconds()}.
    @param user_rate: chats a second one user may send from all its connections; 0: no limit.
    @param address_rate: chats a second from one client address; 0: no limit.
    @param app_rate: chats a second from the users of one app; 0: no limit.
    """

    def __init__(self, clock, user_rate, address_rate, app_rate):
        self._clock = clock
        self._limits = (("user", user_rate), ("address", address_rate), ("app", app_rate))
        self.enabled = any(rate for _, rate in self._limits)
        self._buckets = {}  # (kind, name...) -> [tokens, when they were counted]
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
        if len(buckets) >= self._sweep_at:
            self._sweep(now)
        return None

    def _sweep(self, now):
        """Forget the buckets that have refilled (they hold nothing a new one would not)."""
        idle = BURST_SECONDS
        for key in [k for k, (_, when) in self._buckets.items() if now - when >= idle]:
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
