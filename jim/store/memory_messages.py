# -*- test-case-name: tests.store_contract.test_messages -*-
"""The message area of L{jim.store.memory.MemoryStore}: the log, offline marks, history."""
from twisted.internet import defer
from twisted.logger import Logger
from zope.interface import implementer

from jim import errors
from jim.errors import JimError
from jim.interfaces import IMessageStore
from jim.model import SINGLE
from jim.store import (
    answered,
    check_limit,
    check_paging,
    conversation_of,
    group_conversation,
    is_offline_match,
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
        self._offline = {}  # (app, username) -> {message id, ...}
        self._private = {}  # (app, username) -> {private conversation key, ...}
        self._last_id = 0

    def add_message_then(self, message, offline_for, then, *args):
        self.append_message_then(self._with_next_id(message), offline_for, then, *args)

    def add_message(self, message, offline_for=()):
        return defer.succeed(self._append(self._with_next_id(message), offline_for))

    def reserve_id(self):
        return self._next_id()

    def _next_id(self):
        self._last_id += 1
        return self._last_id

    def _with_next_id(self, message):
        return with_id(message, self._next_id())

    def append_message_then(self, stored, offline_for, then, *args):
        stored = self._append(stored, offline_for)
        try:
            then(stored, *args)
        except Exception:  # as SqliteStore: a failing caller is logged, never raised to the writer
            self.log.failure("the caller of store write add_message failed")

    def _append(self, stored, offline_for):
        self._messages[stored.id] = stored
        conversation = conversation_of(stored)
        self._conversations.setdefault((stored.app, conversation), []).append(stored.id)
        if stored.target_type == SINGLE:
            for username in (stored.sender, stored.target):
                self._private.setdefault((stored.app, username), set()).add(conversation)
        if stored.client_id is not None:
            key = (stored.app, stored.sender, stored.client_id, stored.target_type, stored.target)
            self._client_ids.setdefault(key, stored.id)
        self._mark_offline(stored.app, stored.id, offline_for)
        return stored

    def _get(self, app, message_id):
        message = self._messages.get(message_id)
        return message if message is not None and message.app == app else None

    @answered
    def add_offline(self, app, message_id, usernames):
        if self._get(app, message_id) is None:
            raise JimError(errors.NO_SUCH_MESSAGE, f"no message {message_id}")
        self._mark_offline(app, message_id, usernames)

    def _mark_offline(self, app, message_id, usernames):
        for username in usernames:
            self._offline.setdefault((app, username), set()).add(message_id)

    # -- what the inbox area (L{jim.store.memory_inbox}) reads -----------------------------------

    def last_id(self):
        return self._last_id

    def private_conversations(self, app, username):
        return tuple(self._private.get((app, username), ()))

    def conversation(self, app, key):
        """The messages of a conversation, in id order."""
        return [self._messages[i] for i in self._conversations.get((app, key), ())]

    @answered
    def get_message(self, app, message_id):
        return self._get(app, message_id)

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
        # its offline marks stay: take_offline skips retracted messages, as SQLite's does
        message = self._messages[message_id] = message._replace(retracted=True)
        return message

    @answered
    def take_offline(self, app, username, peer=None, gid=None, limit=None, upto=None):
        check_limit(limit)
        check_limit(upto)
        waiting = self._offline.get((app, username), set())
        # a retracted message marked after its retraction (add_offline) is never returned
        waiting.difference_update([i for i in waiting if self._messages[i].retracted])
        taken = self._waiting(waiting, username, peer, gid, limit, upto)
        waiting.difference_update(taken)
        return [self._messages[message_id] for message_id in taken]

    @answered
    def peek_offline(self, app, username, peer=None, gid=None, limit=None):
        check_limit(limit)
        waiting = [i for i in self._offline.get((app, username), ())
                   if not self._messages[i].retracted]
        taken = self._waiting(waiting, username, peer, gid, limit, None)
        return [self._messages[message_id] for message_id in taken]

    def _waiting(self, waiting, username, peer, gid, limit, upto):
        taken = sorted(
            message_id
            for message_id in waiting
            if (upto is None or message_id <= upto)
            and is_offline_match(self._messages[message_id], username, peer, gid)
        )
        return taken if limit is None else taken[:limit]

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
