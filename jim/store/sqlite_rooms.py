# -*- test-case-name: tests.store_contract.test_rooms -*-
"""The chat-room area of L{jim.store.sqlite.SqliteStore}: each call is one write job (a write
that changes several rows included: one job is one transaction) or one read on the store's
shared engine. Its SQL is in L{jim.store.sqlite_room_queries}."""
from twisted.internet import defer
from zope.interface import implementer

from jim.errors import JimError
from jim.interfaces import IRoomStore
from jim.model import Room, RoomMember
from jim.store import ROOM_CHANGES, ROOM_MEMBER_CHANGES, check_changes
from jim.store import sqlite_room_queries as q
from jim.store import members_page


@implementer(IRoomStore)
class SqliteRooms:
    """@param engine: the L{jim.store.sqlite.SqliteStore} whose threads run the SQL."""

    def __init__(self, engine):
        self._engine = engine

    def create_room(self, room, members):
        return self._engine.write(q.insert_room, room, list(members))

    def get_rooms(self, app, room_ids):
        return self._engine.read(q.select_rooms, app, list(room_ids))

    def update_room(self, app, room_id, changes):
        check_changes(Room, changes, ROOM_CHANGES)
        return self._engine.write(q.update_room, app, room_id, dict(changes))

    def delete_room(self, app, room_id):
        return self._engine.write(q.delete_room, app, room_id)

    def list_rooms(self, app, start, count):
        return self._engine.read_page(q.select_room_page, app, start, count)

    def add_room_members(self, app, room_id, members):
        return self._engine.write(q.insert_room_members, app, room_id, list(members))

    def remove_room_members(self, app, room_id, usernames):
        return self._engine.write(q.delete_room_members, app, room_id, list(usernames))

    def update_room_member(self, app, room_id, username, changes):
        check_changes(RoomMember, changes, ROOM_MEMBER_CHANGES)
        return self._engine.write(q.update_room_member, app, room_id, username, dict(changes))

    def room_members(self, app, room_id, start=0, count=None):
        try:
            members_page(start, count)
        except JimError as refusal:
            return defer.fail(refusal)
        return self._engine.read(q.select_room_members, app, room_id, start, count)

    def room_sizes(self, app, room_ids):
        return self._engine.read(q.select_room_sizes, app, list(room_ids))

    def user_rooms(self, app, username):
        return self._engine.read(q.select_user_rooms, app, username)

    def leave_all_rooms(self, app, username):
        return self._engine.write(q.delete_memberships, app, username)

    def room_members_with_prefix(self, app, prefix):
        return self._engine.read(q.select_members_with_prefix, app, prefix)
