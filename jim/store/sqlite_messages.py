# -*- test-case-name: tests.store_contract.test_messages,tests.test_store_sqlite -*-
"""The message area of L{jim.store.sqlite.SqliteStore}: the log, history.

Appends go through the engine's own path (ids handed out on the reactor thread, appends
written together by the writer: docs/storage.md); everything else is one write job or one read.
"""
from twisted.internet import defer
from zope.interface import implementer

from jim.errors import JimError
from jim.interfaces import IMessageStore
from jim.store import check_paging, group_conversation, private_conversation
from jim.store import sqlite_history_queries as history
from jim.store import sqlite_message_queries as q
from jim.store.serial_thread import settle


@implementer(IMessageStore)
class SqliteMessages:
    """@param engine: the L{jim.store.sqlite.SqliteStore} whose threads run the SQL."""

    def __init__(self, engine):
        self._engine = engine

    def add_message(self, message):
        done = defer.Deferred()
        self._engine.add(message, settle, (done,))
        return done

    def add_message_then(self, message, then, *args):
        self._engine.add(message, then, args)

    def reserve_id(self):
        return self._engine.reserve_id()

    appends_once = False  # it reserves ids: the core checks first

    def announces(self, app):
        return False  # it has no bus to publish on

    def add_message_once_then(self, message, then, *args):
        self._engine.add_once(message, then, args)

    def append_message_then(self, stored, then, *args):
        self._engine.append(stored, then, args)

    def append_run_then(self, run, then, *args):
        self._engine.append_run(run, then, args)

    def add_run_then(self, run, then, *args):
        self._engine.add_run(run, then, args)

    def get_message(self, app, message_id):
        return self._engine.read(q.select_message, app, message_id)

    def may_hold_client_id(self, app, sender, client_id):
        return self._engine.may_hold_client_id(app, sender, client_id)

    def message_by_client_id(self, app, sender, client_id, target_type, target):
        return self._engine.read(q.select_by_client_id, app, sender, client_id, target_type,
                                 target)

    def retract_message(self, app, message_id):
        return self._engine.write(q.retract_message, app, message_id)

    def private_history(self, app, user, peer, begin=None, end=None, offset=None, count=100):
        return self._history(app, private_conversation(user, peer), begin, end, offset, count)

    def group_history(self, app, gid, begin=None, end=None, offset=None, count=100):
        return self._history(app, group_conversation(gid), begin, end, offset, count)

    def _history(self, app, conversation, begin, end, offset, count):
        try:
            check_paging(offset, count, begin, end)
        except JimError as refusal:
            return defer.fail(refusal)
        return self._engine.read(history.select_history, app, conversation, begin, end, offset,
                                 count)
