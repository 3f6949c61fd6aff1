# -*- test-case-name: tests.store_contract.test_rooms -*-
"""The chat-room area of the Redis store (L{jim.interfaces.IRoomStore}).

Keys (L{jim.store.redis_keys.key}; a room id is in decimal):

    rooms                        HASH    id -> JSON [name, description, owner, max_members,
                                         ctime, mtime]
    rooms:order                  ZSET    id -> its creation's place: the list in creation order
    rooms:mark                   STRING  the highest room id the app ever gave (INCR)
    rooms:seq                    STRING  the app's counter (INCR) of creations and joinings
    rooms:members:<id>           HASH    username -> JSON [silenced, joined]
    rooms:joined:<id>            ZSET    username -> its joining's place: the joining order
    rooms:of:<username>          ZSET    id -> the same place: the user's rooms, joining order

Every write that touches several keys is one script, which makes every check that may refuse
it before its first change. A room takes its id from the mark first (a create that fails after
that leaves a gap in the ids, never an id given twice). A write that needs what it read (a
room's JSON, to change it or to know its most; the members of a room to delete, the rooms of a
user to take out, whose keys the script must be given) gives the script what it read; the
script does nothing if that changed since, and the write reads and tries again.
"""
import attr
import orjson
from twisted.internet import defer
from zope.interface import implementer

from jim import errors, model
from jim.errors import JimError
from jim.interfaces import IRoomStore
from jim.model import Room, RoomMember
from jim.redis.client import Script
from jim.store import ROOM_CHANGES, ROOM_MEMBER_CHANGES, check_changes, check_page
from jim.store import members_page, no_such_room
from jim.store.redis_keys import deferred, indexed_with_prefix, key
from jim.store.redis_silences import place_key, user_key

#: how many times a write whose reads keep changing is tried before it fails
ATTEMPTS = 50
#: what a script answers when what it was given changed since it was read
_CHANGED = -1

#: join(first, of, id, members, joined, seq): the members whose usernames and values are
#: ARGV[first], ARGV[first + 1], ... (their rooms:of keys KEYS[of + 1], ...) come in
_JOIN = """
local function join(first, of, id, members, joined, seq)
  for i = 1, (#ARGV - first + 1) / 2 do
    local username = ARGV[first + 2 * i - 2]
    local place = redis.call('INCR', seq)
    redis.call('HSET', members, username, ARGV[first + 2 * i - 1])
    redis.call('ZADD', joined, place, username)
    redis.call('ZADD', KEYS[of + i], place, id)
  end
end
"""

#: KEYS: the mark; ARGV: FIRST_ROOM_ID - 1. The next id, never one given before.
_RESERVE = Script("rooms.reserve", """
local mark = tonumber(redis.call('GET', KEYS[1]) or '0')
if mark < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
return redis.call('INCR', KEYS[1])
""")

#: KEYS: rooms, order, seq, members, joined, then each member's rooms:of; ARGV: the id, the
#: room's JSON, then each member's username and JSON
_CREATE = Script("rooms.create", _JOIN + """
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[3]), ARGV[1])
join(3, 5, ARGV[1], KEYS[4], KEYS[5], KEYS[3])
""")

#: KEYS: rooms; ARGV: the id, its JSON as read, the new JSON
_UPDATE = Script("rooms.update", """
local now = redis.call('HGET', KEYS[1], ARGV[1])
if not now then return redis.error_reply('JIM no_such_room no chat room ' .. ARGV[1]) end
if now ~= ARGV[2] then return -1 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
""")

#: KEYS: rooms, order, members, joined, then each member's rooms:of; ARGV: the id, then the
#: members as read, in joining order
_DELETE = Script("rooms.delete", """
local id = ARGV[1]
if redis.call('HEXISTS', KEYS[1], id) == 0 then
  return redis.error_reply('JIM no_such_room no chat room ' .. id)
end
local now = redis.call('ZRANGE', KEYS[4], 0, -1)
if #now ~= #ARGV - 1 then return -1 end
for i, username in ipairs(now) do if username ~= ARGV[1 + i] then return -1 end end
redis.call('HDEL', KEYS[1], id)
redis.call('ZREM', KEYS[2], id)
redis.call('DEL', KEYS[3], KEYS[4])
for i = 5, #KEYS do redis.call('ZREM', KEYS[i], id) end
return 1
""")

