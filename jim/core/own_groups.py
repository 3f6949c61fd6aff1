# -*- test-case-name: tests.test_core_own_groups -*-
"""A user's own group calls (what JMessage's SDKs let a signed-in user do with groups), and who
may make each one.

- anyone of the app creates a group (and owns it);
- a member reads a group and its members, and adds members;
- the owner or a group admin changes a group's name and description, and removes members
  (an admin removes neither the owner nor another admin);
- a member leaves (an owner hands the group over, as L{Groups.leave} does).

The users one user adds to groups (those it creates a group with, those it adds) are counted
against C{--group-invites} an hour (L{invites}): without it, one user could fill another's
quota of groups (C{--user-groups}) by adding it to group after group and leaving them. What
the app server does over REST is not counted.

Each call checks that, then makes the change with the same L{Groups} method the REST API uses,
naming the user as the change's actor: the same checks, limits, quotas, events (with the user
as their ``from_username``), caches and cluster behaviour. A refusal changes nothing. Every
call is inside the caller's app: a gid of another app's group is no group.
"""
import math

import attr

from jim import errors, model
from jim.errors import JimError

_MANAGERS = (model.OWNER, model.ADMIN)


@attr.s(frozen=True, slots=True)
class OwnGroups:
    """The calls, over the L{jim.core.groups.Groups} service.

    @ivar invites: the L{jim.core.rate_buckets.RateLimits} of the users each user adds (an
        hour's window), or None for no limit.
    """

    groups = attr.ib()
    invites = attr.ib(default=None)

    async def create(self, app, username, name, desc="", members=()):
        """A new private group owned by C{username}, with C{members} besides."""
        return await self._inviting(app, username, [n for n in members if n != username],
                                    lambda: self.groups.create(
                                        app, username, name, list(members),
                                        desc="" if desc is None else desc, actor=username))

    async def _inviting(self, app, username, others, change):
        """Await C{change()}, which adds C{others} to a group, counted against what
        C{username} may add in the hour (L{invites}): refused past it, and not counted when
        the change itself is refused."""
        count = len(set(others))
        per_hour = 0 if self.invites is None else self.invites.per_window
        if not per_hour or not count:
            return await change()
        who = (app, username)
        if count > per_hour:
            raise JimError(errors.RATE_LIMITED, f"{username} may add at most {per_hour} users"
                           f" to groups an hour: {count} are too many for one call")
        allowed, left, wait = self.invites.take(who, count=count)
        if not allowed:
            raise JimError(errors.RATE_LIMITED, f"too many users added to groups: {username}"
                           f" may add {per_hour} an hour ({left} now, {count} asked); try"
                           f" again in {math.ceil(wait / 60)} minutes")
        try:
            return await change()
        except BaseException:
            self.invites.give_back(who, count)
            raise

    async def info(self, app, username, gid):
        """C{(group, [Member])} of a group C{username} is a member of."""
        group = await self.groups.get(app, gid)
        members = await self._as_member(app, username, gid, "read it")
        return group, list(members.values())

    async def update(self, app, username, gid, name=None, desc=None):
        """Change the name, the description or both; the members are told."""
        changes = {field: value for field, value in (("name", name), ("desc", desc))
                   if value is not None}
        if not changes:
            raise JimError(errors.BAD_REQUEST, "name, desc or both to change")
        await self._as_manager(app, username, gid, "change it")
        return await self.groups.update(app, gid, changes, actor=username)

    async def add(self, app, username, gid, usernames):
        """Add users to a group C{username} is a member of."""
        await self._as_member(app, username, gid, "add members to it")
        await self._inviting(app, username, [n for n in usernames if n != username],
                             lambda: self.groups.add_members(app, gid, list(usernames),
                                                             actor=username))

    async def remove(self, app, username, gid, usernames):
        """Remove members of a group C{username} owns or administers."""
        role, members = await self._as_manager(app, username, gid, "remove its members")
        if role != model.OWNER:
            admins = [n for n in usernames
                      if n != username and n in members and members[n].role in _MANAGERS]
            if admins:
                raise JimError(errors.NOT_ALLOWED, f"an admin of group {gid} cannot remove"
                               f" its owner or another admin: {', '.join(admins[:20])}")
        await self.groups.remove_members(app, gid, list(usernames), actor=username)

    async def exit(self, app, username, gid):
        """C{username} leaves the group."""
        await self.groups.leave(app, gid, username)

    async def listed(self, app, username):
        """C{[(group, [usernames of its members])]} of the groups C{username} is in."""
        out = []
        for group in await self.groups.user_groups(app, username):
            out.append((group, list(await self.groups.members(app, group.gid))))
        return out

    async def _as_member(self, app, username, gid, what):
        """{username: Member} of the group, once C{username} is known as a member of it."""
        await self.groups.get(app, gid)
        members = await self.groups.members(app, gid)
        if username not in members:
            raise JimError(errors.NOT_ALLOWED, f"only members of group {gid} may {what}")
        return members

    async def _as_manager(self, app, username, gid, what):
        """C{(role, members)} once C{username} is known as the owner or an admin of the
        group."""
        members = await self._as_member(app, username, gid, what)
        role = members[username].role
        if role not in _MANAGERS:
            raise JimError(errors.NOT_ALLOWED,
                           f"only the owner or an admin of group {gid} may {what}")
        return role, members
