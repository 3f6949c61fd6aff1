# -*- test-case-name: tests.store_contract.test_media -*-
"""The media area of the Redis store (L{jim.interfaces.IMediaStore}).

Keys (named by L{jim.store.redis_keys.key}; the first three are the app's: its hash tag):

    jim:{app}:media:<media_id>     STRING  the Media as the JSON list of its fields after
                                           C{app}, in L{jim.model.Media}'s order
    jim:{app}:media-hashes         SET     the content hashes the app's records name
    jim:{app}:media-usage          STRING  the app's usage: bytes of those contents
    jim:media-named:<content_hash> SET     the C{media-hashes} keys that hold this hash (or
                                           held it: an app forgotten since leaves its name,
                                           which L{RedisMedia.named_hashes} takes out)
    jim:media:indexed              STRING  set once every record is in the three above

A media id is never changed, so keeping one is L{ADD}: one script that keeps the first
record, and counts a content new to the app in its usage and in the two sets, or refuses it
past the quota: whichever node made it, the first upload's record is kept, and the check and
the count are one step. The app's keys go with it (L{jim.store.redis_forget}); the
C{media-named} sets, every app's, keep its name until a sweep asks about their hash.
Records kept by a jim that counted nothing are counted once (L{jim.store.redis_media_index}).
"""
import attr
import orjson
from twisted.internet import defer
from zope.interface import implementer

from jim.interfaces import IMediaStore
from jim.model import Media
from jim.redis.client import Script
from jim.store import media_quota, redis_media_index
from jim.store.redis_keys import deferred, key

#: Media's fields after C{app}, as they are kept
_FIELDS = [field.name for field in attr.fields(Media)][1:]

#: KEYS: the record, the app's hashes, its usage, the hash's media-named set; ARGV: the
#: record's value, its content hash, its size, the quota (0: none). The record kept (a
#: string), or, refused past the quota, a list of the usage.
ADD = Script("media.add", redis_media_index.COUNT + """
-- the sum and the order of two numbers in decimal (Lua's are doubles: inexact past 2^53)
local function digit(text, i)
  if i < 1 then return 0 end
  return string.byte(text, i) - 48
end
local function sum(a, b)
  local digits, carry, i, j = {}, 0, #a, #b
  while i > 0 or j > 0 or carry > 0 do
    local d = carry + digit(a, i) + digit(b, j)
    table.insert(digits, 1, d % 10)
    carry, i, j = math.floor(d / 10), i - 1, j - 1
  end
  return #digits > 0 and table.concat(digits) or '0'
end
local function above(a, b)
  if #a ~= #b then return #a > #b end
  return a > b
end
local kept = redis.call('GET', KEYS[1])
if kept then return kept end
if redis.call('SISMEMBER', KEYS[2], ARGV[2]) == 0 then
  local used = redis.call('GET', KEYS[3]) or '0'
  if ARGV[4] ~= '0' and above(sum(used, ARGV[3]), ARGV[4]) then return {used} end
  count(KEYS[2], KEYS[3], KEYS[4], ARGV[2], ARGV[3])
end
redis.call('SET', KEYS[1], ARGV[1])
return ARGV[1]
""")

#: KEYS: for each hash, its media-named set then the members read from it; ARGV[1]: a JSON
#: array of [hash, how many members follow its set]. Each member whose set no longer holds the
#: hash is taken out; the size of each media-named set after, in order.
NAMED = Script("media.named", """
local k, sizes = 1, {}
for i, entry in ipairs(cjson.decode(ARGV[1])) do
  for j = 1, entry[2] do
    if redis.call('SISMEMBER', KEYS[k + j], entry[1]) == 0 then
      redis.call('SREM', KEYS[k], KEYS[k + j])
    end
  end
  sizes[i] = redis.call('SCARD', KEYS[k])
  k = k + 1 + entry[2]
end
return sizes
""")


def media_key(app, media_id):
    return key(app, "media", media_id)


def _value(media):
    return orjson.dumps([getattr(media, name) for name in _FIELDS])


def _media(app, text):
    return None if text is None else Media(app, *orjson.loads(text))


@implementer(IMediaStore)
class RedisMedia:
    def __init__(self, client):
        self._client = client

    @deferred
    async def add_media(self, media, quota=0):
        hashes = redis_media_index.hashes_key(media.app)
        reply = await self._client.run(
            ADD, [media_key(media.app, media.media_id), hashes,
                  redis_media_index.usage_key(media.app),
                  redis_media_index.named_key(media.content_hash)],
            [_value(media), media.content_hash, str(media.size), str(quota)])
        if isinstance(reply, list):
            raise media_quota.refusal(quota, int(reply[0]), media.size)
        return _media(media.app, reply)

    @deferred
    async def get_media(self, app, media_id):
        return _media(app, await self._client.call("GET", media_key(app, media_id)))

    @deferred
    async def media_usage(self, app):
        return int(await self._client.call("GET", redis_media_index.usage_key(app)) or 0)

    @deferred
    async def named_hashes(self, content_hashes):
        content_hashes = list(dict.fromkeys(content_hashes))
        if not content_hashes:
            return set()
        sets = [redis_media_index.named_key(content_hash) for content_hash in content_hashes]
        members = await defer.gatherResults(
            [self._client.call("SMEMBERS", name) for name in sets], consumeErrors=True)
        keys, entries = [], []
        for content_hash, name, names in zip(content_hashes, sets, members):
            keys += [name, *names]
            entries.append([content_hash, len(names)])
        sizes = await self._client.run(NAMED, keys, [orjson.dumps(entries)])
        return {content_hash for content_hash, size in zip(content_hashes, sizes) if size}

    @deferred
    async def count_older(self):
        """Walk every media record (not a hot path) and count what an older jim kept."""
        await redis_media_index.run(self._client, again=True)

    def index_older(self):
        """Count the records kept before the usage and the sets were (once a Redis, at the
        first start of a node of this version; see L{redis_media_index.run})."""
        return redis_media_index.run(self._client)
