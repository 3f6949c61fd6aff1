# -*- test-case-name: tests.store_contract.test_silences -*-
"""The silence area of L{jim.store.sqlite.SqliteStore}: each call is one write job or one
read. Its SQL is in L{jim.store.sqlite_silence_queries}."""
from zope.interface import implementer

from jim.interfaces import ISilenceStore
from jim.store import sqlite_silence_queries as q


@implementer(ISilenceStore)
class SqliteSilences:
    """@param engine: the L{jim.store.sqlite.SqliteStore} whose threads run the SQL."""

    def __init__(self, engine):
        self._engine = engine

    def keep_silences(self, app, place, usernames):
        return self._engine.write(q.insert_silences, app, place, list(usernames))

    def silenced_among(self, app, place, usernames):
        return self._engine.read(q.select_silenced, app, place, list(usernames))

    def release_silences(self, app, place, usernames):
        return self._engine.write(q.delete_silences, app, place, list(usernames))

    def forget_place(self, app, place):
        return self._engine.write(q.delete_place, app, place)

    def forget_user_silences(self, app, username):
        return self._engine.write(q.delete_user, app, username)

    def forget_users_with_prefix(self, app, prefix):
        return self._engine.write(q.delete_users_with_prefix, app, prefix)
