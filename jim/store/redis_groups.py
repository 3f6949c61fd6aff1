# -*- test-case-name: tests.store_contract.test_groups -*-
"""The groups area of the Redis store (L{jim.interfaces.IGroupStore}).

Keys (L{jim.store.redis_keys.key}; a gid is in decimal):

    groups                    HASH    gid -> JSON [name, desc, avatar, owner, flag,
                                      max_members, ctime, mtime, alias]
    groups:order              ZSET    gid -> its creation's place: the list in creation order
    groups:aliases            HASH    alias -> gid
    groups:mark               STRING  the highest gid the app ever had (deleted groups' too)
    groups:seq                STRING  the app's counter (INCR) of creations and joinings
    groups:members:<gid>      HASH    username -> JSON [role, silenced, joined]
    groups:joined:<gid>       ZSET    username -> its joining's place: the joining order
    groups:of:<username>      ZSET    gid -> the same place: the user's groups, joining order

Every write that touches several keys is one script. A group created without a gid reserves
one first (a create refused after that leaves a gap in the gids, never a gid given twice).
An update of a JSON value, and a deletion (which must name each member's C{groups:of} key),
give their script what they read; the script does nothing if that changed since, and the
write reads and tries again.
"""
import attr
import orjson
from twisted.internet import defer
from zope.interface import implementer

from jim import errors, model
from jim.errors import JimError
from jim.interfaces import IGroupStore
from jim.model import Group, Member
from jim.redis.client import Script
from jim.store import GROUP_CHANGES, MEMBER_CHANGES, check_changes, check_page
from jim.store.redis_keys import indexed_with_prefix, key
from jim.store.redis_silences import place_key, user_key

#: how many times a write whose reads keep changing is tried before it fails
ATTEMPTS = 50

#: join(first, of, gid, members, joined, seq): add the members whose usernames and values are
#: ARGV[first], ARGV[first + 1], ... (their groups:of keys KEYS[of + 1], ...); their positions
_JOIN = """
local function join(first, of, gid, members, joined, seq)
  local added = {}
  for i = 1, (#ARGV - first + 1) / 2 do
    local username = ARGV[first + 2 * i - 2]
    if redis.call('HSETNX', members, username, ARGV[first + 2 * i - 1]) == 1 then
      local place = redis.call('INCR', seq)
      redis.call('ZADD', joined, place, username)
      redis.call('ZADD', KEYS[of + i], place, gid)
      added[#added + 1] = i
    end
  end
  return added
end
"""

#: a gid for a new group (its alias ARGV[2] free if ARGV[1] is '1'), as decimal text: one
#: above the mark KEYS[1], and above ARGV[3]
_RESERVE = Script("reserve_gid", """
if ARGV[1] == '1' and redis.call('HEXISTS', KEYS[2], ARGV[2]) == 1 then
  return redis.error_reply('JIM group_exists the alias is taken')
end
local mark = tonumber(redis.call('GET', KEYS[1]) or '0')
if mark < tonumber(ARGV[3]) then redis.call('SET', KEYS[1], ARGV[3]) end
redis.call('INCR', KEYS[1])
return redis.call('GET', KEYS[1])
""")

#: gids are compared as decimal text: Lua's numbers are doubles, exact only up to 2^53
_CREATE = Script("create_group", _JOIN + """
local gid, mark = ARGV[1], redis.call('GET', KEYS[4]) or '0'
if redis.call('HEXISTS', KEYS[1], gid) == 1 then
  if ARGV[5] == 'reserved' then return 0 end  -- given explicitly since it was reserved
  return redis.error_reply('JIM group_exists group ' .. gid .. ' exists')
end
if ARGV[3] == '1' and redis.call('HEXISTS', KEYS[5], ARGV[4]) == 1 then
  return redis.error_reply('JIM group_exists the alias of group ' .. gid .. ' is taken')
end
if ARGV[5] == 'raises' and (#gid > #mark or (#gid == #mark and gid > mark)) then
  redis.call('SET', KEYS[4], gid)
end
redis.call('HSET', KEYS[1], gid, ARGV[2])
redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[3]), gid)
if ARGV[3] == '1' then redis.call('HSET', KEYS[5], ARGV[4], gid) end
join(6, 5, gid, KEYS[#KEYS - 1], KEYS[#KEYS], KEYS[3])
return 1
""")

_ADD_MEMBERS = Script("add_members", _JOIN + """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then
  return redis.error_reply('JIM no_such_group no group ' .. ARGV[1])
end
return join(2, 4, ARGV[1], KEYS[2], KEYS[3], KEYS[4])
""")

#: KEYS: members, joined, the group's kept silences, then each user's groups and places of
#: kept silences; ARGV: the gid, its silence place, the usernames. The places (1-based) of
#: those removed; the silence of each silenced one is kept (its JSON's second field).
_REMOVE_MEMBERS = Script("remove_members", """
local removed = {}
for i = 3, #ARGV do
  local name = ARGV[i]
  local value = redis.call('HGET', KEYS[1], name)
  if value then
    redis.call('HDEL', KEYS[1], name)
    redis.call('ZREM', KEYS[2], name)
    redis.call('ZREM', KEYS[2 * i - 2], ARGV[1])
    if cjson.decode(value)[2] == true then
      redis.call('SADD', KEYS[3], name)
      redis.call('SADD', KEYS[2 * i - 1], ARGV[2])
    end
    removed[#removed + 1] = i - 2
  end
end
return removed
""")