#: KEYS: rooms, members, joined, seq, then each member's rooms:of; ARGV: the id, the room's
#: JSON as read, its most, then each member's username and JSON. All or none.
_ADD = Script("rooms.add_members", _JOIN + """
local id = ARGV[1]
local now = redis.call('HGET', KEYS[1], id)
if not now then return redis.error_reply('JIM no_such_room no chat room ' .. id) end
if now ~= ARGV[2] then return -1 end
local count = (#ARGV - 3) / 2
for i = 1, count do
  if redis.call('HEXISTS', KEYS[2], ARGV[2 + 2 * i]) == 1 then
    return redis.error_reply('JIM in_room some of the users are in chat room ' .. id ..
                             ' already')
  end
end
if count > 0 and redis.call('HLEN', KEYS[2]) + count > tonumber(ARGV[3]) then
  return redis.error_reply('JIM room_full chat room ' .. id .. ' has at most ' .. ARGV[3] ..
                           ' members')
end
join(4, 4, id, KEYS[2], KEYS[3], KEYS[4])
return 1
""")

#: KEYS: rooms, members, joined, the room's kept silences, then each user's rooms:of and
#: places of kept silences; ARGV: the id, its silence place, the usernames. All or none; the
#: silence of each silenced one is kept (its JSON's first field).
_REMOVE = Script("rooms.remove_members", """
local id = ARGV[1]
if redis.call('HEXISTS', KEYS[1], id) == 0 then
  return redis.error_reply('JIM no_such_room no chat room ' .. id)
end
for i = 3, #ARGV do
  if redis.call('HEXISTS', KEYS[2], ARGV[i]) == 0 then
    return redis.error_reply('JIM not_in_room some of the users are not in chat room ' .. id)
  end
end
for i = 3, #ARGV do
  local name = ARGV[i]
  if cjson.decode(redis.call('HGET', KEYS[2], name))[1] == true then
    redis.call('SADD', KEYS[4], name)
    redis.call('SADD', KEYS[2 * i], ARGV[2])
  end
  redis.call('HDEL', KEYS[2], name)
  redis.call('ZREM', KEYS[3], name)
  redis.call('ZREM', KEYS[2 * i - 1], id)
end
""")


#: KEYS: rooms, members; ARGV: the id, the username, its JSON as read ('': none), the new JSON
_UPDATE_MEMBER = Script("rooms.update_member", """
local id = ARGV[1]
if redis.call('HEXISTS', KEYS[1], id) == 0 then
  return redis.error_reply('JIM no_such_room no chat room ' .. id)
end
local now = redis.call('HGET', KEYS[2], ARGV[2])
if not now then
  return redis.error_reply('JIM not_in_room some of the users are not in chat room ' .. id)
end
if now ~= ARGV[3] then return -1 end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[4])
return 1
""")

#: KEYS: rooms, joined, members; ARGV: the id, the first place and the last. The number of
#: members, then those in the places, each followed by its JSON.
_MEMBERS = Script("rooms.members", """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then
  return redis.error_reply('JIM no_such_room no chat room ' .. ARGV[1])
end
local found = {redis.call('ZCARD', KEYS[2])}
for _, username in ipairs(redis.call('ZRANGE', KEYS[2], ARGV[2], ARGV[3])) do
  found[#found + 1] = username
  found[#found + 1] = redis.call('HGET', KEYS[3], username)
end
return found
""")

#: KEYS: order, rooms; ARGV: the first place and the last. The number of rooms, then those in
#: the places, each followed by its JSON.
_PAGE = Script("rooms.page", """
local found = {redis.call('ZCARD', KEYS[1])}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], ARGV[1], ARGV[2])) do
  found[#found + 1] = id
  found[#found + 1] = redis.call('HGET', KEYS[2], id)
end
return found
""")

