# -*- test-case-name: tests.store_contract.test_relations -*-
"""The relations area of the Redis store (L{jim.interfaces.IRelationStore}).

Keys (L{jim.store.redis_keys.key}; C{<entry>} is the JSON text C{[kind, target]}, C{<back>}
the JSON text C{[kind, owner]}):

    relations:seq             STRING  the app's relation counter (INCR): a relation's age
    relations:of:<owner>      ZSET    <entry> -> its age: what the owner keeps, oldest first
    relations:notes:<owner>   HASH    <entry> -> JSON [note_name, others]
    relations:ctimes:<owner>  HASH    <entry> -> ctime, in decimal
    relations:to:<target>     ZSET    <back> -> its age: who keeps something about the target

A relation is in all four of its owner's and target's keys or in none: every write is one
script. Entries are made in Python only (a script compares them as they are), and a ctime is
apart from the notes so that an update replaces the notes without reading them first. The scripts that forget relations found through an index (C{remove_owned},
C{remove_targeting}) are given what was read of it and do nothing if it changed since; the
read is then made again.
"""
import orjson
from twisted.internet import defer
from zope.interface import implementer

from jim import errors
from jim.errors import JimError
from jim.interfaces import IRelationStore
from jim.model import Relation
from jim.redis.client import Script
from jim.store.redis_keys import SCAN_COUNT, key, starting_with


def _text(name):
    return name.decode("utf-8") if isinstance(name, bytes) else name

#: how many times a write made over an index read again is tried before it fails
ATTEMPTS = 50

_ADD = Script("add_relations", """
local added = {}
for i = 1, #ARGV / 4 do
  local entry = ARGV[4 * i - 3]
  if not redis.call('ZSCORE', KEYS[4 * i - 2], entry) then
    local age = redis.call('INCR', KEYS[1])
    redis.call('ZADD', KEYS[4 * i - 2], age, entry)
    redis.call('HSET', KEYS[4 * i - 1], entry, ARGV[4 * i - 2])
    redis.call('HSET', KEYS[4 * i], entry, ARGV[4 * i - 1])
    redis.call('ZADD', KEYS[4 * i + 1], age, ARGV[4 * i])
    added[#added + 1] = i
  end
end
return added
""")

_UPDATE = Script("update_relations", """
local updated = {}
for i = 1, #ARGV / 2 do
  local entry = ARGV[2 * i - 1]
  if redis.call('HEXISTS', KEYS[2 * i - 1], entry) == 1 then
    redis.call('HSET', KEYS[2 * i - 1], entry, ARGV[2 * i])
    updated[#updated + 1] = i
    updated[#updated + 1] = redis.call('HGET', KEYS[2 * i], entry)
  end
end
return updated
""")

_REMOVE = Script("remove_relations", """
local removed = {}
for i = 1, #ARGV / 2 do
  local entry = ARGV[2 * i - 1]
  if redis.call('ZREM', KEYS[1], entry) == 1 then
    redis.call('HDEL', KEYS[2], entry)
    redis.call('HDEL', KEYS[3], entry)
    redis.call('ZREM', KEYS[3 + i], ARGV[2 * i])
    removed[#removed + 1] = i
  end
end
return removed
""")

_REMOVE_OWNED = Script("remove_owned", """
local now = redis.call('ZRANGE', KEYS[1], 0, -1)
if #now * 2 ~= #ARGV then return 0 end
for i, entry in ipairs(now) do
  if entry ~= ARGV[2 * i - 1] then return 0 end
end
for i = 1, #now do redis.call('ZREM', KEYS[3 + i], ARGV[2 * i]) end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
return 1
""")

_REMOVE_TARGETING = Script("remove_targeting", """
local seen = tonumber(ARGV[1])
local now = redis.call('ZRANGE', KEYS[1], 0, -1)
if #now ~= seen then return 0 end
for i, back in ipairs(now) do
  if back ~= ARGV[1 + i] then return 0 end
end
for j = 1, (#ARGV - 1 - seen) / 2 do
  local entry = ARGV[1 + seen + 2 * j]
  redis.call('ZREM', KEYS[1], ARGV[seen + 2 * j])
  redis.call('ZREM', KEYS[3 * j - 1], entry)
  redis.call('HDEL', KEYS[3 * j], entry)
  redis.call('HDEL', KEYS[3 * j + 1], entry)
end
return 1
""")

_RELATIONS_OF = Script("relations_of", """
local found = {}
for _, entry in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  found[#found + 1] = entry
  found[#found + 1] = redis.call('HGET', KEYS[2], entry)
  found[#found + 1] = redis.call('HGET', KEYS[3], entry)
end
return found
""")


def _pair(first, second):
    return orjson.dumps([first, second]).decode()


def _owned_keys(app, owner):
    """The keys of what C{owner} keeps: its order, its notes, its ctimes."""
    return [key(app, "relations", "of", owner), key(app, "relations", "notes", owner),
            key(app, "relations", "ctimes", owner)]


def _by_app(relations):
    """C{relations} as {app: [(position, relation), ...]}, each app's in the given order."""
    apps = {}
    for position, relation in enumerate(relations):
        apps.setdefault(relation.app, []).append((position, relation))
    return apps