_DELETE = Script("delete_group", """
local gid, now = ARGV[1], redis.call('ZRANGE', KEYS[5], 0, -1)
if redis.call('HGET', KEYS[1], gid) ~= ARGV[2] or #now ~= #ARGV - 4 then return 0 end
for i, username in ipairs(now) do if username ~= ARGV[4 + i] then return 0 end end
redis.call('HDEL', KEYS[1], gid)
redis.call('ZREM', KEYS[2], gid)
if ARGV[3] == '1' then redis.call('HDEL', KEYS[3], ARGV[4]) end
redis.call('DEL', KEYS[4], KEYS[5])
for i = 6, #KEYS do redis.call('ZREM', KEYS[i], gid) end
return 1
""")

#: each field ARGV[3i - 2] of the hash KEYS[i] must still hold ARGV[3i - 1] ('': none) and
#: becomes ARGV[3i] ('': stays as it is); all or nothing
_REPLACE = Script("replace_group_values", """
for i = 1, #KEYS do
  if (redis.call('HGET', KEYS[i], ARGV[3 * i - 2]) or '') ~= ARGV[3 * i - 1] then return 0 end
end
for i = 1, #KEYS do
  if ARGV[3 * i] ~= '' then redis.call('HSET', KEYS[i], ARGV[3 * i - 2], ARGV[3 * i]) end
end
return 1
""")

#: the size of the sorted set KEYS[1], then its members from place ARGV[1] to ARGV[2], each
#: followed by its value in the hash KEYS[2]
_READ = Script("read_groups", """
local found = {redis.call('ZCARD', KEYS[1])}
for _, field in ipairs(redis.call('ZRANGE', KEYS[1], ARGV[1], ARGV[2])) do
  found[#found + 1] = field
  found[#found + 1] = redis.call('HGET', KEYS[2], field)
end
return found
""")

_BY_ALIAS = Script("group_by_alias", """
local gid = redis.call('HGET', KEYS[1], ARGV[1])
if not gid then return false end
return {gid, redis.call('HGET', KEYS[2], gid)}
""")


def _k(app, *parts):
    return key(app, "groups", *parts)


def _dump(value, skip):
    """A value's fields but the first C{skip} (the app and gid, or the username) as JSON."""
    return orjson.dumps(attr.astuple(value, recurse=False)[skip:]).decode()


def _group(app, gid, text):
    return None if text is None else Group(app, int(gid), *orjson.loads(text))


def _grouper(app):
    return lambda gid, text: _group(app, gid, text)


def _member(username, text):
    return None if text is None else Member(username, *orjson.loads(text))


def _joins(members):
    return [part for m in members for part in (m.username, _dump(m, 1))]


def _not_member(gid, username):
    return JimError(errors.NOT_MEMBER, f"{username!r} is not a member of group {gid}")


def _no_such_group(gid):
    raise JimError(errors.NO_SUCH_GROUP, f"no group {gid}")


def _again(attempt, *args):
    """Run C{attempt} until its script finds unchanged what it read (its reply is not 0)."""
    async def run():
        for _ in range(ATTEMPTS):
            done = await attempt(*args)
            if done != 0:
                return done
        raise JimError(errors.SERVER_ERROR, "groups kept changing: try again")

    return defer.ensureDeferred(run())


