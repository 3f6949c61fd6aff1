# -*- test-case-name: tests.integration.test_cross_rooms -*-
"""Cross-app chat rooms: the users of an app that allows the room's app (each lists the other
in its C{cross_apps}) are members of that app's chat rooms, and get and send their messages
live, as its own members do.

As for groups (L{jim.core.cross_groups}), the room's app keeps the room and its members,
another app's user by its qualified name; a member of another app names the room
C{<room appkey>:<room id>}. A message of such a room is kept once in the log of each app that
has members in it (and allows the room's app now), as the room's history is kept in its app
(in no inbox: a room's messages are live only), the sender's app's copy last; each copy goes to
that app's members online, every connection of theirs (the sender's too).
"""
import attr
from twisted.logger import Logger

from jim import errors, model
from jim.core.cross_apps import found_in_apps, in_batches, take_out_everywhere
from jim.core.cross_copies import audience_by_app, keep_copies, renamed
from jim.errors import JimError
from jim.model import CHATROOM


def room_ref(name, home):
    """C{(room app, room id)} of a room name in app C{home}'s data: an id's decimal, or
    C{<appkey>:<id>}; JimError(NO_SUCH_ROOM) for anything else."""
    room_app, room_id = model.unqualified(name, home)
    if not (room_id.isdigit() and room_id.isascii() and len(room_id) <= 18):
        raise JimError(errors.NO_SUCH_ROOM, f"no chat room {name!r}")
    return room_app, int(room_id)


class CrossRooms:
    log = Logger()

    def __init__(self, cross, cross_groups, rooms):
        self.cross = cross  # the L{jim.core.cross_apps.CrossApps}: permission and users
        self.cross_groups = cross_groups  # which apps allow an app now
        self.rooms = rooms
        self.messages = cross.messages

    async def add_members(self, app, room_id, entries):
        """Bring users into app C{app}'s room C{room_id}: C{entries} C{[(appkey,
        [username, ...])]}. Another app named must allow C{app} (C{CROSS_APP_DENIED} before
        anything of its users is read); its users must exist (C{NO_SUCH_USER})."""
        names, _ = await self.cross.resolve(app, entries)
        await self.rooms.add_members(app, room_id, names, checked=True)

    async def silence(self, app, room_id, username, silenced):
        """L{jim.core.rooms.Rooms.silence}, where a member of another app may be silenced
        only while that app allows C{app} (C{CROSS_APP_DENIED})."""
        if silenced:
            await self.cross.require_reachable(app, [username])
        await self.rooms.silence(app, room_id, username, silenced)

    async def remove_members(self, app, room_id, entries):
        """Take users out of app C{app}'s room C{room_id}; no permission is needed: an app
        may always clear what it keeps."""
        names, _ = await self.cross.resolve(app, entries, exist=False, permitted=False)
        await self.rooms.remove_members(app, room_id, names)

    async def app_deleted(self, key, others):
        """The users of app C{key}, deleted, leave the chat rooms of the apps C{others}; every
        node forgets the rooms' members it held. JimError(SERVER_ERROR) when some could not be
        taken out (each logged); the others are."""
        await take_out_everywhere(key, others, self.rooms.store.room_members_with_prefix,
                                  self._remove_gone, "chat rooms", self.log)

    async def user_deleted(self, app, username):
        """A deleted user leaves the chat rooms of other apps it was in (of every other app,
        not only those its app lists now: it may have entered one while the permission
        lasted), and no silence of its is kept in them: of their rooms, nor of their groups,
        which it left in the step before (L{CrossGroups.user_deleted}). (A deleted app's
        users' silences go by L{jim.core.silences.KeptSilences.app_deleted}.)"""
        name = model.qualified(app, username)
        others = [key for key in await self.cross.accounts.every_app_key() if key != app]
        for other_key, room_ids in await found_in_apps(
                others, lambda key: self.rooms.store.user_rooms(key, name)):
            for room_id in room_ids:
                await self._remove_gone(other_key, room_id, [name])
        await in_batches(others, lambda key: self.rooms.silences.user_deleted(key, name))

    async def _remove_gone(self, app, room_id, names):
        """Take the members C{names} (still members) out of app C{app}'s room; a room deleted
        meanwhile went with its members."""
        try:
            members = await self.rooms.members(app, room_id)
            gone = frozenset(names)
            names = [name for name in members if name in gone]
            if names:
                await self.rooms.remove_members(app, room_id, names)
        except JimError as e:
            if e.code != errors.NO_SUCH_ROOM:
                raise

    async def send(self, app, sender, draft, connection_id=None):
        """Send C{draft} of app C{app}'s user C{sender} to a room with members of other apps,
        or to another app's room (C{<appkey>:<id>}): C{(sender's copy, True)}."""
        room_app, room_id = room_ref(draft.target, app)
        if room_app != app:
            await self.cross.allowed(app, room_app)
        messages = self.messages
        me = await self.cross.users.get(app, sender)
        seen_as = renamed(sender, app, room_app)
        members = await self.rooms.members(room_app, room_id)
        refusal = messages.policy.check_sender(me, draft)
        if refusal is None and room_app != app and seen_as not in members:
            # another app's app server writes to no room of this app but its users'
            refusal = messages.policy.refuse(errors.NOT_IN_ROOM, f"{sender!r} is not in chat"
                                             f" room {draft.target}")
        if refusal is None:
            refusal = messages.policy.room(attr.evolve(me, username=seen_as), room_id, members,
                                           draft)
        if refusal is not None:
            raise refusal
        copies = await keep_copies(messages, CHATROOM, room_app, room_id, app, sender, draft,
                                   audience_by_app(members, room_app),
                                   await self.cross_groups.allowed_apps(room_app))
        messages.metrics.messages_in += 1
        return copies[-1], True