@implementer(IRelationStore)
class RedisRelations:
    def __init__(self, client):
        self._client = client

    def add_relations(self, relations):
        return defer.ensureDeferred(self._add(list(relations)))

    async def _add(self, relations):
        added = {}
        for app, batch in _by_app(relations).items():  # one script per app: keys of one app
            keys, args = [key(app, "relations", "seq")], []
            for _, r in batch:
                keys += _owned_keys(app, r.owner) + [key(app, "relations", "to", r.target)]
                args += [_pair(r.kind, r.target), _pair(r.note_name, r.others), str(r.ctime),
                         _pair(r.kind, r.owner)]
            for i in await self._client.run(_ADD, keys, args):
                position, relation = batch[i - 1]
                added[position] = relation
        return [added[position] for position in sorted(added)]

    def update_relations(self, relations):
        return defer.ensureDeferred(self._update(list(relations)))

    async def _update(self, relations):
        updated = {}
        for app, batch in _by_app(relations).items():
            keys, args = [], []
            for _, r in batch:
                keys += _owned_keys(app, r.owner)[1:]
                args += [_pair(r.kind, r.target), _pair(r.note_name, r.others)]
            reply = await self._client.run(_UPDATE, keys, args)
            for i, ctime in zip(reply[::2], reply[1::2]):
                position, r = batch[i - 1]
                updated[position] = Relation(app, r.kind, r.owner, r.target, r.note_name,
                                             r.others, int(ctime))
        return [updated[position] for position in sorted(updated)]

    def remove_relations(self, app, kind, owner, targets):
        return defer.ensureDeferred(self._remove(app, kind, owner, list(dict.fromkeys(targets))))

    async def _remove(self, app, kind, owner, targets):
        if not targets:
            return []
        keys = _owned_keys(app, owner) + [key(app, "relations", "to", t) for t in targets]
        args = [part for t in targets for part in (_pair(kind, t), _pair(kind, owner))]
        return [targets[i - 1] for i in await self._client.run(_REMOVE, keys, args)]

    def relations_of(self, app, owner, kinds=None):
        return defer.ensureDeferred(self._relations_of(app, owner, kinds))

    async def _relations_of(self, app, owner, kinds):
        found = await self._client.run(_RELATIONS_OF, _owned_keys(app, owner))
        kept = []
        for entry, notes, ctime in zip(found[::3], found[1::3], found[2::3]):
            kind, target = orjson.loads(entry)
            if kinds is None or kind in kinds:
                kept.append(Relation(app, kind, owner, target, *orjson.loads(notes), int(ctime)))
        return kept

    def owners_of(self, app, kind, target):
        return defer.ensureDeferred(self._owners_of(app, kind, target))

    async def _owners_of(self, app, kind, target):
        backs = await self._client.call("ZRANGE", key(app, "relations", "to", target), 0, -1)
        return [owner for k, owner in map(orjson.loads, backs) if k == kind]

    def remove_owned(self, app, owner):
        return defer.ensureDeferred(self._again(self._remove_owned, app, owner))

    async def _remove_owned(self, app, owner):
        keys = _owned_keys(app, owner)
        args = []
        for entry in await self._client.call("ZRANGE", keys[0], 0, -1):
            kind, target = orjson.loads(entry)
            keys.append(key(app, "relations", "to", target))
            args += [entry, _pair(kind, owner)]
        return await self._client.run(_REMOVE_OWNED, keys, args)

    def targets_with_prefix(self, app, prefix):
        return defer.ensureDeferred(self._targets_with_prefix(app, prefix))

    async def _targets_with_prefix(self, app, prefix):
        """A SCAN of the app's reverse indexes (C{relations:to:<target>}) whose target begins
        with C{prefix}; an index is deleted when its last relation goes, so each one found
        names a kept target (or one being removed as the scan runs)."""
        head = key(app, "relations", "to", "")
        pattern = starting_with(head + prefix)
        found, cursor = set(), "0"
        while True:
            cursor, names = await self._client.call("SCAN", cursor, "MATCH", pattern,
                                                    "COUNT", SCAN_COUNT)
            found.update(_text(name)[len(head):] for name in names)
            if str(cursor) == "0":
                return sorted(found)

    def remove_targeting(self, app, kinds, target):
        return defer.ensureDeferred(self._again(self._remove_targeting, app, list(kinds), target))

    async def _remove_targeting(self, app, kinds, target):
        if not kinds:
            return 1
        keys = [key(app, "relations", "to", target)]
        seen = await self._client.call("ZRANGE", keys[0], 0, -1)
        args = [str(len(seen)), *seen]
        for back in seen:
            kind, owner = orjson.loads(back)
            if kind in kinds:
                keys += _owned_keys(app, owner)
                args += [back, _pair(kind, target)]
        return await self._client.run(_REMOVE_TARGETING, keys, args)

    async def _again(self, attempt, *args):
        """Run C{attempt} (a read, then a script given what it read) until its script finds
        what was read unchanged and does its work."""
        for _ in range(ATTEMPTS):
            if await attempt(*args):
                return None
        raise JimError(errors.SERVER_ERROR, "relations kept changing: try again")
