# -*- test-case-name: tests.test_bus_bookkeeping -*-
"""A small record the Redis bus keeps for "announced with the commit" (docs/architecture.md):
which messages were sent on to this node lately (L{RecentlySeen}). A plain object, no I/O."""
import collections


class RecentlySeen:
    """Keys seen lately: each is kept for C{seconds} (by C{clock}), at most C{most} of them
    besides those of the latest call, oldest evicted first in constant time."""

    def __init__(self, clock, seconds, most):
        self._clock = clock
        self._seconds = seconds
        self._most = most
        self._seen = collections.OrderedDict()  # key -> when it was first seen, oldest first

    def first_time(self, keys):
        """Those of C{keys} not seen lately, in order; all of them are seen from now on."""
        seen = self._seen
        now = self._clock.seconds()
        while seen and now - next(iter(seen.values())) >= self._seconds:
            seen.popitem(last=False)
        fresh = []
        for key in keys:
            if key not in seen:
                seen[key] = now
                fresh.append(key)
        for _ in range(len(seen) - max(self._most, len(fresh))):
            seen.popitem(last=False)
        return fresh

    def __len__(self):
        return len(self._seen)
