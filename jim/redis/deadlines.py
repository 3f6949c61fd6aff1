# -*- test-case-name: tests.test_redis_deadlines -*-
"""One timer for the timeouts of every Redis command of a client.

Every command a L{jim.redis.client.RedisClient} sends has the same timeout, so the oldest
unanswered one is always the next to run out. L{Deadlines} keeps them in the order they were
sent and keeps one timer, for the oldest: a command costs an append to a deque, where
C{Deferred.addTimeout} cost a C{DelayedCall} of its own and three callbacks, more than the
command's own writing (a node sends thousands a second).

A command not answered in time is cancelled (its Deferred fails with C{CancelledError}), as
C{addTimeout} does. What was answered is forgotten as later commands are sent, and at the
latest when the timer runs.
"""
from collections import deque


class Deadlines:
    """@param clock: an C{IReactorTime}.
    @param timeout: seconds a command may take."""

    def __init__(self, clock, timeout):
        self._clock = clock
        self._timeout = timeout
        self._waiting = deque()  # (deadline, Deferred), oldest first
        self._timer = None

    def watch(self, pending):
        """Cancel C{pending} (a command's Deferred) if it is not answered within the
        timeout."""
        waiting = self._waiting
        while waiting and waiting[0][1].called:
            waiting.popleft()
        waiting.append((self._clock.seconds() + self._timeout, pending))
        if self._timer is None:
            self._timer = self._clock.callLater(self._timeout, self._expire)

    def watched(self):
        """How many commands are remembered (answered ones not yet forgotten included)."""
        return len(self._waiting)

    def stop(self):
        """Watch nothing any longer (the client's connections are closed): a command still
        unanswered (one that waited for a connection) is cancelled now."""
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        waiting, self._waiting = self._waiting, deque()
        for _, pending in waiting:
            if not pending.called:
                pending.cancel()

    def _expire(self):
        self._timer = None
        now = self._clock.seconds()
        waiting = self._waiting
        while waiting:
            deadline, pending = waiting[0]
            if pending.called:
                waiting.popleft()
            elif deadline <= now:
                waiting.popleft()
                pending.cancel()  # its errbacks may send commands (and start a timer)
            else:
                if self._timer is not None:
                    self._timer.cancel()
                self._timer = self._clock.callLater(deadline - now, self._expire)
                return
