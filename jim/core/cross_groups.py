# -*- test-case-name: tests.test_core_cross_groups -*-
"""Cross-app groups: the users of an app that allows the group's app (each lists the other in
its C{cross_apps}) are members of that app's groups, and chat in them as its own users do.

The group's app keeps the group and all its members: another app's user by its qualified
name, C{<appkey>:<username>} (L{jim.model.qualified}), as a cross-app friend is kept. A member
of another app sees the group as C{<group appkey>:<gid>}: its own app's data names the group
so, as it names another app's user, and no gid of its own app is written so.

A message to such a group is kept once in the log of each app that has members in it (and
that allows the group's app now): the group's copy in the group's app (target the gid), and in
each other app a copy whose target is the qualified gid and whose sender is named as that app
names it. Each app's inbox, offline messages and history then read its copy as any group
conversation (the stores key a group's conversation by the target's text); ids and cursors
stay each app's. The copies of the other apps are kept first, the sender's app's last: the
sender is answered with its own copy once every copy is kept, and a resend with the same client
id finds the copies already kept instead of keeping them twice.

Events of the group (members added or removed, a message retracted...) reach the members of
another app as a copy in their app, naming the group by its qualified gid (C{target}) and
users as that app names them; such a copy has no C{gid} of the member's app.
"""
import attr
from twisted.logger import Logger

from jim import errors, model
from jim.core.cross_apps import copy_in, found_in_apps, take_out_everywhere
from jim.core.cross_copies import audience_by_app, keep_copies, renamed
from jim.core.groups import successor
from jim.errors import JimError
from jim.model import GROUP


def group_ref(name, home):
    """C{(group app, gid)} of a group name in app C{home}'s data: a gid's decimal, or
    C{<appkey>:<gid>}; JimError(NO_SUCH_GROUP) for anything else."""
    group_app, gid = model.unqualified(name, home)
    if not (gid.isdigit() and gid.isascii() and len(gid) <= 18):
        raise JimError(errors.NO_SUCH_GROUP, f"no group {name!r}")
    return group_app, int(gid)


