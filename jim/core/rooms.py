# -*- test-case-name: tests.test_core_rooms -*-
"""The Rooms service: chat rooms (JMessage's ``/v1/chatroom``) and their members.

A chat room's messages reach the members online when they are sent, on every node, and are
never kept as offline messages: the message is written once to the log (the room's history),
whatever the number of members, and its fan-out is encoded once per transport like a group's.
For that, a node keeps each room's members in memory (read once, forgotten when the room
changes anywhere: an L{Invalidate} of L{model.ROOMS_AREA}); a read that a change overtook is
the reader's only. A change goes to the store first, then into this node's memory, then to
the other nodes.
"""
from twisted.logger import Logger

from jim import errors, model
from jim.core.cache import Bounded, SharedLoads
from jim.core.silences import room_place
from jim.core.users import TEXT_BYTES, check_name, check_text, named_once
from jim.errors import JimError
from jim.model import Invalidate, Room, RoomMember


class Rooms:
    log = Logger()

    def __init__(self, store, users, bus, clock, limits, silences, cache_size=100_000):
        self.store = store  # the L{jim.interfaces.IRoomStore}
        self.silences = silences  # L{jim.core.silences.KeptSilences}
        self.users = users
        self.bus = bus
        self.clock = clock
        self.limits = limits
        self._members = Bounded(cache_size)  # (app, room id) -> {username: RoomMember}
        self._foreign = Bounded(cache_size)  # (app, room id) -> (members, their foreign ones)
        self._generations = Bounded(cache_size)  # (app, room id) -> changes so far
        self._epoch = 0  # times every room was forgotten at once
        self._loads = SharedLoads()

    def _now(self):
        return int(self.clock.seconds() * 1000)

    # -- the hot path's lookup (memory only) --------------------------------------------------

    def cached_members(self, app, room_id):
        """{username: RoomMember} of a room whose members are in memory, else None."""
        return self._members.get((app, room_id))

    def foreign_members(self, app, room_id, members):
        """The members of other apps (qualified names) among C{members}, the room's: counted
        once for the members memory holds, until they change."""
        key = (app, room_id)
        known = self._foreign.get(key)  # (members, foreign): members are replaced, not changed
        if known is not None and known[0] is members:
            return known[1]
        found = tuple(n for n in members if model.QUALIFIER in n)
        if self._members.get(key) is members:
            self._foreign[key] = (members, found)
        return found

    # -- reading ------------------------------------------------------------------------------

    def _generation(self, key):
        return self._epoch, self._generations.get(key, 0)

    async def members(self, app, room_id):
        """{username: RoomMember} of a room, in the order they came in, read once and kept.
        JimError(NO_SUCH_ROOM) for a room that does not exist."""
        found = self._members.get((app, room_id))
        if found is None:
            key = (app, room_id)
            found = await self._loads.load(("members", key, self._generation(key)),
                                           lambda: self._load(key))
        return found

    async def _load(self, key):
        generation = self._generation(key)
        _, listed = await self.store.room_members(*key)
        members = {member.username: member for member in listed}
        if generation == self._generation(key):
            self._members[key] = members
        return members

    async def get(self, app, room_id):
        """The Room, or JimError(NO_SUCH_ROOM)."""
        found = await self.store.get_rooms(app, [room_id])
        if not found:
            raise JimError(errors.NO_SUCH_ROOM, f"no chat room {room_id}")
        return found[0]

    async def get_many(self, app, room_ids):
        """C{[(Room, member count), ...]} of those of C{room_ids} that exist, in that order."""
        return await self._with_sizes(app, await self.store.get_rooms(app, room_ids))

    async def list(self, app, start, count):
        """C{(total, [(Room, member count), ...])}: a page of the app's rooms."""
        total, rooms = await self.store.list_rooms(app, start, count)
        return total, await self._with_sizes(app, rooms)

    async def user_rooms(self, app, username):
        """C{[(Room, member count), ...]} of the rooms the user is in."""
        await self.users.get(app, username)
        return await self.get_many(app, await self.store.user_rooms(app, username))

    async def member_page(self, app, room_id, start, count):
        """C{(total, [RoomMember, ...])}."""
        return await self.store.room_members(app, room_id, start, count)

    async def _with_sizes(self, app, rooms):
        sizes = await self.store.room_sizes(app, [room.id for room in rooms]) if rooms else {}
        return [(room, sizes.get(room.id, 0)) for room in rooms]

    # -- changing -----------------------------------------------------------------------------

    async def create(self, app, owner, name, members=(), description=""):
        """A new room owned by C{owner}, a member with C{members}; the Room."""
        name = check_name(name, "chat room")
        description = check_text("description", description, TEXT_BYTES)
        names = list(dict.fromkeys([owner, *members]))
        await self.users.require_all(app, names)
        now = self._now()
        room = Room(app, 0, name, description, owner, self.limits.room_size, now, now)
        if len(names) > room.max_members:
            raise JimError(errors.ROOM_FULL, f"a chat room has at most {room.max_members}"
                           " members")
        room = await self.store.create_room(room, [RoomMember(n, joined=now) for n in names])
        self.log.info("chat room {id} of app {app} created by {owner} with {n} member(s)",
                      id=room.id, app=app, owner=owner, n=len(names))
        return room

    async def update(self, app, room_id, name=None, description=None, owner=None):
        """Change a room's name, description or owner (a member)."""
        changes = {}
        if name is not None:
            changes["name"] = check_name(name, "chat room")
        if description is not None:
            changes["description"] = check_text("description", description, TEXT_BYTES)
        if owner is not None:
            await self.users.get(app, owner)
            if owner not in await self.members(app, room_id):
                raise JimError(errors.NOT_IN_ROOM, f"{owner!r} is not in chat room {room_id}")
            changes["owner"] = owner
        if not changes:
            raise JimError(errors.BAD_REQUEST, "change the name, the description or the owner")
        changes["mtime"] = self._now()
        room = await self.store.update_room(app, room_id, changes)
        self._changed(app, room_id)
        return room

    async def delete(self, app, room_id):
        await self.store.delete_room(app, room_id)
        self._changed(app, room_id)
        await self.silences.place_gone(app, room_place(room_id))
        self.log.info("chat room {id} of app {app} deleted", id=room_id, app=app)

    async def add_members(self, app, room_id, usernames, checked=False):
        """Bring users in; C{checked}: the caller found them all (other apps' users, by
        their qualified names: L{jim.core.cross_rooms})."""
        names = named_once(usernames, "user")
        if not checked:
            await self.users.require_all(app, names)
        now = self._now()
        await self._bring_in(app, room_id, [RoomMember(n, joined=now) for n in names])

    async def _bring_in(self, app, room_id, new):
        """Write C{new} members: those who left silenced come back silenced
        (L{jim.core.silences})."""
        new = await self.silences.coming_back(app, room_place(room_id), new)
        try:
            await self.store.add_room_members(app, room_id, new)
        finally:
            self._changed(app, room_id)  # (refused too: another connection may be in it now)

    async def remove_members(self, app, room_id, usernames):
        names = named_once(usernames, "user")
        room = await self.get(app, room_id)
        if room.owner in names:
            raise JimError(errors.NOT_ALLOWED, "the owner cannot leave its chat room")
        await self.store.remove_room_members(app, room_id, names)  # (silences kept there)
        self._changed(app, room_id)

    async def enter(self, app, username, room_id):
        """A user comes into a room (a client's own call): a member from now on. Entering a
        room one is in already changes nothing."""
        if username not in await self.members(app, room_id):
            try:
                await self._bring_in(app, room_id, [RoomMember(username, joined=self._now())])
            except JimError as e:
                if e.code != errors.IN_ROOM:  # entered meanwhile, from another connection
                    raise
            await self.bus.flushed()  # every node has it before the client hears

    async def leave(self, app, username, room_id):
        """A user leaves a room (a client's own call; its owner may not). Every node has it
        before the client hears: no message of the room reaches it after."""
        await self.remove_members(app, room_id, [username])
        await self.bus.flushed()

    async def silence(self, app, room_id, username, silenced):
        await self.store.update_room_member(app, room_id, username, {"silenced": silenced})
        self._changed(app, room_id)
        if not silenced:
            await self.silences.lifted(app, room_place(room_id), [username])

    async def user_deleted(self, app, username):
        """Take a deleted user out of every room."""
        rooms = await self.store.user_rooms(app, username)
        await self.store.leave_all_rooms(app, username)
        for room_id in rooms:
            self._changed(app, room_id)

    def _changed(self, app, room_id):
        key = (app, room_id)
        self._generations[key] = self._generations.get(key, 0) + 1
        self._members.pop(key, None)
        self.bus.publish(Invalidate(model.ROOMS_AREA, app, str(room_id), self.bus.node))

    def on_bus(self, value):
        """Forget a room another node changed (or every room)."""
        if value.area != model.ROOMS_AREA or value.origin == self.bus.node:
            return
        if value.app == model.EVERY_APP:
            self._epoch += 1
            self._members.clear()
            return
        try:
            key = (value.app, int(value.key))
        except ValueError:
            return
        self._generations[key] = self._generations.get(key, 0) + 1
        self._members.pop(key, None)
