# -*- test-case-name: tests.store_contract.test_callbacks -*-
"""The leases of the callback backlogs held in this process: the memory store's, and the
SQLite store's (one process holds its file); the Redis store keeps them in Redis."""
import time


class Leases:
    """Each app's lease: who holds it and until when (this process's monotonic clock)."""

    def __init__(self, now=time.monotonic):
        self._now = now
        self._held = {}  # app -> (holder, until)

    def claim(self, app, holder, seconds):
        now = self._now()
        current = self._held.get(app)
        if current is not None and current[0] != holder and current[1] > now:
            return False
        self._held[app] = (holder, now + seconds)
        return True

    def release(self, app, holder):
        current = self._held.get(app)
        if current is not None and current[0] == holder:
            del self._held[app]
