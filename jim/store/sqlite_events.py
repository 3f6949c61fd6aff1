# -*- test-case-name: tests.store_contract.test_events -*-
"""The event area of L{jim.store.sqlite.SqliteStore}: an append takes the next id of the
message sequence and is written by the writer in order with the messages; reads are one
query each. Its SQL is in L{jim.store.sqlite_event_queries}."""
import attr
from twisted.internet import defer
from zope.interface import implementer

from jim.errors import JimError
from jim.interfaces import IEventStore
from jim.store import check_audience, check_limit
from jim.store import sqlite_event_queries as q


@implementer(IEventStore)
class SqliteEvents:
    """@param engine: the L{jim.store.sqlite.SqliteStore} whose threads run the SQL."""

    def __init__(self, engine):
        self._engine = engine

    def add_event(self, event, audience):
        try:
            audience = check_audience(event, audience)
        except JimError as refusal:
            return defer.fail(refusal)
        return self._engine.write_with_id(
            q.insert_event, lambda new_id: attr.evolve(event, id=new_id, kept=True), audience)

    def read_events(self, app, username, cursor, after=0, since=0, limit=100, per_user=100):
        try:
            check_limit(limit)
            check_limit(per_user)
        except JimError as refusal:
            return defer.fail(refusal)
        return self._engine.read(q.read_events, app, username, cursor, after, since, limit,
                                 per_user)

    def forget_events(self, created_before):
        return self._engine.write(q.forget_events, created_before)
