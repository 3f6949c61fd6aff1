# -*- test-case-name: tests.test_core_groups -*-
"""The Groups service: groups, their members, roles and silences, and the join of a public
group (J-IM's cmd 7).

It owns the groups area of the store and keeps in memory what group chat needs on the hot
path (L{jim.core.group_cache}): each group's record, its members (with role and silence) and
the members who shield it. A change goes to the store first, then into memory, then to other
nodes (L{Invalidate}) and to the members (an L{Event}). A removed member stops receiving the
group at once: the next message's fan-out reads what this service has already changed, and a
read that the change overtook is not kept.

A group is named by its gid, or by its alias (a name a J-IM client gave it); which a front
end's name is, is the front end's to say.
"""
import attr
from twisted.logger import Logger

from jim import errors, model
from jim.core.cache import SharedLoads
from jim.core.events import card, cards
from jim.core.group_cache import GroupCache
from jim.core.silences import group_place
from jim.core.users import NAME_BYTES, TEXT_BYTES, check_name, check_text, named_once
from jim.errors import JimError
from jim.model import Group, Invalidate, Member


def successor(members, leaving):
    """Who gets a group whose owner leaves with C{leaving} (names): of the members who stay
    (C{members}, the group's, in joining order), the one of the group's app who joined first;
    a member of another app only when none of its app stays; None when nobody stays."""
    leaving = frozenset(leaving)
    staying = [name for name in members if name not in leaving]
    native = [name for name in staying if model.QUALIFIER not in name]
    return (native or staying or [None])[0]


def _replacing(member):
    """A change of a group's members in memory that puts C{member} in place of itself."""

    def replace(members):
        if member.username in members:
            members[member.username] = member

    return replace