#: KEYS: rooms, then each room's joined; ARGV: the ids. Each id that exists followed by its
#: number of members.
_SIZES = Script("rooms.sizes", """
local sizes = {}
for i = 1, #ARGV do
  if redis.call('HEXISTS', KEYS[1], ARGV[i]) == 1 then
    sizes[#sizes + 1] = ARGV[i]
    sizes[#sizes + 1] = redis.call('ZCARD', KEYS[1 + i])
  end
end
return sizes
""")

#: KEYS: the user's rooms:of, then each room's members and joined; ARGV: the username, then
#: the ids as read, in joining order. How many rooms it left.
_LEAVE_ALL = Script("rooms.leave_all", """
local now = redis.call('ZRANGE', KEYS[1], 0, -1)
if #now ~= #ARGV - 1 then return -1 end
for i, id in ipairs(now) do if id ~= ARGV[1 + i] then return -1 end end
for i = 2, #ARGV do
  redis.call('HDEL', KEYS[2 * i - 2], ARGV[1])
  redis.call('ZREM', KEYS[2 * i - 1], ARGV[1])
end
redis.call('DEL', KEYS[1])
return #ARGV - 1
""")


def _k(app, *parts):
    return key(app, "rooms", *parts)


def _dump(value, skip):
    """A value's fields but the first C{skip} (the app and id, or the username) as JSON."""
    return orjson.dumps(attr.astuple(value, recurse=False)[skip:]).decode()


def _room(app, room_id, text):
    return Room(app, int(room_id), *orjson.loads(text))


def _member(username, text):
    return RoomMember(username, *orjson.loads(text))


def _places(start, count):
    """The ZRANGE places of C{count} (None: all) from the C{start}th."""
    if count is None:
        return [start, -1]
    return [start, min(start + count - 1, model.MAX_INT64)] if count else [1, 0]


def _pairs(found, load):
    """The values of a reply of fields each followed by its JSON."""
    return [load(field, text) for field, text in zip(found[::2], found[1::2])]


async def _again(attempt, *args):
    """Run C{attempt} until its script finds unchanged what it read."""
    for _ in range(ATTEMPTS):
        done = await attempt(*args)
        if done != _CHANGED:
            return done
    raise JimError(errors.SERVER_ERROR, "chat rooms kept changing: try again")


