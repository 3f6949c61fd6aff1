# -*- test-case-name: tests.store_contract.test_messages -*-
"""The message area of L{jim.store.memory.MemoryStore}: the log, history."""
from twisted.internet import defer
from twisted.logger import Logger
from zope.interface import implementer

from jim import errors
from jim.errors import JimError
from jim.interfaces import IMessageStore
from jim.model import SINGLE, Resent
from jim.store import (
    answered,
    check_paging,
    conversation_of,
    group_conversation,
    page,
    private_conversation,
    with_id,
)


@implementer(IMessageStore)
class MemoryMessages:
    log = Logger()

    def __init__(self):
        self._messages = {}  # id -> Message
        self._conversations = {}  # (app, conversation key) -> [id, ...] in id order
        # (app, sender, client_id, target_type, target) -> id of the first such message
        self._client_ids = {}
        self._client_senders = set()  # (app, sender, client_id) of every such message
        self._private = {}  # (app, username) -> {private conversation key, ...}
        self._last_id = 0

    def add_message_then(self, message, then, *args):
        self.append_message_then(self._with_next_id(message), then, *args)

    def add_message(self, message):
        return defer.succeed(self._append(self._with_next_id(message)))

    appends_once = False  # it reserves ids: the core checks first

    def announces(self, app):
        return False  # it has no bus to publish on

    def add_message_once_then(self, message, then, *args):
        found = self._client_ids.get((message.app, message.sender, message.client_id,
                                      message.target_type, message.target))
        if found is None:
            self.add_message_then(message, then, *args)
            return
        try:
            then(Resent(self._messages[found]), *args)
        except Exception:  # as add_message_then
            self.log.failure("the caller of store write add_message failed")

    def reserve_id(self):
        return self.next_id()

    def next_id(self):
        """The next id of the sequence (the event area takes its ids from it too)."""
        self._last_id += 1
        return self._last_id

    def _with_next_id(self, message):
        return with_id(message, self.next_id())

    def append_message_then(self, stored, then, *args):
        stored = self._append(stored)
        try:
            then(stored, *args)
        except Exception:  # as SqliteStore: a failing caller is logged, never raised to the writer
            self.log.failure("the caller of store write add_message failed")

    def add_run_then(self, run, then, *args):
        self.append_run_then([self._with_next_id(message) for message in run], then, *args)

    def append_run_then(self, run, then, *args):
        results = [self._append(stored) for stored in run]
        try:
            then(results, *args)
        except Exception:  # as append_message_then
            self.log.failure("the caller of store write append_run failed")

    def _append(self, stored):
        self._messages[stored.id] = stored
        conversation = conversation_of(stored)
        self._conversations.setdefault((stored.app, conversation), []).append(stored.id)
        if stored.target_type == SINGLE:
            for username in (stored.sender, stored.target):
                self._private.setdefault((stored.app, username), set()).add(conversation)
        if stored.client_id is not None:
            key = (stored.app, stored.sender, stored.client_id, stored.target_type, stored.target)
            self._client_ids.setdefault(key, stored.id)
            self._client_senders.add((stored.app, stored.sender, stored.client_id))
        return stored

    def _get(self, app, message_id):
        message = self._messages.get(message_id)
        return message if message is not None and message.app == app else None

    # -- what the inbox area (L{jim.store.memory_inbox}) reads -----------------------------------

    def last_id(self):
        return self._last_id

    def all_messages(self):
        """Every message of the log, of every app (the report area walks it)."""
        return self._messages.values()

    def private_conversations(self, app, username):
        return tuple(self._private.get((app, username), ()))

    def conversation(self, app, key):
        """The messages of a conversation, in id order."""
        return [self._messages[i] for i in self._conversations.get((app, key), ())]

    @answered
    def get_message(self, app, message_id):
        return self._get(app, message_id)

    def may_hold_client_id(self, app, sender, client_id):
        return (app, sender, client_id) in self._client_senders

    @answered
    def message_by_client_id(self, app, sender, client_id, target_type, target):
        message_id = self._client_ids.get((app, sender, client_id, target_type, target))
        return None if message_id is None else self._messages[message_id]

    @answered
    def retract_message(self, app, message_id):
        message = self._get(app, message_id)
        if message is None:
            raise JimError(errors.NO_SUCH_MESSAGE, f"no message {message_id}")
        if message.retracted:
            raise JimError(errors.ALREADY_RETRACTED, f"message {message_id} is retracted already")
        message = self._messages[message_id] = message._replace(retracted=True)
        return message

    @answered
    def private_history(self, app, user, peer, begin=None, end=None, offset=None, count=100):
        return self._history(app, private_conversation(user, peer), begin, end, offset, count)

    @answered
    def group_history(self, app, gid, begin=None, end=None, offset=None, count=100):
        return self._history(app, group_conversation(gid), begin, end, offset, count)

    def _history(self, app, conversation, begin, end, offset, count):
        check_paging(offset, count, begin, end)
        messages = [self._messages[i] for i in self._conversations.get((app, conversation), ())]
        in_range = sorted(
            (
                message
                for message in messages
                if not message.retracted
                and (begin is None or message.created >= begin)
                and (end is None or message.created <= end)
            ),
            key=lambda message: (message.created, message.id),
        )
        return page(in_range, offset, count)

    @answered
    def forget_app(self, app):
        """Forget the app's messages and conversations (L{jim.interfaces.IStore.forget_app}).
        The sequence goes on: ids are global here, as in SQLite."""
        for i in [i for i, message in self._messages.items() if message.app == app]:
            del self._messages[i]
        for kept in (self._conversations, self._client_ids, self._private):
            for key in [key for key in kept if key[0] == app]:
                del kept[key]
        self._client_senders = {key for key in self._client_senders if key[0] != app}
