# -*- test-case-name: tests.store_contract.test_groups -*-
"""The groups area of L{jim.store.memory.MemoryStore}: groups and their members."""
import attr
from zope.interface import implementer

from jim import errors, model
from jim.errors import JimError
from jim.interfaces import IGroupStore
from jim.model import Group, Member
from jim.store import (
    GROUP_CHANGES, MEMBER_CHANGES, answered, changed, check_changes, check_page, next_gid,
)


@implementer(IGroupStore)
class MemoryGroups:
    """@param silences: the store's L{jim.store.memory_silences.MemorySilences}, where the
        members removed keep their silences."""

    def __init__(self, silences):
        self._silences = silences
        self._groups = {}  # (app, gid) -> Group, in creation order
        self._aliases = {}  # (app, alias) -> gid
        self._members = {}  # (app, gid) -> {username: Member}, in joining order
        self._memberships = {}  # (app, username) -> {gid: None}, in joining order
        self._last_gids = {}  # app -> the highest gid it ever had (deleted groups' included)

    def _group(self, app, gid):
        group = self._groups.get((app, gid))
        if group is None:
            raise JimError(errors.NO_SUCH_GROUP, f"no group {gid}")
        return group

    def all_groups(self, app):
        """The app's groups (the report area counts them)."""
        return [group for (of, _), group in self._groups.items() if of == app]

    @answered
    def create_group(self, group, members):
        app = group.app
        last = self._last_gids.get(app, 0)
        if group.gid == 0:
            # never a gid the app ever had: a deleted group's history is still keyed by it
            group = attr.evolve(group, gid=next_gid(last))
        if (app, group.gid) in self._groups:
            raise JimError(errors.GROUP_EXISTS, f"group {group.gid} exists")
        if group.alias is not None and (app, group.alias) in self._aliases:
            raise JimError(errors.GROUP_EXISTS, f"group {group.alias!r} exists")
        self._groups[(app, group.gid)] = group
        if group.alias is not None:
            self._aliases[(app, group.alias)] = group.gid
        self._members[(app, group.gid)] = {}
        self._last_gids[app] = max(last, group.gid)
        self._add(app, group.gid, members)
        return group

    @answered
    def get_group(self, app, gid):
        return self._groups.get((app, gid))

    @answered
    def group_by_alias(self, app, alias):
        gid = self._aliases.get((app, alias))
        return None if gid is None else self._groups[(app, gid)]

    @answered
    def update_group(self, app, gid, changes):
        check_changes(Group, changes, GROUP_CHANGES)  # a caller's bug comes first, as in SQLite
        group = self._groups[(app, gid)] = changed(self._group(app, gid), changes, GROUP_CHANGES)
        return group

    @answered
    def delete_group(self, app, gid):
        group = self._group(app, gid)
        del self._groups[(app, gid)]
        if group.alias is not None:
            del self._aliases[(app, group.alias)]
        for username in self._members.pop((app, gid)):
            self._memberships[(app, username)].pop(gid, None)

    @answered
    def list_groups(self, app, start, count):
        check_page(start, count)
        groups = [g for (a, _), g in self._groups.items() if a == app]
        return len(groups), groups[start : start + count]

    @answered
    def add_members(self, app, gid, members):
        self._group(app, gid)
        return self._add(app, gid, members)

    def _add(self, app, gid, members):
        current = self._members[(app, gid)]
        added = []
        for member in members:
            if member.username not in current:
                current[member.username] = member
                self._memberships.setdefault((app, member.username), {})[gid] = None
                added.append(member.username)
        return added

    @answered
    def remove_members(self, app, gid, usernames):
        current = self._members.get((app, gid), {})
        removed, silenced = [], []
        for username in dict.fromkeys(usernames):
            member = current.pop(username, None)
            if member is not None:
                self._memberships[(app, username)].pop(gid, None)
                removed.append(username)
                if member.silenced:
                    silenced.append(username)
        self._silences.keep(app, model.silence_place(model.GROUPS_AREA, gid), silenced)
        return removed

    @answered
    def update_member(self, app, gid, username, changes):
        check_changes(Member, changes, MEMBER_CHANGES)
        current = self._members.get((app, gid), {})
        member = current.get(username)
        if member is None:
            raise JimError(errors.NOT_MEMBER, f"{username!r} is not a member of group {gid}")
        member = current[username] = changed(member, changes, MEMBER_CHANGES)
        return member

    @answered
    def set_owner(self, app, gid, username):
        group = self._group(app, gid)
        current = self._members[(app, gid)]
        if username not in current:
            raise JimError(errors.NOT_MEMBER, f"{username!r} is not a member of group {gid}")
        if group.owner in current and group.owner != username:
            current[group.owner] = attr.evolve(current[group.owner], role=model.MEMBER)
        current[username] = attr.evolve(current[username], role=model.OWNER)
        group = self._groups[(app, gid)] = attr.evolve(group, owner=username)
        return group

    @answered
    def members(self, app, gid):
        return list(self._members.get((app, gid), {}).values())

    @answered
    def user_groups(self, app, username):
        return [self._groups[(app, gid)] for gid in self._memberships.get((app, username), ())]

    @answered
    def members_with_prefix(self, app, prefix):
        return sorted((gid, username) for (of, username), gids in self._memberships.items()
                      if of == app and username.startswith(prefix) for gid in gids)

    @answered
    def forget_app(self, app):
        """Forget the app's groups, members and gid mark (L{jim.interfaces.IStore.forget_app}):
        a new app of the same key starts from L{model.FIRST_GID} again."""
        for kept in (self._groups, self._aliases, self._members, self._memberships):
            for key in [key for key in kept if key[0] == app]:
                del kept[key]
        self._last_gids.pop(app, None)
