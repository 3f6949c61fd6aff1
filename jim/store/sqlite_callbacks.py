# -*- test-case-name: tests.store_contract.test_callbacks -*-
"""The callback backlog of L{jim.store.sqlite.SqliteStore}: each call is one write job or one
read; its SQL is in L{jim.store.sqlite_callback_queries}. The leases are kept in memory: one
process holds the file."""
from twisted.internet import defer
from zope.interface import implementer

from jim.interfaces import ICallbackStore
from jim.store import sqlite_callback_queries as q
from jim.store.leases import Leases


@implementer(ICallbackStore)
class SqliteCallbacks:
    """@param engine: the L{jim.store.sqlite.SqliteStore} whose threads run the SQL."""

    def __init__(self, engine):
        self._engine = engine
        self._leases = Leases()

    def append(self, app, items):
        return self._engine.write(q.insert_items, app, list(items))

    def batch(self, app, count):
        return self._engine.read(q.select_batch, app, count)

    def delete(self, app, ids):
        return self._engine.write(q.delete_items, app, list(ids))

    def count(self, app):
        return self._engine.read(q.count_items, app)

    def trim(self, app, most):
        return self._engine.write(q.trim_items, app, most)

    def pending_apps(self):
        return self._engine.read(q.select_apps)

    def claim(self, app, holder, seconds):
        return defer.succeed(self._leases.claim(app, holder, seconds))

    def release(self, app, holder):
        self._leases.release(app, holder)
        return defer.succeed(None)
