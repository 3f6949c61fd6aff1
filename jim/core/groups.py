# -*- test-case-name: tests.test_core_groups -*-
"""The Groups service: groups, their members, roles and silences, J-IM's join.

It owns the groups area of the store and caches what group chat needs on the hot path: each
group's record, its members (with role and silence) and the members who shield it. A change
goes to the store first, then into the cache, then to other nodes (L{Invalidate}) and to the
members (an L{Event}). A removed member stops receiving the group at once: the next message's
fan-out reads the cache this service has already changed.
"""
import re

import attr
from twisted.logger import Logger

from jim import errors, model
from jim.core.cache import Bounded, SharedLoads
from jim.core.events import bare_card, card
from jim.core.users import NAME_BYTES, TEXT_BYTES, check_text
from jim.errors import JimError
from jim.model import Group, Invalidate, Member

#: J-IM group ids that are a gid: canonical decimal, no sign, no leading zero, in 64 bits
_GID_TEXT = re.compile(r"[1-9][0-9]{0,17}")


def _named(usernames):
    """The users a member call names, once each; JimError(BAD_REQUEST) for none."""
    names = list(dict.fromkeys(usernames))
    if not names:
        raise JimError(errors.BAD_REQUEST, "name at least one member")
    return names


def gid_of_jim(group_id):
    """The gid a J-IM ``groupId`` names directly ("100" is gid 100), or None: an alias."""
    return int(group_id) if _GID_TEXT.fullmatch(group_id) else None