class Groups:
    log = Logger()

    def __init__(self, store, users, presence, events, bus, limits, silences,
                 cache_size=100_000):
        self.store = store
        self.silences = silences  # L{jim.core.silences.KeptSilences}
        self.users = users
        self.presence = presence
        self.events = events
        self.bus = bus
        self.limits = limits
        #: the Relations service (shields, no-disturb), which needs this one to be made first:
        #: L{jim.core.core.build_core} sets it before anything is served
        self.relations = None
        #: the L{jim.core.cross_groups.CrossGroups}: tells members of other apps (None: none)
        self.cross = None
        self._cache = GroupCache(cache_size)
        self._loads = SharedLoads()
        #: (app, gid) -> usernames whose add or join is being written: their places are
        #: taken, but they are not members (nor get the group's messages) until it is done
        self._adding = {}

    # -- the hot path's lookups (memory only) -------------------------------------------------

    def cached_members(self, app, gid):
        """{username: Member} of a group whose members are in memory, else None."""
        entry = self._cache.entries.get((app, gid))
        return None if entry is None else entry.members

    def cached_group(self, app, gid):
        return self._cache.groups.get((app, gid))

    def foreign_members(self, app, gid, members):
        """The members of other apps (qualified names) among C{members}, the group's: counted
        once for the members memory holds, until they change."""
        entry = self._cache.entries.get((app, gid))
        if entry is None or entry.members is not members:
            return tuple(n for n in members if model.QUALIFIER in n)
        if entry.foreign is None:
            entry.foreign = tuple(n for n in members if model.QUALIFIER in n)
        return entry.foreign

    def shielded(self, app, gid):
        """The members who shield a group whose members are in memory."""
        entry = self._cache.entries.get((app, gid))
        return frozenset() if entry is None else entry.shielded

    def cached_gid(self, app, gid=None, alias=None):
        """The gid of the group named by C{gid} or C{alias} when memory knows it, else None. A
        number a gid can have (both given) names the group with that gid only when memory
        holds it; else the store is asked, gid first (L{find_named}): the name of a gid is that
        group's, whatever an earlier version let a join call another group. A gid alone is
        taken at its word."""
        if gid is not None and alias is not None:
            return gid if (app, gid) in self._cache.groups else None
        if alias is not None:
            return self._cache.aliases.get((app, alias))
        return gid

    # -- reading ------------------------------------------------------------------------------

    async def find(self, app, gid):
        """The Group or None."""
        group = self._cache.groups.get((app, gid))
        if group is None:
            group = await self._loads.load(("group", app, gid, self._cache.generation((app, gid))),
                                           lambda: self._read(app, gid))
        return group

    async def _read(self, app, gid):
        generation = self._cache.generation((app, gid))
        group = await self.store.get_group(app, gid)
        if group is not None:
            self._cache.remember(group, generation)
        return group

    async def get(self, app, gid):
        group = await self.find(app, gid)
        if group is None:
            raise JimError(errors.NO_SUCH_GROUP, f"no group {gid}")
        return group

    async def find_named(self, app, gid=None, alias=None):
        """The Group named by C{gid} (first: see L{cached_gid}) or C{alias}, or None."""
        if gid is not None:
            group = await self.find(app, gid)
            if group is not None or alias is None:
                return group
        return await self._by_alias(app, alias)

    async def _by_alias(self, app, alias):
        gid = self._cache.aliases.get((app, alias))
        if gid is not None:
            group = await self.find(app, gid)
            if group is not None and group.alias == alias:
                return group
        changes = self._cache.changes
        group = await self.store.group_by_alias(app, alias)
        if group is not None and changes == self._cache.changes:  # no change overtook it
            self._cache.remember(group)
        return group

    async def gid_named(self, app, gid=None, alias=None):
        """The gid of the group L{find_named} finds, or None."""
        group = await self.find_named(app, gid, alias)
        return None if group is None else group.gid

    async def require_gid_named(self, app, gid=None, alias=None):
        """L{gid_named}, or JimError(NO_SUCH_GROUP) naming the group as it was asked for."""
        found = await self.gid_named(app, gid, alias)
        if found is None:
            raise JimError(errors.NO_SUCH_GROUP,
                           f"no group {(alias if alias is not None else gid)!r}")
        return found

    async def members(self, app, gid):
        """{username: Member} of a group, in joining order, read once and kept with the
        members who shield it. Empty, and not kept, for a group that does not exist."""
        members = self.cached_members(app, gid)
        if members is None:
            members = await self._loads.load(
                ("members", app, gid, self._cache.generation((app, gid))),
                lambda: self._load_members(app, gid))
        return members

    async def _load_members(self, app, gid):
        key = (app, gid)
        generation = self._cache.generation(key)
        listed = await self.store.members(app, gid)
        if not listed:
            return {}
        shielders = await self.relations.shielders(app, gid)
        members = {member.username: member for member in listed}
        return self._cache.keep(key, members, frozenset(shielders), generation)

    async def member_list(self, app, gid):
        await self.get(app, gid)
        return list((await self.members(app, gid)).values())

    async def user_groups(self, app, username):
        return await self.store.user_groups(app, username)

    async def list(self, app, start, count):
        return await self.store.list_groups(app, start, count)

    # -- changing -----------------------------------------------------------------------------

    async def create(self, app, owner, name, members=(), avatar="", desc="",
                     flag=model.PRIVATE, actor=""):
        """Create a group owned by C{owner} with C{members}; all of them are told."""
        name = check_name(name, "group")
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
        await self.events.send(self.events.make(model.GROUP_CREATED, app, actor=actor,
                                                gid=group.gid, group_name=group.name,
                                                users=[card(users[n]) for n in names]), names)
        return group

    def _adopt(self, group, members):
        """A group this node made: its record and members are in memory at once."""
        key = (group.app, group.gid)
        self._cache.changed(key)
        self._cache.remember(group)
        self._cache.keep(key, {m.username: m for m in members}, frozenset(),
                         self._cache.generation(key))
        self._invalidate(group.app, group.gid)

    async def update(self, app, gid, changes, actor=""):
        """Change name, desc or avatar; the members are told."""
        checks = {"name": lambda value: check_name(value, "group"),
                  "desc": lambda value: check_text("desc", value, TEXT_BYTES),
                  "avatar": lambda value: check_text("avatar", value, TEXT_BYTES)}
        if not changes:
            raise JimError(errors.BAD_REQUEST, "name, desc or avatar to change")
        fields = {}
        for field, value in changes.items():
            if field not in checks:
                raise JimError(errors.BAD_REQUEST, f"{field} of a group cannot be changed")
            fields[field] = checks[field](value)
        await self.get(app, gid)
        fields["mtime"] = self.events.now_ms()
        group = await self.store.update_group(app, gid, fields)
        self._cache.changed((app, gid))
        self._cache.remember(group)
        self._invalidate(app, gid)
        await self._tell(group, model.GROUP_UPDATED, actor)
        return group

    async def dissolve(self, app, gid, actor=""):
        """Delete a group; its members are told first."""
        group = await self.get(app, gid)
        members = list(await self.members(app, gid))
        await self.store.delete_group(app, gid)
        self._cache.forget((app, gid))
        self._invalidate(app, gid)
        await self.relations.group_deleted(app, gid)
        await self.silences.place_gone(app, group_place(gid))
        self.log.info("group {gid} of app {app} dissolved", gid=gid, app=app)
        await self._send_event(self.events.make(model.GROUP_DISSOLVED, app, actor=actor,
                                                gid=gid, group_name=group.name),
                               members, group.alias)

    async def add_members(self, app, gid, usernames, actor="", found=None):
        """Add users to a group; all its members (the new ones too) are told. Their places
        are taken (L{_taking_places}) before the write, so concurrent adds and joins never
        overfill a group. C{found}: {name: User} of the names, read already (other apps'
        users, by their qualified names, whose quota the caller checked)."""
        group = await self.get(app, gid)
        names = named_once(usernames, "member")
        users = found if found is not None else await self.users.require_all(app, names)
        await self._check_quota(app, [n for n in names if model.QUALIFIER not in n])
        members = await self.members(app, gid)
        adding = self._adding.get((app, gid), ())
        present = [n for n in names if n in members or n in adding]
        if present:
            raise JimError(errors.ALREADY_MEMBER, f"already members: {', '.join(present[:20])}")
        taken = len(members) + len(adding)
        if taken + len(names) > group.max_members:
            raise JimError(errors.GROUP_FULL, f"group {gid} holds at most {group.max_members}"
                           f" members; it has {taken}")
        now = self.events.now_ms()
        await self._taking_places(app, gid, [Member(n, joined=now) for n in names])
        await self._send_event(self.events.make(
            model.MEMBERS_ADDED, app, actor=actor, gid=gid, group_name=group.name,
            users=[card(users[n], self.presence.is_online(app, n)) for n in names]),
            list(await self.members(app, gid)), group.alias)

    async def _taking_places(self, app, gid, new):
        """Write C{new} members, their places taken meanwhile (counted by add_members and
        join, which check them in the same turn as they call this). Those who left silenced
        come back silenced (L{jim.core.silences})."""
        key = (app, gid)
        adding = self._adding.setdefault(key, set())
        names = [m.username for m in new]
        adding.update(names)
        try:
            new = await self.silences.coming_back(app, group_place(gid), new)
            added = await self.store.add_members(app, gid, new)
        finally:
            adding.difference_update(names)
            if not adding:
                self._adding.pop(key, None)
        self._applied(app, gid, lambda members: members.update(
            (m.username, m) for m in new if m.username in added))

    def _applied(self, app, gid, change):
        """A membership change was written: reads from before it are not kept, and what
        memory holds of the group's members is changed in place (C{change(members)})."""
        self._cache.changed((app, gid))
        entry = self._cache.entries.get((app, gid))
        if entry is not None:
            change(entry.members)
            entry.foreign = None
        self._invalidate(app, gid)

    async def _check_quota(self, app, usernames):
        cap = self.limits.user_groups
        for name in usernames:
            if len(await self.store.user_groups(app, name)) >= cap:
                raise JimError(errors.GROUP_QUOTA, f"{name!r} is in {cap} groups already")

    async def remove_members(self, app, gid, usernames, actor=""):
        """Remove members; they and the members who stay are told."""
        group = await self.get(app, gid)
        members = await self.members(app, gid)
        names = named_once(usernames, "member")
        absent = [n for n in names if n not in members]
        if absent:
            raise JimError(errors.NOT_MEMBER, f"not members: {', '.join(absent[:20])}")
        if group.owner in names:
            raise JimError(errors.NOT_ALLOWED, "the owner cannot be removed: transfer the"
                           " group to another member first")
        audience = list(members)
        await self._remove(app, gid, names)
        await self._send_event(self.events.make(model.MEMBERS_REMOVED, app, actor=actor,
                                                gid=gid, group_name=group.name,
                                                users=await cards(self.users, app, names)),
                               audience, group.alias)

    async def _remove(self, app, gid, names):
        """Take C{names} out of the group: the store keeps the silences of those silenced as
        it takes them out (L{jim.core.silences})."""
        await self.store.remove_members(app, gid, names)

        def without(members):
            for name in names:
                members.pop(name, None)

        self._applied(app, gid, without)
        await self.relations.members_left(app, gid, names)  # their shields and no-disturb

    async def leave(self, app, gid, username):
        """A member leaves; an owner hands the group over (L{successor}), and the last
        member's leaving dissolves the group."""
        group = await self.get(app, gid)
        members = await self.members(app, gid)
        if username not in members:
            raise JimError(errors.NOT_MEMBER, f"{username!r} is not a member of group {gid}")
        if len(members) == 1:
            await self.dissolve(app, gid, actor=username)
            return
        new_owner = ""
        if group.owner == username:
            new_owner = successor(members, [username])
            await self._set_owner(app, gid, new_owner)
        audience = list(members)
        await self._remove(app, gid, [username])
        # the leaver hears of its leaving once every node has it: no chat sent next, on any
        # node, reaches it
        await self.bus.flushed()
        event = self.events.make(model.MEMBER_LEFT, app, actor=username, gid=gid,
                                 group_name=group.name, new_owner=new_owner,
                                 users=await cards(self.users, app, [username]))
        await self._send_event(event, audience, group.alias)

    async def transfer(self, app, gid, username, actor=""):
        """Make member C{username} the owner; the members are told. (A member of another app
        owns a group only when none of the group's app is left: L{jim.core.cross_groups}, the
        one caller that may name one; the REST call refuses it, CROSS_APP.)"""
        await self.get(app, gid)
        if username not in await self.members(app, gid):
            raise JimError(errors.NOT_MEMBER, f"{username!r} is not a member of group {gid}")
        group = await self._set_owner(app, gid, username)
        await self._tell(group, model.OWNER_TRANSFERRED, actor, new_owner=username)
        return group

    async def _set_owner(self, app, gid, username):
        old = (await self.get(app, gid)).owner
        group = await self.store.set_owner(app, gid, username)

        def handed_over(members):
            if old in members and old != username:
                members[old] = attr.evolve(members[old], role=model.MEMBER)
            if username in members:
                members[username] = attr.evolve(members[username], role=model.OWNER)

        self._applied(app, gid, handed_over)
        self._cache.remember(group)
        return group

    async def silence(self, app, gid, usernames, silenced, actor=""):
        """Silence members (they may not send to the group) or let them speak again."""
        await self.get(app, gid)
        members = await self.members(app, gid)
        names = named_once(usernames, "member")
        absent = [n for n in names if n not in members]
        if absent:
            raise JimError(errors.NOT_MEMBER, f"not members: {', '.join(absent[:20])}")
        changing = [n for n in names if members[n].silenced != silenced]
        for name in changing:
            member = await self.store.update_member(app, gid, name, {"silenced": silenced})
            self._applied(app, gid, _replacing(member))
        if not silenced and changing:
            await self.silences.lifted(app, group_place(gid), changing)
        if not changing:
            return
        group = await self.get(app, gid)
        await self._tell(group, model.MEMBER_SILENCED, actor, flag=silenced,
                         users=await cards(self.users, app, changing))

    async def _tell(self, group, kind, actor, **fields):
        members = list(await self.members(group.app, group.gid))
        await self._send_event(self.events.make(kind, group.app, actor=actor, gid=group.gid,
                                                group_name=group.name, **fields),
                               members, group.alias)

    async def _send_event(self, event, audience, alias):
        """Tell a group's members of an event: those of other apps (qualified names) get
        their apps' copies (L{jim.core.cross_groups.CrossGroups.tell})."""
        native = [n for n in audience if model.QUALIFIER not in n]
        await self.events.send(event, native, alias)
        if self.cross is not None and len(native) != len(audience):
            await self.cross.tell(event, [n for n in audience if model.QUALIFIER in n])

    def shields_changed(self, app, gid):
        """Members' shields of a group changed: read them again with its members."""
        self._cache.changed((app, gid))
        self._cache.entries.pop((app, gid), None)
        self._invalidate(app, gid)

    # -- joining a public group (J-IM's cmd 7) ---------------------------------------------

    async def join(self, app, user, gid=None, alias=None, name="", avatar="", terminal=None):
        """Add C{user} to the group named by C{gid} (first) or C{alias} (L{find_named}),
        creating it if missing (public, owned by the joiner, under the alias; a name that is a
        gid's number makes no group, see below).
        C{(group, added)}: added False for a member already. JimError(GROUP_PRIVATE) for a
        private group, GROUP_FULL past its size, GROUP_QUOTA for a user in as many groups as
        allowed, CROSS_APP for a name of another app's group (C{<appKey>:<gid>}, see
        L{jim.core.cross_groups}: its app server adds its members, and no group of this app
        is made under a name that every chat takes for the other app's). Its place is taken
        before the write: concurrent joins never overfill it."""
        if alias is not None and model.QUALIFIER in alias:
            raise JimError(errors.CROSS_APP, f"group {alias!r} is another app's: a user of"
                           " this app is made one of its members by that app's server, not by"
                           " joining")
        username = user.username
        group = await self.find_named(app, gid, alias)
        if group is not None:
            if username in await self.members(app, group.gid):
                return group, False
            if group.flag != model.PUBLIC:
                raise JimError(errors.GROUP_PRIVATE, f"group {alias or gid} is private:"
                               " members are added by the app")
        if group is None and gid is not None and alias is not None:
            # a number a gid can have: a join makes no group under it, or anyone could name a
            # group before the app server's takes that gid, and have its members' chats
            raise JimError(errors.NO_SUCH_GROUP, f"no group {alias}: a join makes a group only"
                           f" under a name that is not a number from {model.FIRST_GID} on")
        await self._check_quota(app, [username])
        if group is None:
            group = await self._create_for_join(app, username, gid, alias, name, avatar)
            if group is None:  # a concurrent join made it first
                return await self.join(app, user, gid, alias, name, avatar, terminal)
        else:
            members = await self.members(app, group.gid)
            adding = self._adding.get((app, group.gid), ())
            if username in members or username in adding:  # another connection joins it
                return group, False
            if len(members) + len(adding) >= group.max_members:
                raise JimError(errors.GROUP_FULL,
                               f"group {alias or gid} is full ({group.max_members} members)")
            await self._taking_places(app, group.gid,
                                      [Member(username, joined=self.events.now_ms())])
        self.log.info("{user} joined group {gid} of app {app}", user=username,
                      gid=alias or group.gid, app=app)
        # the joiner hears of its join (cmd 9) once every node has it: a chat it or anyone
        # sends next, on any node, reaches it
        await self.bus.flushed()
        card_of_joiner = card(user, self.presence.is_online(app, username), terminal)
        await self._send_event(self.events.make(model.MEMBERS_ADDED, app, actor=username,
                                                gid=group.gid, group_name=group.name,
                                                users=[card_of_joiner]),
                               list(await self.members(app, group.gid)), group.alias)
        return group, True

    async def _create_for_join(self, app, username, gid, alias, name, avatar):
        """A public group a join creates, owned by the joiner; None when a concurrent join
        made it first."""
        now = self.events.now_ms()
        # a J-IM groupId may be longer than a name: the default name is its start
        name = check_name(name or (alias or str(gid)).encode()[:NAME_BYTES].decode(
            "utf-8", "ignore"), "group")
        avatar = check_text("avatar", avatar, TEXT_BYTES)
        group = Group(app, 0 if alias is not None else gid, name, "", avatar, username,
                      model.PUBLIC, self.limits.group_size, now, now, alias)
        owner = [Member(username, model.OWNER, joined=now)]
        try:
            group = await self.store.create_group(group, owner)
        except JimError as e:
            if e.code != errors.GROUP_EXISTS:
                raise
            return None
        self._adopt(group, owner)
        return group

    # -- what other services call ------------------------------------------------------------

    async def user_deleted(self, app, username):
        for group in await self.store.user_groups(app, username):
            await self.leave(app, group.gid, username)

    def _invalidate(self, app, gid):
        self.bus.publish(Invalidate(model.GROUPS_AREA, app, str(gid), self.bus.node))

    def on_bus(self, value):
        if type(value) is Invalidate and value.area == model.GROUPS_AREA \
                and value.origin != self.bus.node:
            if value.app == model.EVERY_APP:
                self._cache.forget_all()
            else:
                self._cache.forget((value.app, int(value.key)))
