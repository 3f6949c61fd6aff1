# -*- test-case-name: tests.test_bus_bookkeeping -*-
"""Two small records the Redis bus keeps for "announced with the commit" (docs/architecture.md):
what its publishing connection has not answered yet (L{PendingCommands}), and which messages
were sent on to this node lately (L{RecentlySeen}). Plain objects, no I/O."""
import collections

from twisted.python.failure import Failure


class PendingCommands:
    """The commands sent on one Redis connection, as their answers come. One connection answers
    in order: once a command is answered, every one sent before it ran, or never will. A
    command that failed (past its deadline it may still run) leaves the connection in doubt
    until one sent after it is answered."""

    def __init__(self):
        self._sent = 0
        self._waiting = 0
        self._answered_upto = 0  # the number of the latest command answered
        self._doubt = 0  # the number of the latest command that failed

    def track(self, sent):
        """Count C{sent}, the Deferred of a command's answer, until it fires; it is returned,
        its result untouched."""
        self._sent += 1
        self._waiting += 1
        sent.addBoth(self._answered, self._sent)
        return sent

    @property
    def settled(self):
        """Whether nothing sent so far can still run after what is sent now, on this or
        another connection: every command answered, and none in doubt."""
        return not self._waiting and self._answered_upto >= self._doubt

    def _answered(self, result, number):
        self._waiting -= 1
        if isinstance(result, Failure):
            self._doubt = max(self._doubt, number)
        else:
            self._answered_upto = max(self._answered_upto, number)
        return result


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
