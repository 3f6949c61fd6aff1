# -*- test-case-name: tests.test_core_passwords -*-
"""A work queue that serves its sources in turn, with a cap on each source's jobs.

Pure bookkeeping for L{jim.core.passwords}: the jobs of one source (a client address) wait in
their own line, and the lines are served round-robin, so a newcomer's job runs after at most
one job of each other source that has work waiting, however much one of them queued. A source
may hold at most C{per_source} jobs queued or running; the None source (the server's own
work: registrations and password changes over the REST API) has no such cap. O(1) a job.
"""
from collections import OrderedDict, deque


class FairQueue:
    def __init__(self, per_source):
        self.per_source = per_source
        #: source -> its jobs waiting, for the sources with any, in the order they are served
        self._lines = OrderedDict()
        self._held = {}  # source -> its jobs queued or running
        self.queued = 0

    def __len__(self):
        return self.queued

    def sources(self):
        """How many sources have jobs waiting (the length of one round of turns)."""
        return len(self._lines)

    def held(self, source):
        """Jobs of C{source} queued or running."""
        return self._held.get(source, 0)

    def full(self, source):
        """Whether C{source} may queue no more jobs now."""
        return source is not None and self.held(source) >= self.per_source

    def push(self, source, job):
        line = self._lines.get(source)
        if line is None:
            line = self._lines[source] = deque()  # a newcomer is served after those waiting
        line.append(job)
        self._held[source] = self._held.get(source, 0) + 1
        self.queued += 1

    def pop(self):
        """(source, job) of the source whose turn it is; it goes to the back of the turns."""
        source, line = next(iter(self._lines.items()))
        job = line.popleft()
        if line:
            self._lines.move_to_end(source)
        else:
            del self._lines[source]
        self.queued -= 1
        return source, job

    def done(self, source):
        """A job of C{source} (popped earlier) finished: its place is free."""
        left = self._held[source] - 1
        if left:
            self._held[source] = left
        else:
            del self._held[source]
