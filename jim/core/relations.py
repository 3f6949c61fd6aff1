# -*- test-case-name: tests.test_core_relations -*-
"""The Relations service: friends, blacklists, no-disturb settings and group shields.

It owns the relations area of the store and caches each user's relations as one immutable
L{RelationSet}, which the policy step reads on the hot path (has the receiver blacklisted the
sender? are they friends?). Every change is checked whole before anything is written (a call
that names one friend too many changes nothing), written, re-read into the cache, announced to
other nodes (L{Invalidate}) and told to the users it concerns (an L{Event}).
"""
import attr
from twisted.logger import Logger

from jim import errors, model
from jim.core.cache import Bounded, SharedLoads
from jim.core.events import card, cards
from jim.core.users import NAME_BYTES, TEXT_BYTES, check_text
from jim.errors import JimError
from jim.model import Invalidate, Relation

GROUP_RELATIONS = (model.NODISTURB_GROUP, model.SHIELD)


@attr.s(frozen=True, slots=True)
class RelationSet:
    """Everything one user keeps about others, as the hot path reads it."""

    friends = attr.ib(factory=dict)  # username -> Relation (with the owner's notes)
    blacklist = attr.ib(factory=frozenset)
    nodisturb_users = attr.ib(factory=frozenset)
    nodisturb_groups = attr.ib(factory=frozenset)  # gids as text
    nodisturb_all = attr.ib(default=False)
    shields = attr.ib(factory=frozenset)  # gids as text

    @classmethod
    def of(cls, relations):
        by_kind = {kind: [] for kind in model.RELATION_KINDS}
        for relation in relations:
            by_kind[relation.kind].append(relation)
        return cls(
            friends={r.target: r for r in by_kind[model.FRIEND]},
            blacklist=frozenset(r.target for r in by_kind[model.BLACKLIST]),
            nodisturb_users=frozenset(r.target for r in by_kind[model.NODISTURB_USER]),
            nodisturb_groups=frozenset(r.target for r in by_kind[model.NODISTURB_GROUP]),
            nodisturb_all=bool(by_kind[model.NODISTURB_ALL]),
            shields=frozenset(r.target for r in by_kind[model.SHIELD]),
        )


def _refuse_if(names, wrong, code, what):
    """JimError(C{code}) naming (up to 20 of) the C{names} for which C{wrong(name)} holds."""
    found = [name for name in names if wrong(name)]
    if found:
        raise JimError(code, f"{what}: {', '.join(found[:20])}")


def _refuse_repeats(names, what):
    if len(set(names)) != len(names):
        raise JimError(errors.BAD_REQUEST, f"the same {what} is named twice")