@implementer(IGroupStore)
class RedisGroups:
    def __init__(self, client):
        self._client = client

    def _read(self, keys, places, load):
        """A sorted set's members in C{places} and their values, as C{(size, [load(member,
        value), ...])}."""
        found = self._client.run(_READ, keys, places)
        return found.addCallback(lambda f: (f[0], [load(*p) for p in zip(f[1::2], f[2::2])]))

    def _group_value(self, app, gid):
        value = self._client.call("HGET", _k(app), str(gid))
        return value.addCallback(lambda text: text or _no_such_group(gid))

    def create_group(self, group, members):
        return _again(self._create, group, list(members))

    async def _create(self, group, members):
        app, alias = group.app, group.alias
        has_alias, how = "0" if alias is None else "1", "given"
        if group.gid == 0:
            gid = await self._client.run(_RESERVE, [_k(app, "mark"), _k(app, "aliases")],
                                         [has_alias, alias or "", model.FIRST_GID - 1])
            group, how = attr.evolve(group, gid=int(gid)), "reserved"
        elif 0 < group.gid <= model.MAX_INT64:  # a mark INCR can go on from
            how = "raises"
        keys = [_k(app), _k(app, "order"), _k(app, "seq"), _k(app, "mark"), _k(app, "aliases")]
        keys += [_k(app, "of", m.username) for m in members]
        keys += [_k(app, "members", group.gid), _k(app, "joined", group.gid)]
        args = [str(group.gid), _dump(group, 2), has_alias, alias or "", how, *_joins(members)]
        return group if await self._client.run(_CREATE, keys, args) else 0

    def get_group(self, app, gid):
        value = self._client.call("HGET", _k(app), str(gid))
        return value.addCallback(lambda text: _group(app, gid, text))

    def group_by_alias(self, app, alias):
        found = self._client.run(_BY_ALIAS, [_k(app, "aliases"), _k(app)], [alias])
        return found.addCallback(lambda gid_text: gid_text and _group(app, *gid_text))

    def update_group(self, app, gid, changes):
        check_changes(Group, changes, GROUP_CHANGES)  # a caller's bug comes first
        return _again(self._update, app, gid, dict(changes))

    async def _update(self, app, gid, changes):
        old = await self._group_value(app, gid)
        group = attr.evolve(_group(app, gid, old), **changes)
        done = await self._client.run(_REPLACE, [_k(app)], [str(gid), old, _dump(group, 2)])
        return group if done else 0

    def delete_group(self, app, gid):
        return _again(self._delete, app, gid)

    async def _delete(self, app, gid):
        old = await self._group_value(app, gid)
        usernames = await self._client.call("ZRANGE", _k(app, "joined", gid), 0, -1)
        alias = _group(app, gid, old).alias
        keys = [_k(app), _k(app, "order"), _k(app, "aliases"), _k(app, "members", gid),
                _k(app, "joined", gid), *(_k(app, "of", username) for username in usernames)]
        args = [str(gid), old, "0" if alias is None else "1", alias or "", *usernames]
        return None if await self._client.run(_DELETE, keys, args) else 0

    def list_groups(self, app, start, count):
        places = [start, min(start + count - 1, model.MAX_INT64)] if count else [1, 0]
        return defer.maybeDeferred(check_page, start, count).addCallback(
            lambda _: self._read([_k(app, "order"), _k(app)], places, _grouper(app)))

    def add_members(self, app, gid, members):
        members = list(members)
        keys = [_k(app), _k(app, "members", gid), _k(app, "joined", gid), _k(app, "seq"),
                *(_k(app, "of", m.username) for m in members)]
        added = self._client.run(_ADD_MEMBERS, keys, [str(gid), *_joins(members)])
        return added.addCallback(lambda places: [members[i - 1].username for i in places])

    def remove_members(self, app, gid, usernames):
        usernames = list(dict.fromkeys(usernames))
        if not usernames:
            return defer.succeed([])
        place = model.silence_place(model.GROUPS_AREA, gid)
        keys = [_k(app, "members", gid), _k(app, "joined", gid), place_key(app, place)]
        for username in usernames:
            keys += [_k(app, "of", username), user_key(app, username)]
        removed = self._client.run(_REMOVE_MEMBERS, keys, [str(gid), place, *usernames])
        return removed.addCallback(lambda places: [usernames[i - 1] for i in places])

    def update_member(self, app, gid, username, changes):
        check_changes(Member, changes, MEMBER_CHANGES)
        return _again(self._update_member, app, gid, username, dict(changes))

    async def _update_member(self, app, gid, username, changes):
        members = _k(app, "members", gid)
        old = await self._client.call("HGET", members, username)
        if old is None:
            raise _not_member(gid, username)
        member = attr.evolve(_member(username, old), **changes)
        done = await self._client.run(_REPLACE, [members], [username, old, _dump(member, 1)])
        return member if done else 0

    def set_owner(self, app, gid, username):
        return _again(self._set_owner, app, gid, username)

    async def _set_owner(self, app, gid, username):
        """The group's owner field, the new owner's role and the old one's, compared and set
        in one script."""
        members, old = _k(app, "members", gid), await self._group_value(app, gid)
        group = _group(app, gid, old)
        was, now = await self._client.call("HMGET", members, group.owner, username)
        if now is None:
            raise _not_member(gid, username)
        moved = attr.evolve(group, owner=username)
        keys, args = [_k(app)], [str(gid), old, _dump(moved, 2)]
        if group.owner != username:
            demoted = was and _dump(attr.evolve(_member(group.owner, was), role=model.MEMBER), 1)
            keys.append(members)
            args += [group.owner, was or "", demoted or ""]
        keys.append(members)
        args += [username, now, _dump(attr.evolve(_member(username, now), role=model.OWNER), 1)]
        return moved if await self._client.run(_REPLACE, keys, args) else 0

    def members(self, app, gid):
        found = self._read([_k(app, "joined", gid), _k(app, "members", gid)], [0, -1], _member)
        return found.addCallback(lambda size_members: size_members[1])

    def user_groups(self, app, username):
        found = self._read([_k(app, "of", username), _k(app)], [0, -1], _grouper(app))
        return found.addCallback(lambda size_groups: size_groups[1])

    def members_with_prefix(self, app, prefix):
        """A SCAN of the app's C{groups:of:<username>} keys whose username begins with
        C{prefix}, then the gids of each (L{indexed_with_prefix})."""
        return defer.ensureDeferred(indexed_with_prefix(
            self._client, lambda username: _k(app, "of", username), prefix))
