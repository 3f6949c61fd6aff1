# -*- test-case-name: tests.store_contract.test_reports -*-
"""The report area of L{jim.store.sqlite.SqliteStore}: reads on the reader thread, the active
users one write job, the sweep a series of bounded write jobs (each one commits with whatever
else that turn writes, so a sweep never holds writers up for long). Its SQL is in
L{jim.store.sqlite_report_queries}."""
from twisted.internet import defer
from zope.interface import implementer

from jim.interfaces import IReportStore
from jim.model import report_hour
from jim.store import sqlite_report_queries as q
from jim.store.sqlite_history_queries import index_conversations


@implementer(IReportStore)
class SqliteReports:
    """@param engine: the L{jim.store.sqlite.SqliteStore} whose threads run the SQL."""

    def __init__(self, engine):
        self._engine = engine

    def report_messages(self, app, scope, begin, end, after, count):
        return self._engine.read(q.select_report_messages, app, scope, begin, end, after, count)

    def count_report_messages(self, app, scope, begin, end):
        return self._engine.read(q.count_report_messages, app, scope, begin, end)

    def message_counts(self, app, begin, end):
        return self._engine.read(q.select_message_counts, app, begin, end)

    def distinct_count(self, app, what, begin, end):
        return self._engine.read(q.count_distinct, app, what, begin, end)

    def note_active(self, app, usernames, at):
        return self._engine.write(q.insert_active, app, list(usernames), report_hour(at))

    def created_histogram(self, app, kind, edges):
        return self._engine.read(q.created_histogram, app, kind, list(edges))

    async def _forget(self, before):
        # the tail first: what the sweep forgets must be indexed to be forgotten
        await self._engine.write(index_conversations)
        gone = 0
        for app in await self._engine.read(q.report_apps):
            while True:
                went = await self._engine.write(q.sweep_app, app, before)
                gone += went
                if went < q.SWEEP_BATCH:
                    break
        resume = None
        while True:
            went, resume = await self._engine.write(q.sweep_user_index, resume, before)
            gone += went
            if resume is None:
                break
        await self._engine.write(q.mark_swept, before)
        return gone

    def forget_reports(self, before):
        return defer.ensureDeferred(self._forget(before))
