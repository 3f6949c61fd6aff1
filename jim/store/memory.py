# -*- test-case-name: tests.test_store_contract -*-
"""The reference L{IStore}: plain dicts, nothing durable.

It defines what the contract means (the shared contract suite runs against it first) and is the
fake the core's tests use. Every method answers with an already-fired Deferred; whatever it
returns is a copy, so a caller can never change the store by mutating a result.
"""
import functools

import attr
from twisted.internet import defer
from twisted.logger import Logger
from zope.interface import implementer

from jim import errors
from jim.errors import JimError
from jim.interfaces import IStore
from jim.store import (
    check_paging,
    conversation_of,
    group_conversation,
    is_offline_match,
    page,
    private_conversation,
    with_id,
)


def _answer(method):
    """Run C{method} now and hand its result (or its JimError) over as a fired Deferred."""

    @functools.wraps(method)
    def answered(*args, **kwargs):
        try:
            return defer.succeed(method(*args, **kwargs))
        except JimError as refusal:
            return defer.fail(refusal)

    return answered


@implementer(IStore)
class MemoryStore:
    log = Logger()

    def __init__(self):
        self._apps = {}  # key -> App
        self._users = {}  # (app, username) -> User
        self._groups = {}  # (app, gid) -> Group
        self._members = {}  # (app, gid) -> {username: None}, in joining order
        self._memberships = {}  # (app, username) -> {gid: None}, in joining order
        self._messages = {}  # id -> Message
        self._conversations = {}  # (app, conversation key) -> [id, ...] in id order
        # (app, sender, client_id, target_type, target) -> id of the first such message
        self._client_ids = {}
        self._offline = {}  # (app, username) -> {message id, ...}
        self._last_id = 0

    @_answer
    def start(self):
        return None

    @_answer
    def stop(self):
        return None

    # apps

    @_answer
    def add_app(self, app):
        if app.key in self._apps:
            raise JimError(errors.BAD_PARAMETER, f"app key {app.key!r} is taken")
        self._apps[app.key] = app

    @_answer
    def get_app(self, key):
        return self._apps.get(key)

    # users

    @_answer
    def add_user(self, user):
        if (user.app, user.username) in self._users:
            raise JimError(errors.USER_EXISTS, f"user {user.username!r} exists", http_status=403)
        self._users[(user.app, user.username)] = user

    @_answer
    def get_user(self, app, username):
        return self._users.get((app, username))

    @_answer
    def get_users(self, app, usernames):
        found = (self._users.get((app, name)) for name in dict.fromkeys(usernames))
        return [user for user in found if user is not None]

    @_answer
    def set_password(self, app, username, password):
        user = self._users.get((app, username))
        if user is None:
            raise JimError(errors.NO_SUCH_USER, f"no user {username!r}", http_status=403)
        self._users[(app, username)] = attr.evolve(user, password=password)

    # groups

    @_answer
    def add_group(self, group):
        if (group.app, group.gid) in self._groups:
            return False
        self._groups[(group.app, group.gid)] = group
        return True

    @_answer
    def get_group(self, app, gid):
        return self._groups.get((app, gid))

    @_answer
    def add_member(self, app, gid, username):
        if (app, gid) not in self._groups:
            raise JimError(errors.BAD_PARAMETER, f"no group {gid!r}")
        members = self._members.setdefault((app, gid), {})
        if username in members:
            return False
        members[username] = None
        self._memberships.setdefault((app, username), {})[gid] = None
        return True

    @_answer
    def group_members(self, app, gid):
        return list(self._members.get((app, gid), ()))

    @_answer
    def user_groups(self, app, username):
        return [self._groups[(app, gid)] for gid in self._memberships.get((app, username), ())]

    # messages

    def add_message_then(self, message, offline_for, then, *args):
        self.append_message_then(self._with_next_id(message), offline_for, then, *args)

    def add_message(self, message, offline_for=()):
        return defer.succeed(self._append(self._with_next_id(message), offline_for))

    def prepare_message(self, message):
        return self._with_next_id(message)

    def _with_next_id(self, message):
        self._last_id += 1
        return with_id(message, self._last_id)

    def append_message_then(self, stored, offline_for, then, *args):
        stored = self._append(stored, offline_for)
        try:
            then(stored, *args)
        except Exception:  # as SqliteStore: a failing caller is logged, never raised to the writer
            self.log.failure("the caller of store write add_message failed")

    def _append(self, stored, offline_for):
        self._messages[stored.id] = stored
        key = (stored.app, conversation_of(stored))
        self._conversations.setdefault(key, []).append(stored.id)
        if stored.client_id is not None:
            key = (stored.app, stored.sender, stored.client_id, stored.target_type, stored.target)
            self._client_ids.setdefault(key, stored.id)
        self._mark_offline(stored.app, stored.id, offline_for)
        return stored

    @_answer
    def add_offline(self, app, message_id, usernames):
        message = self._messages.get(message_id)
        if message is None or message.app != app:
            raise JimError(errors.BAD_PARAMETER, f"no message {message_id}")
        self._mark_offline(app, message_id, usernames)

    def _mark_offline(self, app, message_id, usernames):
        for username in usernames:
            self._offline.setdefault((app, username), set()).add(message_id)

    @_answer
    def message_by_client_id(self, app, sender, client_id, target_type, target):
        message_id = self._client_ids.get((app, sender, client_id, target_type, target))
        return None if message_id is None else self._messages[message_id]

    @_answer
    def take_offline(self, app, username, peer=None, gid=None, limit=None):
        waiting = self._offline.get((app, username), set())
        taken = sorted(
            message_id
            for message_id in waiting
            if is_offline_match(self._messages[message_id], username, peer, gid)
        )
        if limit is not None:
            taken = taken[:limit]
        waiting.difference_update(taken)
        return [self._messages[message_id] for message_id in taken]

    @_answer
    def private_history(self, app, user, peer, begin=None, end=None, offset=None, count=100):
        return self._history(app, private_conversation(user, peer), begin, end, offset, count)

    @_answer
    def group_history(self, app, gid, begin=None, end=None, offset=None, count=100):
        return self._history(app, group_conversation(gid), begin, end, offset, count)

    def _history(self, app, conversation, begin, end, offset, count):
        check_paging(offset, count, begin, end)
        messages = [self._messages[i] for i in self._conversations.get((app, conversation), ())]
        in_range = sorted(
            (
                message
                for message in messages
                if (begin is None or message.created >= begin)
                and (end is None or message.created <= end)
            ),
            key=lambda message: (message.created, message.id),
        )
        return page(in_range, offset, count)
