# -*- test-case-name: tests.store_contract.test_inbox -*-
"""The inbox area of L{jim.store.sqlite.SqliteStore}: device cursors (each move one write job,
its merge done inside it) and a user's inbox read from the message log (one read). Its SQL is
in L{jim.store.sqlite_inbox_queries}."""
from twisted.internet import defer
from zope.interface import implementer

from jim.errors import JimError
from jim.interfaces import IInboxStore
from jim.store import check_limit
from jim.store import sqlite_inbox_queries as q


@implementer(IInboxStore)
class SqliteInbox:
    """@param engine: the L{jim.store.sqlite.SqliteStore} whose threads run the SQL."""

    def __init__(self, engine):
        self._engine = engine

    def last_message_id(self, app):
        # the engine's counter, global to the file: above every id of any app given so far
        return self._engine.last_message_id()

    def cursors(self, app, username):
        return self._engine.read(q.select_cursors, app, username)

    def move_cursor(self, app, username, device, cursor):
        return self._engine.write(q.move_cursor, app, username, device, cursor)

    def forget_cursors(self, seen_before):
        return self._engine.write(q.forget_cursors, seen_before)

    def read(self, app, username, gids, cursor, after=0, peer=None, gid=None, since=0, limit=100,
             per_conversation=100):
        try:
            check_limit(limit)
            check_limit(per_conversation)
        except JimError as refusal:
            return defer.fail(refusal)
        return self._engine.read(q.read_inbox, app, username, tuple(gids or ()), cursor, after,
                                 peer, gid, since, limit, per_conversation)