@implementer(IRoomStore)
class RedisRooms:
    def __init__(self, client):
        self._client = client

    async def _room_text(self, app, room_id):
        text = await self._client.call("HGET", _k(app), str(room_id))
        if text is None:
            raise no_such_room(room_id)
        return text

    @deferred
    async def create_room(self, room, members):
        app, members = room.app, list(members)
        room_id = await self._client.run(_RESERVE, [_k(app, "mark")], [model.FIRST_ROOM_ID - 1])
        room = attr.evolve(room, id=int(room_id))
        keys = [_k(app), _k(app, "order"), _k(app, "seq"), _k(app, "members", room.id),
                _k(app, "joined", room.id), *(_k(app, "of", m.username) for m in members)]
        args = [str(room.id), _dump(room, 2),
                *(part for m in members for part in (m.username, _dump(m, 1)))]
        await self._client.run(_CREATE, keys, args)
        return room

    @deferred
    async def get_rooms(self, app, room_ids):
        room_ids = list(dict.fromkeys(room_ids))
        if not room_ids:
            return []
        texts = await self._client.call("HMGET", _k(app), *(str(i) for i in room_ids))
        return [_room(app, i, text) for i, text in zip(room_ids, texts) if text is not None]

    def update_room(self, app, room_id, changes):
        check_changes(Room, changes, ROOM_CHANGES)  # a caller's bug: raised at once
        return defer.ensureDeferred(_again(self._update, app, room_id, dict(changes)))

    async def _update(self, app, room_id, changes):
        old = await self._room_text(app, room_id)
        room = attr.evolve(_room(app, room_id, old), **changes)
        done = await self._client.run(_UPDATE, [_k(app)], [str(room_id), old, _dump(room, 2)])
        return _CHANGED if done == _CHANGED else room

    @deferred
    async def delete_room(self, app, room_id):
        await _again(self._delete, app, room_id)

    async def _delete(self, app, room_id):
        usernames = await self._client.call("ZRANGE", _k(app, "joined", room_id), 0, -1)
        keys = [_k(app), _k(app, "order"), _k(app, "members", room_id),
                _k(app, "joined", room_id), *(_k(app, "of", u) for u in usernames)]
        return await self._client.run(_DELETE, keys, [str(room_id), *usernames])

    @deferred
    async def list_rooms(self, app, start, count):
        check_page(start, count)
        found = await self._client.run(_PAGE, [_k(app, "order"), _k(app)],
                                       _places(start, count))
        return found[0], _pairs(found[1:], lambda i, text: _room(app, i, text))

    @deferred
    async def add_room_members(self, app, room_id, members):
        await _again(self._add, app, room_id, list(members))

    async def _add(self, app, room_id, members):
        old = await self._room_text(app, room_id)
        most = _room(app, room_id, old).max_members
        keys = [_k(app), _k(app, "members", room_id), _k(app, "joined", room_id),
                _k(app, "seq"), *(_k(app, "of", m.username) for m in members)]
        args = [str(room_id), old, str(most),
                *(part for m in members for part in (m.username, _dump(m, 1)))]
        return await self._client.run(_ADD, keys, args)

    @deferred
    async def remove_room_members(self, app, room_id, usernames):
        usernames = list(usernames)
        place = model.silence_place(model.ROOMS_AREA, room_id)
        keys = [_k(app), _k(app, "members", room_id), _k(app, "joined", room_id),
                place_key(app, place)]
        for username in usernames:
            keys += [_k(app, "of", username), user_key(app, username)]
        await self._client.run(_REMOVE, keys, [str(room_id), place, *usernames])

    def update_room_member(self, app, room_id, username, changes):
        check_changes(RoomMember, changes, ROOM_MEMBER_CHANGES)  # raised at once
        return defer.ensureDeferred(
            _again(self._update_member, app, room_id, username, dict(changes)))

    async def _update_member(self, app, room_id, username, changes):
        members = _k(app, "members", room_id)
        old = await self._client.call("HGET", members, username)
        # no member: the script refuses it (no room, or not in it) or finds it came in since
        new = "" if old is None else _dump(attr.evolve(_member(username, old), **changes), 1)
        done = await self._client.run(_UPDATE_MEMBER, [_k(app), members],
                                      [str(room_id), username, old or "", new])
        return _CHANGED if done == _CHANGED else _member(username, new)

    @deferred
    async def room_members(self, app, room_id, start=0, count=None):
        members_page(start, count)
        found = await self._client.run(
            _MEMBERS, [_k(app), _k(app, "joined", room_id), _k(app, "members", room_id)],
            [str(room_id), *_places(start, count)])
        return found[0], _pairs(found[1:], _member)

    @deferred
    async def room_sizes(self, app, room_ids):
        room_ids = list(dict.fromkeys(room_ids))
        if not room_ids:
            return {}
        found = await self._client.run(
            _SIZES, [_k(app), *(_k(app, "joined", i) for i in room_ids)],
            [str(i) for i in room_ids])
        return {int(i): size for i, size in zip(found[::2], found[1::2])}

    @deferred
    async def user_rooms(self, app, username):
        return [int(i) for i in await self._client.call("ZRANGE", _k(app, "of", username),
                                                        0, -1)]

    def room_members_with_prefix(self, app, prefix):
        """A SCAN of the app's C{rooms:of:<username>} keys whose username begins with
        C{prefix}, then the rooms of each (L{indexed_with_prefix})."""
        return defer.ensureDeferred(indexed_with_prefix(
            self._client, lambda username: _k(app, "of", username), prefix))

    @deferred
    async def leave_all_rooms(self, app, username):
        return await _again(self._leave_all, app, username)

    async def _leave_all(self, app, username):
        room_ids = await self._client.call("ZRANGE", _k(app, "of", username), 0, -1)
        if not room_ids:
            return 0
        keys = [_k(app, "of", username)]
        for room_id in room_ids:
            keys += [_k(app, "members", room_id), _k(app, "joined", room_id)]
        return await self._client.run(_LEAVE_ALL, keys, [username, *room_ids])