class CrossGroups:
    log = Logger()

    def __init__(self, cross, groups, events, limits):
        self.cross = cross  # the L{jim.core.cross_apps.CrossApps}: permission and users
        self.groups = groups
        self.events = events
        self.limits = limits
        self.messages = cross.messages

    # -- permission ---------------------------------------------------------------------------

    async def allowed_apps(self, app_key):
        """The keys of the apps whose users and C{app_key}'s may chat now."""
        accounts = self.cross.accounts
        home = await accounts.app(app_key)
        if home is None:
            return set()
        found = set()
        for other_key in home.cross_apps:
            other = await accounts.app(other_key)
            if other is not None and other_key != app_key and model.cross_allowed(home, other):
                found.add(other_key)
        return found

    # -- membership ---------------------------------------------------------------------------

    async def silence(self, app, gid, names, silenced):
        """L{jim.core.groups.Groups.silence}, where a member of another app may be silenced
        only while that app allows C{app} (C{CROSS_APP_DENIED}); letting one speak again
        takes nothing from anyone."""
        if silenced:
            await self.cross.require_reachable(app, names)
        await self.groups.silence(app, gid, names, silenced)

    async def change_members(self, app, gid, entries, actor=""):
        """Add and remove members of app C{app}'s group C{gid}: C{entries} C{[(appkey, add,
        remove)]}, usernames of that app each. Another app named with users to add must
        allow C{app} (C{CROSS_APP_DENIED} before anything of its users is read); its users
        must exist (C{NO_SUCH_USER}). Removing another app's members needs no permission: an
        app may always clear what it keeps. Adds first, then removes, as in the app."""
        add, remove = [], []
        for other_key, adding, _ in entries:
            if adding and other_key != app:
                await self.cross.allowed(app, other_key)
        group = await self.groups.get(app, gid)
        found = {}
        for other_key, adding, removing in entries:
            names = [n if other_key == app else model.qualified(other_key, n) for n in adding]
            if adding:
                users = await self.cross.users.require_all(other_key, adding)
                found.update(zip(names, (attr.evolve(users[n], username=name)
                                         for n, name in zip(adding, names))))
            add += names
            remove += [n if other_key == app else model.qualified(other_key, n)
                       for n in removing]
        if add:
            await self._check_quota(app, [n for n in add if model.QUALIFIER in n])
            await self.groups.add_members(app, group.gid, add, actor, found=found)
        if remove:
            await self.groups.remove_members(app, group.gid, remove, actor)

    async def _check_quota(self, app, names):
        """Another app's user counts its groups in its own app and in C{app}."""
        cap = self.limits.user_groups
        store = self.groups.store
        for name in names:
            other_key, username = model.unqualified(name, app)
            held = len(await store.user_groups(other_key, username))
            held += len(await store.user_groups(app, name))
            if held >= cap:
                raise JimError(errors.GROUP_QUOTA, f"{username!r} of app {other_key!r} is in"
                               f" {cap} groups already")

    async def member_list(self, app, gid):
        """C{[(Member, appkey, username, User or None)]} of app C{app}'s group C{gid}: the
        profiles of the users of apps that allow C{app} now, of no other app."""
        listed = await self.groups.member_list(app, gid)
        users = await self.cross.users_named(app, [m.username for m in listed])
        return [(m, *model.unqualified(m.username, app), users.get(m.username))
                for m in listed]

    async def user_groups(self, app, username):
        """The groups user C{username} of app C{app} is a member of: its app's, then those
        of each app that allows C{app} now."""
        await self.cross.users.get(app, username)  # NO_SUCH_USER
        found = list(await self.groups.user_groups(app, username))
        for other_key in sorted(await self.allowed_apps(app)):
            found += await self.groups.user_groups(other_key, model.qualified(app, username))
        return found

    async def joined(self, app, username):
        """C{{qualified gid: when the user joined it}} of the groups of other apps (those
        that allow C{app} now) user C{username} is a member of, but those it shields: what
        its inbox reads beside its own app's groups."""
        joined = {}
        name = model.qualified(app, username)
        for other_key in await self.allowed_apps(app):
            for group in await self.groups.user_groups(other_key, name):
                member = (await self.groups.members(other_key, group.gid)).get(name)
                if member is not None and name not in self.groups.shielded(other_key,
                                                                           group.gid):
                    joined[model.qualified(other_key, str(group.gid))] = member.joined
        return joined

    async def require_member(self, app, username, name):
        """The group app C{app}'s user C{username} names C{name} (C{<appkey>:<gid>}) is of an
        app that allows C{app} (or C{app}'s own), and the user is its member: how C{app}'s
        data names the group (the gid of its own, else C{<appkey>:<gid>}, canonical).
        JimError: CROSS_APP_DENIED first, then NO_SUCH_GROUP, then NOT_MEMBER."""
        group_app, gid = group_ref(name, app)
        if group_app != app:
            await self.cross.allowed(app, group_app)
        if await self.groups.find(group_app, gid) is None:
            raise JimError(errors.NO_SUCH_GROUP, f"no group {name}")
        members = await self.groups.members(group_app, gid)
        if renamed(username, app, group_app) not in members:
            raise JimError(errors.NOT_MEMBER, f"{username!r} is not a member of group {name}")
        return gid if group_app == app else model.qualified(group_app, str(gid))

    async def user_deleted(self, app, username):
        """A deleted user leaves the groups of other apps it was in (the silences they keep of
        it go with the next step, L{jim.core.cross_rooms.CrossRooms.user_deleted}). Every
        other app is visited, not only those its app lists now: it may have joined one while
        the permission lasted (a read an app, L{jim.core.cross_apps.APPS_AT_ONCE} at a time)."""
        name = model.qualified(app, username)
        others = [key for key in await self.cross.accounts.every_app_key() if key != app]
        for other_key, groups in await found_in_apps(
                others, lambda key: self.groups.user_groups(key, name)):
            for group in groups:
                await self.groups.leave(other_key, group.gid, name)

    async def app_deleted(self, key, others):
        """The users of app C{key}, deleted, leave the groups of the apps C{others}: the
        members who stay are told (L{remove_gone}). JimError(SERVER_ERROR) when some could not
        be taken out (each logged); the others are."""
        await take_out_everywhere(key, others, self.groups.store.members_with_prefix,
                                  self.remove_gone, "groups", self.log)

    async def remove_gone(self, app, gid, names):
        """Members who are no more (C{names}, the users of a deleted app) are taken out of
        app C{app}'s group C{gid} together, as the server removes members: the members who
        stay are told. An owner among them first hands the group over as an owner who leaves
        does (L{jim.core.groups.successor}; the members are told of the transfer); a group
        none stays in is dissolved. Names that are no members (any more) are passed over; the
        others are named in the order they joined."""
        groups = self.groups
        group = await groups.find(app, gid)
        if group is None:
            return
        members = await groups.members(app, gid)
        gone = frozenset(names)
        names = [name for name in members if name in gone]  # in joining order
        if not names:
            return
        if group.owner in names:
            new_owner = successor(members, names)
            if new_owner is None:
                await groups.dissolve(app, gid)
                return
            await groups.transfer(app, gid, new_owner)
        await groups.remove_members(app, gid, names)
        self.log.info("{n} user(s) of a deleted app left group {gid} of app {app}",
                      n=len(names), gid=gid, app=app)

    # -- events -------------------------------------------------------------------------------

    async def tell(self, event, names):
        """Send a group event of app C{event.app} to its members of other apps (C{names},
        qualified), those of apps that allow the group's app now: a copy in each app."""
        group_app = event.app
        by_app = {}
        for name in names:
            other_key, username = model.unqualified(name, group_app)
            by_app.setdefault(other_key, []).append(username)
        allowed = await self.allowed_apps(group_app)
        for other_key, usernames in by_app.items():
            if other_key not in allowed:
                continue
            await self.events.send(self.event_copy(event, other_key), usernames,
                                   self._foreign_alias(event))

    @staticmethod
    def _foreign_alias(event):
        return model.qualified(event.app, str(event.gid)) if event.gid is not None \
            else event.target

    @staticmethod
    def event_copy(event, other_key):
        """App C{other_key}'s copy of a group event of app C{event.app}."""
        home = event.app
        fields = dict(app=other_key, actor=renamed(event.actor, home, other_key)
                      if event.actor else "",
                      users=[attr.evolve(card, username=renamed(card.username, home, other_key))
                             for card in event.users],
                      new_owner=renamed(event.new_owner, home, other_key)
                      if event.new_owner else "")
        if event.gid is not None:
            fields.update(gid=None, target_type=GROUP,
                          target=model.qualified(home, str(event.gid)))
        return attr.evolve(event, **fields)

    # -- messages -----------------------------------------------------------------------------

    async def send(self, app, sender, draft, connection_id=None):
        """Send C{draft} of app C{app}'s user C{sender} to a group with members of other
        apps, or to another app's group (its target C{<appkey>:<gid>}): C{(sender's copy,
        True)}, as L{jim.core.messages.Messages.send} answers."""
        group_app, gid = group_ref(draft.target, app)
        if group_app != app:
            await self.cross.allowed(app, group_app)
        messages = self.messages
        me = await self.cross.users.get(app, sender)
        seen_as = renamed(sender, app, group_app)
        group = await self.groups.find(group_app, gid)
        members = await self.groups.members(group_app, gid)
        alias = None if group is None else group.alias
        policy = messages.policy
        refusal = policy.check_sender(me, draft)
        if refusal is None and group_app != app and members and seen_as not in members:
            # another app's app server writes to no group of this app but its users'
            refusal = policy.refuse(errors.NOT_MEMBER, f"{sender!r} is not a member of group"
                                    f" {draft.target}")
        if refusal is None:
            refusal = policy.check_group(attr.evolve(me, username=seen_as), gid, members,
                                         draft, alias)
        if refusal is not None:
            raise refusal
        shielded = self.groups.shielded(group_app, gid)
        audience = audience_by_app([n for n in members if n not in shielded], group_app)
        copies = await keep_copies(messages, GROUP, group_app, gid, app, sender, draft,
                                   audience, await self.allowed_apps(group_app), alias)
        stored = copies[-1]
        messages.metrics.messages_in += 1
        self.log.debug("cross-app group message {id} of app {app} kept in {n} app(s)",
                       id=stored.id, app=app, n=len(copies))
        return stored, True

    # -- retraction ---------------------------------------------------------------------------

    async def copies_of(self, message):
        """The other copies of a cross-app group message (its copies in the other apps, by
        its sender and client id, or by its sender and time): C{[stored, ...]}."""
        home = message.app
        group_app, gid = group_ref(message.target, home)
        members = await self.groups.members(group_app, gid)
        keys = {group_app} | {model.unqualified(n, group_app)[0] for n in members}
        keys |= await self.allowed_apps(group_app)  # of members who left since
        found = []
        for key in sorted(keys - {home}):
            target = str(gid) if key == group_app else model.qualified(group_app, str(gid))
            name = renamed(message.sender, home, key)
            copy = await copy_in(self.messages.store, key, name, GROUP, target, message)
            if copy is not None:
                found.append(copy)
        return found


    async def retract_copies(self, message, actor):
        """A group message C{actor} retracted (C{message}, retracted already in its app):
        its copies in other apps are retracted too, and each app's members of the group are
        told of their app's copy. False (and nothing done) for a group of the message's app
        that has no member of another app and no copy elsewhere: the app's own retraction."""
        home = message.app
        group_app, gid = group_ref(message.target, home)
        members = await self.groups.members(group_app, gid)
        copies = await self.copies_of(message)
        if group_app == home and not copies \
                and not self.groups.foreign_members(group_app, gid, members):
            return False
        group = await self.groups.find(group_app, gid)
        audience = {}
        for name in members:
            other_key, username = model.unqualified(name, group_app)
            audience.setdefault(other_key, []).append(username)
        store = self.messages.store
        for copy in [message, *copies]:
            if copy is not message and not copy.retracted:
                try:
                    copy = await store.retract_message(copy.app, copy.id)
                except JimError as e:
                    if e.code != errors.ALREADY_RETRACTED:
                        raise
            key = copy.app
            mine = key == group_app
            event = self.events.make(model.MESSAGE_RETRACTED, key,
                                     actor=renamed(actor, home, key),
                                     gid=gid if mine else None, message_ids=(copy.id,),
                                     target_type=GROUP, target=copy.target)
            alias = (None if group is None else group.alias) if mine else copy.target
            await self.events.send(event, audience.get(key, ()), alias)
        self.log.info("group message {id} of app {app} retracted with its {n} copies",
                      id=message.id, app=home, n=len(copies))
        return True
