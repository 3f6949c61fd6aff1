# -*- test-case-name: tests.test_core_groups,tests.test_core_rooms -*-
"""Silences that outlast a membership: a user silenced in a group or a chat room who leaves it
(or is taken out) comes back silenced, so that leaving and coming back (a public group's
join, a room's enter) does not lift a silence. Only lifting it does, or the place going, or
the user being deleted. What is kept is the store's (L{jim.interfaces.ISilenceStore}), shared
by every node. The store keeps a member's silence in the same atomic change that takes the
member out (L{jim.interfaces.IGroupStore.remove_members}, C{remove_room_members}), from the
member as stored then: a silence set on another node an instant before the member leaves
is kept too, which a decision made from a node's cached members could miss. The Groups and
Rooms services call this as members come in, as silences are lifted and as places go.
"""
import attr

from jim import model


def group_place(gid):
    return model.silence_place(model.GROUPS_AREA, gid)


def room_place(room_id):
    return model.silence_place(model.ROOMS_AREA, room_id)


class KeptSilences:
    """@param store: the L{jim.interfaces.ISilenceStore}."""

    def __init__(self, store):
        self.store = store

    async def coming_back(self, app, place, new):
        """C{new} members (Member or RoomMember values) as they should come into C{place}:
        those whose silence is kept come back silenced. What is kept stays kept (of a member
        who is in and silenced it changes nothing) until the silence is lifted: forgetting it
        as they come in would race with their leaving again on another node."""
        kept = await self.store.silenced_among(app, place, [m.username for m in new])
        if not kept:
            return new
        silenced = set(kept)
        return [attr.evolve(m, silenced=True) if m.username in silenced else m for m in new]

    async def lifted(self, app, place, names):
        """The silence of these members of C{place} was lifted: none of theirs is kept."""
        await self.store.release_silences(app, place, list(names))

    async def place_gone(self, app, place):
        await self.store.forget_place(app, place)

    async def app_deleted(self, key, others):
        """A step of app deletion (L{jim.core.apps.Apps.on_delete}): no silence of its users
        stays kept in the apps C{others} (those who left their groups and rooms before too):
        an app made again under its key has other users."""
        for other in others:
            await self.store.forget_users_with_prefix(other, model.qualified(key, ""))

    async def user_deleted(self, app, username):
        """A cleanup step of user deletion (L{jim.core.users.Users.on_delete}), after the
        user left its groups and rooms."""
        await self.store.forget_user_silences(app, username)
