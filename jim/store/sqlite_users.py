# -*- test-case-name: tests.store_contract.test_users -*-
"""The users area of L{jim.store.sqlite.SqliteStore}: each call is one write job or one read
on the store's shared engine."""
from zope.interface import implementer

from jim.interfaces import IUserStore
from jim.model import User
from jim.store import USER_CHANGES, check_changes
from jim.store import sqlite_user_queries as q


@implementer(IUserStore)
class SqliteUsers:
    """@param engine: the L{jim.store.sqlite.SqliteStore} whose threads run the SQL."""

    def __init__(self, engine):
        self._engine = engine

    def add_user(self, user):
        return self._engine.write(q.insert_user, user)

    def get_user(self, app, username):
        return self._engine.read(q.select_user, app, username)

    def get_users(self, app, usernames):
        return self._engine.read(q.select_users, app, list(usernames))

    def update_user(self, app, username, changes):
        check_changes(User, changes, USER_CHANGES)
        return self._engine.write(q.update_user, app, username, dict(changes))

    def replace_password(self, app, username, old, new):
        return self._engine.write(q.replace_password, app, username, old, new)

    def delete_user(self, app, username):
        return self._engine.write(q.delete_user, app, username)

    def list_users(self, app, start, count, admin=False):
        return self._engine.read_page(q.select_user_page, app, bool(admin), start, count)
