# -*- test-case-name: tests.test_core_rate_buckets -*-
"""Token buckets by name, with a window: C{per_window} calls (or units) in any C{window}
seconds, refilled continuously, a full window's worth at most. The REST API counts calls with
them per app and per Web SDK user (a minute's window), a user's own group calls the users it
adds to groups (an hour's); chats have their own, shared across a cluster
(L{jim.core.rates.ChatRates})."""
import collections


class RateLimits:
    """A token bucket per name; C{per_window} of 0 is no limit.

    A bucket full again is as good as none: the buckets are kept in the order they were last
    used, and those at the front that have refilled are dropped as calls come; past
    C{max_buckets} the oldest is dropped too (it may only have been refilled sooner)."""

    def __init__(self, per_window, clock, max_buckets=100_000, window=60.0):
        self.per_window = per_window
        self.clock = clock
        self.max_buckets = max_buckets
        self.window = window
        #: (who, units a window) -> (tokens, when), the least recently used first
        self._buckets = collections.OrderedDict()

    def __len__(self):
        return len(self._buckets)

    def take(self, who, per_window=None, count=1):
        """Take C{count} units from the bucket of C{who} (all or none): C{(allowed, units
        remaining, seconds until the bucket is full again, or until C{count} more are
        allowed when they are not)}, at C{per_window} (None: the default one)."""
        if per_window is None:
            per_window = self.per_window
        if not per_window:
            return True, None, 0.0
        now = self.clock.seconds()
        rate = per_window / self.window
        # a bucket per rate: a name given another rate starts with a full bucket of it
        key = (who, per_window)
        buckets = self._buckets
        tokens, when = buckets.pop(key, (float(per_window), now))
        tokens = min(float(per_window), tokens + (now - when) * rate)
        self._trim(now)
        if tokens < count:
            buckets[key] = (tokens, now)
            return False, int(tokens), (count - tokens) / rate
        buckets[key] = (tokens - count, now)
        return True, int(tokens - count), (per_window - tokens + count) / rate

    def give_back(self, who, count=1):
        """Return C{count} units L{take} took of C{who} for a call that was then refused."""
        per_window = self.per_window
        key = (who, per_window)
        found = self._buckets.get(key)
        if per_window and found is not None:
            tokens, when = found
            self._buckets[key] = (min(float(per_window), tokens + count), when)

    def _trim(self, now):
        buckets = self._buckets
        while len(buckets) >= self.max_buckets:
            buckets.popitem(last=False)
        while buckets:
            (who, per_window), (tokens, when) = next(iter(buckets.items()))
            if tokens + (now - when) * per_window / self.window < per_window:
                break
            del buckets[(who, per_window)]