class Relations:
    log = Logger()

    def __init__(self, store, users, groups, events, bus, cache_size=100_000):
        self.store = store
        self.users = users
        self.groups = groups
        self.events = events
        self.bus = bus
        #: (app, owner) -> RelationSet: what memory holds. The hot path reads it directly;
        #: only this service writes it.
        self.known = self._cache = Bounded(cache_size)
        self._loads = SharedLoads()
        # entries dropped so far: a read that a drop overtook is not kept
        self._drops = 0

    # -- reading -----------------------------------------------------------------------------

    def cached(self, app, owner):
        """The owner's L{RelationSet} if it is in memory (the hot path asks), else None."""
        return self._cache.get((app, owner))

    async def of(self, app, owner):
        """The owner's L{RelationSet}, read once and cached."""
        found = self._cache.get((app, owner))
        if found is None:
            found = await self._loads.load((app, owner, self._drops),
                                           lambda: self._read(app, owner))
        return found

    async def current(self, app, owner):
        """The owner's L{RelationSet} as the store has it now (kept in memory too). A change
        checks against this, not memory: another node's change may not have reached this
        node's memory yet, and its caller may already have been answered (a REST client that
        calls again through another node)."""
        return await self._read(app, owner)

    async def _read(self, app, owner):
        drops = self._drops
        found = RelationSet.of(await self.store.relations_of(app, owner))
        if drops == self._drops:
            self._cache[(app, owner)] = found
        return found

    def _drop(self, app, owner):
        self._drops += 1
        self._cache.pop((app, owner), None)

    async def _reload(self, app, owners):
        """Read the relations of C{owners} again, here and (told on the bus) on every node."""
        for owner in dict.fromkeys(owners):
            self._drop(app, owner)
            await self._read(app, owner)
            self.bus.publish(Invalidate(model.RELATIONS_AREA, app, owner, self.bus.node))

    async def reload(self, app, owners):
        """The relations of C{owners} changed (another service wrote them): read them again,
        on every node."""
        await self._reload(app, owners)

    async def friends(self, app, owner):
        """The owner's friends as L{Relation}s (with its notes), oldest first."""
        await self.users.get(app, owner)
        return await self.store.relations_of(app, owner, (model.FRIEND,))

    async def friend_names(self, app, owner):
        """The owner's friends in its app (not those of other apps: L{jim.core.cross_apps})."""
        return [name for name in (await self.of(app, owner)).friends
                if model.QUALIFIER not in name]

    async def blacklist(self, app, owner):
        await self.users.get(app, owner)
        return [r.target for r in await self.store.relations_of(app, owner, (model.BLACKLIST,))]

    async def shielders(self, app, gid):
        """Who shields group C{gid}: they do not receive its messages."""
        return await self.store.owners_of(app, model.SHIELD, str(gid))

    # -- friends -----------------------------------------------------------------------------

    async def add_friends(self, app, owner, usernames):
        """Make C{owner} and each of C{usernames} friends, both ways."""
        _refuse_repeats(usernames, "friend")
        if owner in usernames:
            raise JimError(errors.BAD_REQUEST, "a user cannot be its own friend")
        me = await self.users.get(app, owner)
        others = await self.users.require_all(app, usernames)
        mine = await self.current(app, owner)
        _refuse_if(usernames, lambda name: name in mine.friends, errors.ALREADY_FRIEND,
                   "already friends")
        now = self.events.now_ms()
        both_ways = [Relation(app, model.FRIEND, owner, name, ctime=now) for name in usernames]
        both_ways += [Relation(app, model.FRIEND, name, owner, ctime=now) for name in usernames]
        await self.store.add_relations(both_ways)
        await self._reload(app, [owner, *usernames])
        event = self.events.make(model.FRIEND_ADDED, app, actor=owner,
                                 users=[card(others[n]) for n in usernames])
        await self.events.send(event, [owner])
        for name in usernames:
            await self.events.send(self.events.make(model.FRIEND_ADDED, app, actor=owner,
                                                    users=[card(me)]), [name])

    async def remove_friends(self, app, owner, usernames):
        _refuse_repeats(usernames, "friend")
        await self.users.get(app, owner)
        mine = await self.current(app, owner)
        _refuse_if(usernames, lambda name: name not in mine.friends, errors.NOT_FRIEND,
                   "not friends")
        await self.store.remove_relations(app, model.FRIEND, owner, usernames)
        for name in usernames:
            await self.store.remove_relations(app, model.FRIEND, name, [owner])
        await self._reload(app, [owner, *usernames])
        me, *theirs = await cards(self.users, app, [owner, *usernames])
        await self.events.send(self.events.make(model.FRIEND_REMOVED, app, actor=owner,
                                                users=theirs), [owner])
        for name in usernames:
            await self.events.send(self.events.make(model.FRIEND_REMOVED, app, actor=owner,
                                                    users=[me]), [name])

    async def update_friends(self, app, owner, notes):
        """C{notes}: C{[(username, note_name, others), ...]}: the owner's notes on friends; a
        note given as None is left as it is."""
        names = [name for name, _, _ in notes]
        _refuse_repeats(names, "friend")
        await self.users.get(app, owner)
        mine = await self.current(app, owner)
        _refuse_if(names, lambda name: name not in mine.friends, errors.NOT_FRIEND,
                   "not friends")
        relations = []
        for name, note_name, others in notes:
            kept = mine.friends[name]
            note_name = kept.note_name if note_name is None else note_name
            others = kept.others if others is None else others
            relations.append(Relation(
                app, model.FRIEND, owner, name,
                check_text("note_name", note_name, NAME_BYTES, single_line=True),
                check_text("others", others, TEXT_BYTES)))
        await self.store.update_relations(relations)
        await self._reload(app, [owner])
        await self.events.send(self.events.make(model.FRIEND_UPDATED, app, actor=owner,
                                                users=await cards(self.users, app, names)),
                               [owner])

    # -- blacklist -----------------------------------------------------------------------------

    async def add_blacklist(self, app, owner, usernames, found=None):
        """Blacklist C{usernames}; C{found}: their users (name -> User), when the caller read
        them (other apps' users, by their qualified names: L{jim.core.cross_apps})."""
        _refuse_repeats(usernames, "user")
        if owner in usernames:
            raise JimError(errors.BAD_REQUEST, "a user cannot blacklist itself")
        await self.users.get(app, owner)
        others = found if found is not None else await self.users.require_all(app, usernames)
        _refuse_if(usernames, lambda name: others[name].admin, errors.ADMIN_NOT_BLACKLISTABLE,
                   "admins cannot be blacklisted")
        mine = await self.current(app, owner)
        _refuse_if(usernames, lambda name: name in mine.blacklist, errors.ALREADY_BLACKLISTED,
                   "already blacklisted")
        now = self.events.now_ms()
        await self.store.add_relations(
            [Relation(app, model.BLACKLIST, owner, name, ctime=now) for name in usernames])
        await self._reload(app, [owner])
        event = self.events.make(model.BLACKLIST_CHANGED, app, actor=owner, flag=True,
                                 users=[card(others[n]) for n in usernames])
        await self.events.send(event, [owner])

    async def remove_blacklist(self, app, owner, usernames):
        _refuse_repeats(usernames, "user")
        await self.users.get(app, owner)
        mine = await self.current(app, owner)
        _refuse_if(usernames, lambda name: name not in mine.blacklist, errors.NOT_BLACKLISTED,
                   "not blacklisted")
        await self.store.remove_relations(app, model.BLACKLIST, owner, usernames)
        await self._reload(app, [owner])
        event = self.events.make(model.BLACKLIST_CHANGED, app, actor=owner, flag=False,
                                 users=await cards(self.users, app, usernames))
        await self.events.send(event, [owner])

    # -- no-disturb and shields ----------------------------------------------------------------

    async def set_nodisturb(self, app, owner, add_users=(), remove_users=(), add_groups=(),
                            remove_groups=(), everything=None, found=None):
        """Change the owner's no-disturb settings: users, groups (gids) and the global one
        (C{everything} True on, False off, None unchanged). All or nothing. C{found}: the
        users of C{add_users}, when the caller read them (as L{add_blacklist} takes them)."""
        await self.users.get(app, owner)
        mine = await self.current(app, owner)
        _refuse_repeats(list(add_users) + list(remove_users), "user")
        _refuse_repeats(list(add_groups) + list(remove_groups), "group")
        if found is None:
            await self.users.require_all(app, add_users)
        for name in add_users:
            if name in mine.nodisturb_users:
                raise JimError(errors.NODISTURB_USER_ON, f"no-disturb for {name!r} is on already")
        for name in remove_users:
            if name not in mine.nodisturb_users:
                raise JimError(errors.NODISTURB_USER_OFF, f"no-disturb for {name!r} is not on")
        for gid in add_groups:
            await self._require_membership(app, owner, gid)
            if str(gid) in mine.nodisturb_groups:
                raise JimError(errors.NODISTURB_GROUP_ON, f"no-disturb for group {gid} is on")
        for gid in remove_groups:
            if str(gid) not in mine.nodisturb_groups:
                raise JimError(errors.NODISTURB_GROUP_OFF, f"no-disturb for group {gid} is off")
        if everything is True and mine.nodisturb_all:
            raise JimError(errors.NODISTURB_ALL_ON, "global no-disturb is on already")
        if everything is False and not mine.nodisturb_all:
            raise JimError(errors.NODISTURB_ALL_OFF, "global no-disturb is off already")
        now = self.events.now_ms()
        added = [Relation(app, model.NODISTURB_USER, owner, n, ctime=now) for n in add_users]
        added += [Relation(app, model.NODISTURB_GROUP, owner, str(g), ctime=now)
                  for g in add_groups]
        if everything is True:
            added.append(Relation(app, model.NODISTURB_ALL, owner, "", ctime=now))
        await self.store.add_relations(added)
        await self.store.remove_relations(app, model.NODISTURB_USER, owner, list(remove_users))
        await self.store.remove_relations(app, model.NODISTURB_GROUP, owner,
                                          [str(g) for g in remove_groups])
        if everything is False:
            await self.store.remove_relations(app, model.NODISTURB_ALL, owner, [""])
        await self._reload(app, [owner])
        await self.events.send(self.events.make(model.NODISTURB_CHANGED, app, actor=owner),
                               [owner])

    async def set_shields(self, app, owner, add=(), remove=()):
        """Shield the owner from groups C{add} (gids) and stop shielding C{remove}."""
        await self.users.get(app, owner)
        _refuse_repeats(list(add) + list(remove), "group")
        mine = await self.current(app, owner)
        for gid in add:
            await self._require_membership(app, owner, gid)
            if str(gid) in mine.shields:
                raise JimError(errors.SHIELD_ON, f"group {gid} is shielded already")
        for gid in remove:
            if await self.groups.find(app, gid) is None:
                raise JimError(errors.NO_SUCH_GROUP, f"no group {gid}")
            if str(gid) not in mine.shields:
                raise JimError(errors.SHIELD_OFF, f"group {gid} is not shielded")
        now = self.events.now_ms()
        await self.store.add_relations(
            [Relation(app, model.SHIELD, owner, str(gid), ctime=now) for gid in add])
        await self.store.remove_relations(app, model.SHIELD, owner, [str(g) for g in remove])
        await self._reload(app, [owner])
        for gid in dict.fromkeys(list(add) + list(remove)):
            self.groups.shields_changed(app, gid)

    async def _require_membership(self, app, owner, gid):
        if isinstance(gid, str) and model.QUALIFIER in gid:  # another app's group
            await self.groups.cross.require_member(app, owner, gid)
            return
        if await self.groups.find(app, gid) is None:
            raise JimError(errors.NO_SUCH_GROUP, f"no group {gid}")
        if owner not in await self.groups.members(app, gid):
            raise JimError(errors.NOT_MEMBER, f"{owner!r} is not a member of group {gid}")

    # -- what other services call ------------------------------------------------------------

    async def user_deleted(self, app, username):
        """Forget every relation of a deleted user, and every one to it."""
        affected = []
        for kind in model.USER_RELATIONS:
            affected += await self.store.owners_of(app, kind, username)
        shielded = await self.store.relations_of(app, username, (model.SHIELD,))
        await self.store.remove_owned(app, username)
        await self.store.remove_targeting(app, model.USER_RELATIONS, username)
        self._drop(app, username)
        self.bus.publish(Invalidate(model.RELATIONS_AREA, app, username, self.bus.node))
        await self._reload(app, [name for name in affected if name != username])
        for relation in shielded:  # a new user of that name must not inherit the shields
            self.groups.shields_changed(app, int(relation.target))

    async def members_left(self, app, gid, usernames):
        """Users left group C{gid}: their shield of it and their no-disturb for it go."""
        changed = []
        for name in usernames:
            removed = []
            for kind in GROUP_RELATIONS:
                removed += await self.store.remove_relations(app, kind, name, [str(gid)])
            if removed:
                changed.append(name)
        if changed:
            await self._reload(app, changed)
            self.groups.shields_changed(app, gid)

    async def group_deleted(self, app, gid):
        """Forget every no-disturb setting and shield of a dissolved group."""
        affected = []
        for kind in GROUP_RELATIONS:
            affected += await self.store.owners_of(app, kind, str(gid))
        await self.store.remove_targeting(app, GROUP_RELATIONS, str(gid))
        await self._reload(app, affected)

    def on_bus(self, value):
        if type(value) is Invalidate and value.area == model.RELATIONS_AREA \
                and value.origin != self.bus.node:
            if value.app == model.EVERY_APP:
                self._drops += 1
                self._cache.clear()
            else:
                self._drop(value.app, value.key)
