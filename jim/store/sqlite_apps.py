# -*- test-case-name: tests.store_contract.test_apps -*-
"""The apps area of L{jim.store.sqlite.SqliteStore}: each call is one write job or one read
on the store's shared engine."""
from zope.interface import implementer

from jim.interfaces import IAppStore
from jim.model import App
from jim.store import APP_CHANGES, check_changes
from jim.store import sqlite_app_queries as q


@implementer(IAppStore)
class SqliteApps:
    """@param engine: the L{jim.store.sqlite.SqliteStore} whose threads run the SQL."""

    def __init__(self, engine):
        self._engine = engine

    def add_app(self, app):
        return self._engine.write(q.insert_app, app)

    def get_app(self, key):
        return self._engine.read(q.select_app, key)

    def update_app(self, key, changes):
        check_changes(App, changes, APP_CHANGES)
        return self._engine.write(q.update_app, key, dict(changes))

    def delete_app(self, key):
        return self._engine.write(q.delete_app, key)

    def list_apps(self, start, count):
        return self._engine.read_page(q.select_apps, start, count)
