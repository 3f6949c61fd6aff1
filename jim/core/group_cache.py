"""What the Groups service keeps in memory: group records, their aliases, and for each group
its members together with the members who shield it.

Each group has a generation, bumped at every change this node or another makes to it. A read
that started before a change and answers after it was made is the caller's only: it is not
kept, so memory never goes back to what the store held before a change.
"""
from jim.core.cache import Bounded


class Entry:
    """A group's members ({username: Member}, joining order; changed in place) and the
    members who shield it (a frozenset, replaced whole)."""

    __slots__ = ("members", "shielded", "foreign")

    def __init__(self, members, shielded):
        self.members = members
        self.shielded = shielded
        self.foreign = None  # the members of other apps, once asked (None: to be counted)


class GroupCache:
    def __init__(self, size):
        self.groups = Bounded(size)  # (app, gid) -> Group
        self.aliases = Bounded(size)  # (app, alias) -> gid
        self.entries = Bounded(size)  # (app, gid) -> Entry
        self._generations = Bounded(size)  # (app, gid) -> changes made to it so far
        #: changes made to any group so far: for reads that do not know their group yet
        #: (by alias)
        self.changes = 0
        self._epoch = 0  # times everything was forgotten at once

    def generation(self, key):
        return self._epoch, self._generations.get(key, 0)

    def changed(self, key):
        """A change of the group was written: reads that started before it are not kept."""
        self._generations[key] = self._generations.get(key, 0) + 1
        self.changes += 1

    def remember(self, group, generation=None):
        """Keep a group record (read when the group was at C{generation}, if given)."""
        key = (group.app, group.gid)
        if generation is None or generation == self.generation(key):
            self.groups[key] = group
            if group.alias is not None:
                self.aliases[(group.app, group.alias)] = group.gid

    def keep(self, key, members, shielded, generation):
        """The members a read found, kept if no change overtook the read (else they are the
        reader's only); the members memory holds."""
        entry = self.entries.get(key)
        if entry is not None:
            return entry.members
        if generation != self.generation(key):
            return members
        self.entries[key] = Entry(members, shielded)
        return members

    def forget_all(self):
        """Drop every group (this node may have missed changes): reads that started before
        are not kept."""
        self._epoch += 1
        self.changes += 1
        self.groups.clear()
        self.aliases.clear()
        self.entries.clear()

    def forget(self, key):
        """Drop everything about a group (changed elsewhere, or gone)."""
        self.changed(key)
        group = self.groups.pop(key, None)
        self.entries.pop(key, None)
        if group is not None and group.alias is not None:
            self.aliases.pop((group.app, group.alias), None)
