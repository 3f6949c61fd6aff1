# -*- test-case-name: tests.store_contract.test_rooms -*-
"""The chat-room area of L{jim.store.memory.MemoryStore}: rooms and their members."""
import attr
from zope.interface import implementer

from jim import model
from jim.interfaces import IRoomStore
from jim.model import Room, RoomMember
from jim.store import (
    ROOM_CHANGES, ROOM_MEMBER_CHANGES, answered, changed, check_changes, check_page, in_room,
    members_page, next_room_id, no_such_room, not_in_room, room_full,
)


@implementer(IRoomStore)
class MemoryRooms:
    """@param silences: the store's L{jim.store.memory_silences.MemorySilences}, where the
        members removed keep their silences."""

    def __init__(self, silences):
        self._silences = silences
        self._rooms = {}  # (app, room id) -> Room, in creation order
        self._members = {}  # (app, room id) -> {username: RoomMember}, in joining order
        self._memberships = {}  # (app, username) -> {room id: None}, in joining order
        self._marks = {}  # app -> the highest room id it ever gave (deleted rooms' included)

    def _room(self, app, room_id):
        room = self._rooms.get((app, room_id))
        if room is None:
            raise no_such_room(room_id)
        return room

    def _join(self, app, room_id, members):
        current = self._members[(app, room_id)]
        for member in members:
            current[member.username] = member
            self._memberships.setdefault((app, member.username), {})[room_id] = None

    @answered
    def create_room(self, room, members):
        app = room.app
        room = attr.evolve(room, id=next_room_id(self._marks.get(app, 0)))
        self._marks[app] = room.id
        self._rooms[(app, room.id)] = room
        self._members[(app, room.id)] = {}
        self._join(app, room.id, members)
        return room

    @answered
    def get_rooms(self, app, room_ids):
        found = (self._rooms.get((app, room_id)) for room_id in dict.fromkeys(room_ids))
        return [room for room in found if room is not None]

    @answered
    def update_room(self, app, room_id, changes):
        check_changes(Room, changes, ROOM_CHANGES)  # a caller's bug comes first, as in SQLite
        room = changed(self._room(app, room_id), changes, ROOM_CHANGES)
        self._rooms[(app, room_id)] = room
        return room

    @answered
    def delete_room(self, app, room_id):
        self._room(app, room_id)
        del self._rooms[(app, room_id)]
        for username in self._members.pop((app, room_id)):
            del self._memberships[(app, username)][room_id]

    @answered
    def list_rooms(self, app, start, count):
        check_page(start, count)
        rooms = [room for (a, _), room in self._rooms.items() if a == app]
        return len(rooms), rooms[start : start + count]

    @answered
    def add_room_members(self, app, room_id, members):
        room = self._room(app, room_id)
        current = self._members[(app, room_id)]
        if any(member.username in current for member in members):
            raise in_room(room_id)
        if members and len(current) + len(members) > room.max_members:
            raise room_full(room_id, room.max_members)
        self._join(app, room_id, members)

    @answered
    def remove_room_members(self, app, room_id, usernames):
        self._room(app, room_id)
        current = self._members[(app, room_id)]
        if any(username not in current for username in usernames):
            raise not_in_room(room_id)
        self._silences.keep(app, model.silence_place(model.ROOMS_AREA, room_id),
                            [username for username in usernames if current[username].silenced])
        for username in usernames:
            del current[username]
            del self._memberships[(app, username)][room_id]

    @answered
    def update_room_member(self, app, room_id, username, changes):
        check_changes(RoomMember, changes, ROOM_MEMBER_CHANGES)
        self._room(app, room_id)
        current = self._members[(app, room_id)]
        if username not in current:
            raise not_in_room(room_id)
        member = current[username] = changed(current[username], changes, ROOM_MEMBER_CHANGES)
        return member

    @answered
    def room_members(self, app, room_id, start=0, count=None):
        members_page(start, count)
        self._room(app, room_id)
        members = list(self._members[(app, room_id)].values())
        end = None if count is None else start + count
        return len(members), members[start:end]

    @answered
    def room_sizes(self, app, room_ids):
        return {room_id: len(self._members[(app, room_id)]) for room_id in room_ids
                if (app, room_id) in self._rooms}

    @answered
    def user_rooms(self, app, username):
        return list(self._memberships.get((app, username), ()))

    @answered
    def room_members_with_prefix(self, app, prefix):
        return sorted((room_id, username)
                      for (of, username), rooms in self._memberships.items()
                      if of == app and username.startswith(prefix) for room_id in rooms)

    @answered
    def leave_all_rooms(self, app, username):
        rooms = self._memberships.pop((app, username), {})
        for room_id in rooms:
            del self._members[(app, room_id)][username]
        return len(rooms)

    @answered
    def forget_app(self, app):
        """Forget the app's rooms, members and room id mark
        (L{jim.interfaces.IStore.forget_app}): a new app of the same key starts from
        L{jim.model.FIRST_ROOM_ID} again."""
        for kept in (self._rooms, self._members, self._memberships):
            for key in [key for key in kept if key[0] == app]:
                del kept[key]
        self._marks.pop(app, None)