class Groups:
    log = Logger()

    def __init__(self, store, users, presence, events, bus, limits, cache_size=100_000):
        self.store = store
        self.users = users
        self.presence = presence
        self.events = events
        self.bus = bus
        self.limits = limits
        self.relations = None  # the Relations service: set when both exist (shields)
        self._groups = Bounded(cache_size)  # (app, gid) -> Group
        self._aliases = Bounded(cache_size)  # (app, alias) -> gid
        self._members = Bounded(cache_size)  # (app, gid) -> {username: Member}, joining order
        self._shielded = Bounded(cache_size)  # (app, gid) -> frozenset of usernames
        self._loads = SharedLoads()
        # entries dropped so far: a read that a drop overtook is not kept
        self._drops = 0

    # -- the hot path's lookups (memory only) -------------------------------------------------

    def cached_members(self, app, gid):
        """{username: Member} of a group whose members are in memory, else None."""
        return self._members.get((app, gid))

    def cached_group(self, app, gid):
        return self._groups.get((app, gid))

    def shielded(self, app, gid):
        """The members who shield the group (loaded with its members)."""
        return self._shielded.get((app, gid), frozenset())

    def cached_jim_gid(self, app, group_id):
        """The gid of a J-IM ``groupId`` when memory knows it, else None."""
        gid = gid_of_jim(group_id)
        if gid is None:
            gid = self._aliases.get((app, group_id))
        return gid

    # -- reading ------------------------------------------------------------------------------

    async def find(self, app, gid):
        """The Group or None."""
        group = self._groups.get((app, gid))
        if group is None:
            group = await self._loads.load(("group", app, gid), lambda: self._read(app, gid))
        return group

    async def _read(self, app, gid):
        drops = self._drops
        group = await self.store.get_group(app, gid)
        if group is not None and drops == self._drops:
            self._remember(group)
        return group

    async def get(self, app, gid):
        group = await self.find(app, gid)
        if group is None:
            raise JimError(errors.NO_SUCH_GROUP, f"no group {gid}")
        return group

    async def find_jim(self, app, group_id):
        """The Group a J-IM ``groupId`` names, or None."""
        gid = gid_of_jim(group_id)
        if gid is not None:
            return await self.find(app, gid)
        gid = self._aliases.get((app, group_id))
        if gid is not None:
            group = await self.find(app, gid)
            if group is not None and group.alias == group_id:
                return group
        drops = self._drops
        group = await self.store.group_by_alias(app, group_id)
        if group is not None and drops == self._drops:
            self._remember(group)
        return group

    async def jim_gid(self, app, group_id):
        """The gid of the group a J-IM ``groupId`` names, or None."""
        group = await self.find_jim(app, group_id)
        return None if group is None else group.gid

    def _remember(self, group):
        self._groups[(group.app, group.gid)] = group
        if group.alias is not None:
            self._aliases[(group.app, group.alias)] = group.gid

    async def members(self, app, gid):
        """{username: Member} of a group, in joining order, loaded once and cached with the
        members who shield it. Empty, and not cached, for a group that does not exist."""
        members = self._members.get((app, gid))
        if members is None:
            members = await self._loads.load(("members", app, gid),
                                             lambda: self._load_members(app, gid))
        return members

    async def _load_members(self, app, gid):
        drops = self._drops
        listed = await self.store.members(app, gid)
        if not listed:
            return {}
        shielders = await self.relations.shielders(app, gid) if self.relations else ()
        members = {member.username: member for member in listed}
        if drops != self._drops:  # overtaken by a change: good for this caller only
            return members
        self._shielded[(app, gid)] = frozenset(shielders)
        return self._members.setdefault((app, gid), members)

    async def member_list(self, app, gid):
        await self.get(app, gid)
        return list((await self.members(app, gid)).values())

    async def user_groups(self, app, username):
        return await self.store.user_groups(app, username)

    async def list(self, app, start, count):
        return await self.store.list_groups(app, start, count)

    # -- changing -----------------------------------------------------------------------------

    async def create(self, app, owner, name, members=(), avatar="", desc="",
                     flag=model.PRIVATE, actor=None):
        """Create a group owned by C{owner} with C{members}; all of them are told."""
        name = check_text("name", name, NAME_BYTES, single_line=True)
        desc = check_text("desc", desc, TEXT_BYTES)
        avatar = check_text("avatar", avatar, TEXT_BYTES)
        if type(flag) is not int or flag not in (model.PRIVATE, model.PUBLIC):
            raise JimError(errors.BAD_REQUEST, "flag must be 1 (private) or 2 (public)")
        names = list(dict.fromkeys([owner, *members]))
        users = await self.users.require_all(app, names)
        if len(names) > self.limits.group_size:
            raise JimError(errors.GROUP_FULL,
                           f"a group holds at most {self.limits.group_size} members")
        await self._check_quota(app, names)
        now = self.events.now_ms()
        group = Group(app, 0, name, desc, avatar, owner, flag, self.limits.group_size, now, now)
        first = [Member(owner, model.OWNER, joined=now)]
        first += [Member(n, joined=now) for n in names if n != owner]
        group = await self.store.create_group(group, first)
        self._adopt(group, first)
        self.log.info("group {gid} created in app {app} by {owner} with {n} members",
                      gid=group.gid, app=app, owner=owner, n=len(names))
        self.events.send(self.events.make(model.GROUP_CREATED, app, actor=actor or owner,
                                          gid=group.gid, group_name=group.name,
                                          users=[card(users[n]) for n in names]), names)
        return group

    def _adopt(self, group, members):
        self._remember(group)
        self._members[(group.app, group.gid)] = {m.username: m for m in members}
        self._shielded[(group.app, group.gid)] = frozenset()
        self._invalidate(group.app, group.gid)

    async def update(self, app, gid, changes, actor=""):
        """Change name, desc or avatar; the members are told."""
        checks = {"name": (NAME_BYTES, True), "desc": (TEXT_BYTES, False),
                  "avatar": (TEXT_BYTES, False)}
        fields = {}
        for field, value in changes.items():
            if field not in checks:
                raise JimError(errors.BAD_REQUEST, f"{field} of a group cannot be changed")
            limit, single_line = checks[field]
            fields[field] = check_text(field, value, limit, single_line)
        if fields.get("name") == "":
            raise JimError(errors.BAD_REQUEST, "a group's name may not be empty")
        await self.get(app, gid)
        fields["mtime"] = self.events.now_ms()
        group = await self.store.update_group(app, gid, fields)
        self._remember(group)
        self._invalidate(app, gid)
        await self._tell(group, model.GROUP_UPDATED, actor)
        return group

    async def dissolve(self, app, gid, actor=""):
        """Delete a group; its members are told first."""
        group = await self.get(app, gid)
        members = list(await self.members(app, gid))
        await self.store.delete_group(app, gid)
        if self.relations is not None:
            await self.relations.group_deleted(app, gid)
        self._forget(app, gid, group.alias)
        self._invalidate(app, gid)
        self.log.info("group {gid} of app {app} dissolved", gid=gid, app=app)
        self.events.send(self.events.make(model.GROUP_DISSOLVED, app, actor=actor, gid=gid,
                                          group_name=group.name), members, group.alias)

    def _forget(self, app, gid, alias=None):
        self._drops += 1
        self._groups.pop((app, gid), None)
        self._members.pop((app, gid), None)
        self._shielded.pop((app, gid), None)
        if alias is not None:
            self._aliases.pop((app, alias), None)

    async def add_members(self, app, gid, usernames, actor=""):
        """Add users to a group; all its members (the new ones too) are told."""
        group = await self.get(app, gid)
        members = await self.members(app, gid)
        names = _named(usernames)
        users = await self.users.require_all(app, names)
        present = [n for n in names if n in members]
        if present:
            raise JimError(errors.ALREADY_MEMBER, f"already members: {', '.join(present[:20])}")
        if len(members) + len(names) > group.max_members:
            raise JimError(errors.GROUP_FULL, f"group {gid} holds at most {group.max_members}"
                           f" members; it has {len(members)}")
        await self._check_quota(app, names)
        now = self.events.now_ms()
        await self._add(app, gid, [Member(n, joined=now) for n in names])
        self.events.send(self.events.make(
            model.MEMBERS_ADDED, app, actor=actor, gid=gid, group_name=group.name,
            users=[card(users[n], self.presence.is_online(app, n)) for n in names]),
            list(await self.members(app, gid)), group.alias)

    async def _add(self, app, gid, new):
        added = await self.store.add_members(app, gid, new)
        members = self._members.get((app, gid))
        if members is not None:
            for member in new:
                if member.username in added:
                    members[member.username] = member
        self._invalidate(app, gid)
        return added

    async def _check_quota(self, app, usernames):
        cap = self.limits.user_groups
        for name in usernames:
            if len(await self.store.user_groups(app, name)) >= cap:
                raise JimError(errors.GROUP_QUOTA, f"{name!r} is in {cap} groups already")

    async def remove_members(self, app, gid, usernames, actor=""):
        """Remove members; they and the members who stay are told."""
        group = await self.get(app, gid)
        members = await self.members(app, gid)
        names = _named(usernames)
        absent = [n for n in names if n not in members]
        if absent:
            raise JimError(errors.NOT_MEMBER, f"not members: {', '.join(absent[:20])}")
        if group.owner in names:
            raise JimError(errors.NOT_ALLOWED, "the owner cannot be removed: transfer the"
                           " group to another member first")
        audience = list(members)
        await self._remove(app, gid, names)
        self.events.send(self.events.make(model.MEMBERS_REMOVED, app, actor=actor, gid=gid,
                                          group_name=group.name,
                                          users=[bare_card(n) for n in names]),
                         audience, group.alias)

    async def _remove(self, app, gid, names):
        await self.store.remove_members(app, gid, names)
        members = self._members.get((app, gid))
        if members is not None:
            for name in names:
                members.pop(name, None)
        self._invalidate(app, gid)
        if self.relations is not None:  # their shield of it and no-disturb for it go too
            await self.relations.members_left(app, gid, names)

    async def leave(self, app, gid, username):
        """A member leaves; an owner hands the group to the member who joined first after it,
        and the last member's leaving dissolves the group."""
        group = await self.get(app, gid)
        members = await self.members(app, gid)
        if username not in members:
            raise JimError(errors.NOT_MEMBER, f"{username!r} is not a member of group {gid}")
        others = [name for name in members if name != username]
        if not others:
            await self.dissolve(app, gid, actor=username)
            return
        new_owner = ""
        if group.owner == username:
            new_owner = others[0]
            await self._set_owner(app, gid, new_owner)
        audience = list(members)
        await self._remove(app, gid, [username])
        self.events.send(self.events.make(model.MEMBER_LEFT, app, actor=username, gid=gid,
                                          group_name=group.name, new_owner=new_owner,
                                          users=[bare_card(username)]), audience, group.alias)

    async def transfer(self, app, gid, username, actor=""):
        """Make member C{username} the owner; the members are told."""
        await self.get(app, gid)
        if username not in await self.members(app, gid):
            raise JimError(errors.NOT_MEMBER, f"{username!r} is not a member of group {gid}")
        group = await self._set_owner(app, gid, username)
        await self._tell(group, model.OWNER_TRANSFERRED, actor, new_owner=username)
        return group

    async def _set_owner(self, app, gid, username):
        old = (await self.get(app, gid)).owner
        group = await self.store.set_owner(app, gid, username)
        self._remember(group)
        members = self._members.get((app, gid))
        if members is not None:
            if old in members and old != username:
                members[old] = attr.evolve(members[old], role=model.MEMBER)
            members[username] = attr.evolve(members[username], role=model.OWNER)
        self._invalidate(app, gid)
        return group

    async def silence(self, app, gid, usernames, silenced, actor=""):
        """Silence members (they may not send to the group) or let them speak again."""
        await self.get(app, gid)
        members = await self.members(app, gid)
        names = _named(usernames)
        absent = [n for n in names if n not in members]
        if absent:
            raise JimError(errors.NOT_MEMBER, f"not members: {', '.join(absent[:20])}")
        changing = [n for n in names if members[n].silenced != silenced]
        for name in changing:
            member = await self.store.update_member(app, gid, name, {"silenced": silenced})
            cached = self._members.get((app, gid))
            if cached is not None and name in cached:
                cached[name] = member
        if not changing:
            return
        self._invalidate(app, gid)
        group = await self.get(app, gid)
        await self._tell(group, model.MEMBER_SILENCED, actor, flag=silenced,
                         users=[bare_card(n) for n in changing])

    async def _tell(self, group, kind, actor, **fields):
        members = list(await self.members(group.app, group.gid))
        self.events.send(self.events.make(kind, group.app, actor=actor, gid=group.gid,
                                          group_name=group.name, **fields),
                         members, group.alias)

    def shields_changed(self, app, gid):
        """Members' shields of a group changed: read them again with its members."""
        self._drops += 1
        self._members.pop((app, gid), None)
        self._shielded.pop((app, gid), None)
        self._invalidate(app, gid)

    # -- J-IM's join -----------------------------------------------------------------------

    async def join(self, app, user, group_id, name="", avatar="", terminal=None):
        """J-IM's cmd 7: add C{user} to the group J-IM calls C{group_id}, creating it (public,
        owned by the joiner) if missing. C{(group, added)}: added False for a member already.
        JimError(GROUP_PRIVATE) for a private group, GROUP_FULL past its size, GROUP_QUOTA
        for a user in as many groups as allowed."""
        username = user.username
        group = await self.find_jim(app, group_id)
        if group is not None:
            members = await self.members(app, group.gid)
            if username in members:
                return group, False
            if group.flag != model.PUBLIC:
                raise JimError(errors.GROUP_PRIVATE, f"group {group_id} is private: members"
                               " are added by the app")
        await self._check_quota(app, [username])
        if group is None:
            group, created = await self._create_for_join(app, username, group_id, name, avatar)
            if not created:
                return await self.join(app, user, group_id, name, avatar, terminal)
            members = self._members[(app, group.gid)]
        else:
            gid = group.gid
            members = self._members.setdefault((app, gid), await self.members(app, gid))
            if username in members:  # joined by another connection meanwhile
                return group, False
            if len(members) >= group.max_members:
                raise JimError(errors.GROUP_FULL,
                               f"group {group_id} is full ({group.max_members} members)")
            member = Member(username, joined=self.events.now_ms())
            members[username] = member  # the place is taken before the write: no overfull group
            try:
                await self.store.add_members(app, gid, [member])
            except BaseException:
                members.pop(username, None)
                raise
            self._invalidate(app, gid)
        self.log.info("{user} joined group {gid} of app {app}", user=username, gid=group_id,
                      app=app)
        self.events.send(self.events.make(model.MEMBERS_ADDED, app, actor=username,
                                          gid=group.gid, group_name=group.name,
                                          users=[card(user, self.presence.is_online(app, username),
                                                      terminal)]),
                         list(members), group.alias)
        return group, True

    async def _create_for_join(self, app, username, group_id, name, avatar):
        """A public group J-IM's join creates, owned by the joiner: C{(group, True)}, or
        C{(None, False)} when a concurrent join made it first."""
        gid = gid_of_jim(group_id)
        alias = None if gid is not None else group_id
        now = self.events.now_ms()
        group = Group(app, gid or 0, name or group_id, "", avatar, username, model.PUBLIC,
                      self.limits.group_size, now, now, alias)
        owner = [Member(username, model.OWNER, joined=now)]
        try:
            group = await self.store.create_group(group, owner)
        except JimError as e:
            if e.code != errors.GROUP_EXISTS:
                raise
            return None, False
        self._adopt(group, owner)
        return group, True

    # -- what other services call ------------------------------------------------------------

    async def user_deleted(self, app, username):
        for group in await self.store.user_groups(app, username):
            await self.leave(app, group.gid, username)

    def _invalidate(self, app, gid):
        self.bus.publish(Invalidate(model.GROUPS_AREA, app, str(gid), self.bus.node))

    def on_bus(self, value):
        if type(value) is Invalidate and value.area == model.GROUPS_AREA \
                and value.origin != self.bus.node:
            gid = int(value.key)
            group = self._groups.get((value.app, gid))
            self._forget(value.app, gid, None if group is None else group.alias)
