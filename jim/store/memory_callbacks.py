# -*- test-case-name: tests.store_contract.test_callbacks -*-
"""The callback backlog of L{jim.store.memory.MemoryStore}: a dict of items per app, and the
apps' leases in this process (L{jim.store.leases.Leases})."""
import itertools
import time

from zope.interface import implementer

from jim.interfaces import ICallbackStore
from jim.store import answered
from jim.store.leases import Leases


@implementer(ICallbackStore)
class MemoryCallbacks:
    """@param now: the leases' clock (seconds)."""

    def __init__(self, now=time.monotonic):
        self._items = {}  # app -> {id: (kind, text)}, oldest first
        self._ids = itertools.count(1)
        self._leases = Leases(now)

    @answered
    def append(self, app, items):
        if not items:
            return
        mine = self._items.setdefault(app, {})
        for kind, text in items:
            mine[next(self._ids)] = (kind, text)

    @answered
    def batch(self, app, count):
        mine = self._items.get(app, {})
        return [(item_id, kind, text)
                for item_id, (kind, text) in itertools.islice(mine.items(), count)]

    @answered
    def delete(self, app, ids):
        mine = self._items.get(app)
        if mine is None:
            return
        for item_id in ids:
            mine.pop(item_id, None)
        if not mine:
            del self._items[app]

    @answered
    def count(self, app):
        return len(self._items.get(app, ()))

    @answered
    def trim(self, app, most):
        mine = self._items.get(app)
        if mine is None or len(mine) <= most:
            return 0
        dropped = len(mine) - most
        for item_id in list(itertools.islice(mine, dropped)):
            del mine[item_id]
        if not mine:
            del self._items[app]
        return dropped

    @answered
    def pending_apps(self):
        return list(self._items)

    @answered
    def forget_app(self, app):
        """Forget the app's items (L{jim.interfaces.IStore.forget_app})."""
        self._items.pop(app, None)

    @answered
    def claim(self, app, holder, seconds):
        return self._leases.claim(app, holder, seconds)

    @answered
    def release(self, app, holder):
        self._leases.release(app, holder)
