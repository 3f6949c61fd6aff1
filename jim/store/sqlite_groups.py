# -*- test-case-name: tests.store_contract.test_groups -*-
"""The groups area of L{jim.store.sqlite.SqliteStore}: each call is one write job (a write
that changes several rows included: one job is one transaction) or one read on the store's
shared engine."""
from zope.interface import implementer

from jim.interfaces import IGroupStore
from jim.model import Group, Member
from jim.store import GROUP_CHANGES, MEMBER_CHANGES, check_changes
from jim.store import sqlite_group_queries as q


@implementer(IGroupStore)
class SqliteGroups:
    """@param engine: the L{jim.store.sqlite.SqliteStore} whose threads run the SQL."""

    def __init__(self, engine):
        self._engine = engine

    def create_group(self, group, members):
        return self._engine.write(q.insert_group, group, list(members))

    def get_group(self, app, gid):
        return self._engine.read(q.select_group, app, gid)

    def group_by_alias(self, app, alias):
        return self._engine.read(q.select_group_by_alias, app, alias)

    def update_group(self, app, gid, changes):
        check_changes(Group, changes, GROUP_CHANGES)
        return self._engine.write(q.update_group, app, gid, dict(changes))

    def delete_group(self, app, gid):
        return self._engine.write(q.delete_group, app, gid)

    def list_groups(self, app, start, count):
        return self._engine.read_page(q.select_groups, app, start, count)

    def add_members(self, app, gid, members):
        return self._engine.write(q.insert_members, app, gid, list(members))

    def remove_members(self, app, gid, usernames):
        return self._engine.write(q.delete_members, app, gid, list(usernames))

    def update_member(self, app, gid, username, changes):
        check_changes(Member, changes, MEMBER_CHANGES)
        return self._engine.write(q.update_member, app, gid, username, dict(changes))

    def set_owner(self, app, gid, username):
        return self._engine.write(q.update_owner, app, gid, username)

    def members(self, app, gid):
        return self._engine.read(q.select_members, app, gid)

    def user_groups(self, app, username):
        return self._engine.read(q.select_user_groups, app, username)

    def members_with_prefix(self, app, prefix):
        return self._engine.read(q.select_members_with_prefix, app, prefix)
