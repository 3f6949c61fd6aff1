# -*- test-case-name: tests.integration.test_cross_relations -*-
"""Friends, blacklists and no-disturb settings across apps (JMessage's ``/v1/cross/users``):
what a user keeps about the users of other apps that allow its app.

Another app's user is a relation's target by its qualified name (L{jim.core.cross_apps}), so
the policy step reads a cross-app blacklist or friendship as it reads an in-app one: the
receiver's L{jim.core.relations.RelationSet} holds the sender's qualified name. A friendship
is kept both ways, each side in its own app. Each call names users as C{[(app key,
[username, ...]), ...]}, may name the caller's own app (then it is the in-app call), and
is refused whole (C{CROSS_APP_DENIED}) when one app named does not allow the caller's.
"""
import attr

from jim import errors, model
from jim.core.cross_apps import found_in_apps
from jim.core.events import bare_card, card
from jim.errors import JimError
from jim.model import Relation


def _as_seen(user, name):
    """A user's card under the name another app knows it by."""
    return attr.evolve(card(user), username=name)


class CrossRelations:
    def __init__(self, cross, relations, users, events):
        self.cross = cross
        self.relations = relations
        self.users = users
        self.events = events

    async def _allowed_anywhere(self, app):
        """Refuse a read of cross-app relations in an app that allows no other app."""
        settings = await self.cross.accounts.app(app)
        for other in (settings.cross_apps if settings is not None else ()):
            found = await self.cross.accounts.app(other)
            if found is not None and model.cross_allowed(settings, found):
                return
        raise JimError(errors.CROSS_APP_DENIED, f"the users of app {app!r} may chat with no"
                       " other app's")

    async def _removal(self, app, owner, entries, kept):
        """The names of a removal of C{owner}'s own entries: without the apps' permission
        when every one is an entry C{owner} has (C{kept(RelationSet)}: its names; entries
        outlive a permission taken back, and their owner may always clear them), else asked
        as any call is (CROSS_APP_DENIED without it)."""
        names, _ = await self.cross.resolve(app, entries, exist=False, permitted=False)
        mine = kept(await self.relations.current(app, owner))
        if any(name not in mine for name in names):
            await self.cross.resolve(app, entries, exist=False)
        return names

    # -- blacklists ----------------------------------------------------------------------------

    async def blacklist(self, app, owner):
        """The users C{owner} blacklisted, of every app: C{[User, ...]}, oldest first."""
        await self._allowed_anywhere(app)
        names = await self.relations.blacklist(app, owner)
        found = await self.cross.users_named(app, names)
        return [found[name] for name in names if name in found]

    async def add_blacklist(self, app, owner, entries):
        names, found = await self.cross.resolve(app, entries)
        await self.relations.add_blacklist(app, owner, names, found={
            name: attr.evolve(user, username=name) for name, user in found.items()})

    async def remove_blacklist(self, app, owner, entries):
        names = await self._removal(app, owner, entries, lambda mine: mine.blacklist)
        await self.relations.remove_blacklist(app, owner, names)

    # -- no-disturb ----------------------------------------------------------------------------

    async def set_nodisturb(self, app, owner, add, remove, add_groups=(), remove_groups=()):
        """No-disturb for the users of C{add} on, of C{remove} off (each C{[(app key,
        [username, ...]), ...]}), and for groups: gids of the caller's app, C{<appkey>:<gid>}
        of another app's group the owner is a member of."""
        added, found = await self.cross.resolve(app, add)
        removed = await self._removal(app, owner, remove, lambda mine: mine.nodisturb_users)
        await self.relations.set_nodisturb(app, owner, added, removed, add_groups,
                                           remove_groups, found=found)

    # -- friends ------------------------------------------------------------------------------

    async def add_friends(self, app, owner, other_key, usernames):
        """Make C{owner} and each of C{usernames} (of app C{other_key}) friends, both ways:
        each side keeps the other in its own app."""
        if other_key == app:
            return await self.relations.add_friends(app, owner, usernames)
        if len(set(usernames)) != len(usernames):
            raise JimError(errors.BAD_REQUEST, "the same friend is named twice")
        names, found = await self.cross.resolve(app, [(other_key, usernames)])
        me = await self.users.get(app, owner)
        mine = await self.relations.current(app, owner)
        known = [name for name in names if name in mine.friends]
        if known:
            raise JimError(errors.ALREADY_FRIEND, f"already friends: {', '.join(known[:20])}")
        now = self.events.now_ms()
        seen_as = model.qualified(app, owner)
        both_ways = [Relation(app, model.FRIEND, owner, name, ctime=now) for name in names]
        both_ways += [Relation(other_key, model.FRIEND, name, seen_as, ctime=now)
                      for name in usernames]
        await self.relations.store.add_relations(both_ways)
        await self.relations.reload(app, [owner])
        await self.relations.reload(other_key, usernames)
        await self.events.send(self.events.make(
            model.FRIEND_ADDED, app, actor=owner,
            users=[_as_seen(found[name], name) for name in names]), [owner])
        for name in usernames:
            await self.events.send(self.events.make(
                model.FRIEND_ADDED, other_key, actor=seen_as,
                users=[_as_seen(me, seen_as)]), [name])

    async def remove_friends(self, app, owner, other_key, usernames):
        if other_key == app:
            return await self.relations.remove_friends(app, owner, usernames)
        if len(set(usernames)) != len(usernames):
            raise JimError(errors.BAD_REQUEST, "the same friend is named twice")
        names = await self._removal(app, owner, [(other_key, usernames)],
                                    lambda mine: mine.friends)
        me = await self.users.get(app, owner)
        mine = await self.relations.current(app, owner)
        strangers = [name for name in names if name not in mine.friends]
        if strangers:
            raise JimError(errors.NOT_FRIEND, f"not friends: {', '.join(strangers[:20])}")
        seen_as = model.qualified(app, owner)
        store = self.relations.store
        await store.remove_relations(app, model.FRIEND, owner, names)
        for name in usernames:
            await store.remove_relations(other_key, model.FRIEND, name, [seen_as])
        await self.relations.reload(app, [owner])
        await self.relations.reload(other_key, usernames)
        theirs = await self.users.get_many(other_key, usernames)  # (a user gone: a bare card)
        await self.events.send(self.events.make(
            model.FRIEND_REMOVED, app, actor=owner,
            users=[_as_seen(theirs[username], name) if username in theirs else bare_card(name)
                   for username, name in zip(usernames, [model.qualified(other_key, u)
                                                         for u in usernames])]), [owner])
        for name in usernames:
            await self.events.send(self.events.make(
                model.FRIEND_REMOVED, other_key, actor=seen_as, users=[_as_seen(me, seen_as)]),
                [name])

    async def update_friends(self, app, owner, notes):
        """C{notes}: C{[(app key, username, note_name, others), ...]} (a note None: left as it
        is): the owner's notes on friends of any app."""
        names, _ = await self.cross.resolve(
            app, [(other_key, [username]) for other_key, username, _, _ in notes], exist=False)
        await self.relations.update_friends(app, owner, [
            (name, note_name, others)
            for name, (_, _, note_name, others) in zip(names, notes)])

    # -- what other services call ------------------------------------------------------------

    async def user_deleted(self, app, username):
        """Forget what the users of every other app keep about a deleted user (their
        friendships, blacklists and no-disturb settings; an app that stopped allowing C{app}
        may keep some), so that a new user of that name inherits none of it."""
        seen_as = model.qualified(app, username)
        store = self.relations.store

        async def owners(other):
            affected = []
            for kind in model.USER_RELATIONS:
                affected += await store.owners_of(other, kind, seen_as)
            return affected

        others = [key for key in await self.cross.accounts.every_app_key() if key != app]
        for other, affected in await found_in_apps(others, owners):
            await store.remove_targeting(other, model.USER_RELATIONS, seen_as)
            await self.relations.reload(other, affected)
