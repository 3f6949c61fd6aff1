# -*- test-case-name: tests.store_contract.test_media -*-
"""The media area of L{jim.store.sqlite.SqliteStore}: each call is one write job or one read
on the store's shared engine."""
from twisted.internet import defer
from zope.interface import implementer

from jim.interfaces import IMediaStore
from jim.store import sqlite_media_queries as q


@implementer(IMediaStore)
class SqliteMedia:
    """@param engine: the L{jim.store.sqlite.SqliteStore} whose threads run the SQL."""

    def __init__(self, engine):
        self._engine = engine

    def add_media(self, media, quota=0):
        return self._engine.write(q.insert_media, media, quota)

    def get_media(self, app, media_id):
        return self._engine.read(q.select_media, app, media_id)

    def media_usage(self, app):
        return self._engine.read(q.select_usage, app)

    def count_older(self):
        """Nothing to count: migration 18 counted what was kept before it (one node: no older
        jim keeps records meanwhile)."""
        return defer.succeed(None)

    def named_hashes(self, content_hashes):
        return self._engine.read(q.select_named, list(content_hashes))
