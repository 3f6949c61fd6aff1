# -*- test-case-name: tests.store_contract.test_words -*-
"""The sensitive-word area of the Redis store (L{jim.interfaces.IWordStore}).

Keys (named by L{jim.store.redis_keys.key}):

    jim:{app}:words         ZSET    the app's words, scored by the order they were added
    jim:{app}:words:itime   HASH    word -> when it was added (epoch ms)
    jim:{app}:words:seq     STRING  the last order number given (INCR)

Each change is one script, so a count checked against the app's most holds when the words are
added, whatever other nodes do meanwhile.
"""
from zope.interface import implementer

from jim.interfaces import IWordStore
from jim.redis.client import Script
from jim.store import check_page
from jim.store.redis_keys import deferred, key

#: KEYS: the words, their itimes, the order counter; ARGV: the most, the itime, the words.
#: How many were added, or the refusal when the app would have more than the most.
ADD = Script("words.add", """
local new, seen = {}, {}
for i = 3, #ARGV do
  local word = ARGV[i]
  if not seen[word] and not redis.call('ZSCORE', KEYS[1], word) then
    new[#new + 1] = word
  end
  seen[word] = true
end
if redis.call('ZCARD', KEYS[1]) + #new > tonumber(ARGV[1]) then
  return redis.error_reply('JIM too_many an app has at most ' .. ARGV[1] .. ' sensitive words')
end
for _, word in ipairs(new) do
  redis.call('ZADD', KEYS[1], redis.call('INCR', KEYS[3]), word)
  redis.call('HSET', KEYS[2], word, ARGV[2])
end
return #new
""")

#: KEYS: the words, their itimes; ARGV: the old word, the new, the itime.
REPLACE = Script("words.replace", """
local place = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not place then
  return redis.error_reply('JIM no_such_word no sensitive word ' .. ARGV[1])
end
if ARGV[1] ~= ARGV[2] and redis.call('ZSCORE', KEYS[1], ARGV[2]) then
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1])
  return 0
end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[1], place, ARGV[2])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return 1
""")

#: KEYS: the words, their itimes; ARGV: the word.
REMOVE = Script("words.remove", """
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then
  return redis.error_reply('JIM no_such_word no sensitive word ' .. ARGV[1])
end
redis.call('HDEL', KEYS[2], ARGV[1])
""")

#: KEYS: the words, their itimes; ARGV: start, count. The total, the page's words, their
#: itimes, from one snapshot.
PAGE = Script("words.page", """
local total = redis.call('ZCARD', KEYS[1])
local start, count = tonumber(ARGV[1]), tonumber(ARGV[2])
if count == 0 or start >= total then return {total, {}, {}} end
local words = redis.call('ZRANGE', KEYS[1], start, math.min(start + count, total) - 1)
return {total, words, redis.call('HMGET', KEYS[2], unpack(words))}
""")


@implementer(IWordStore)
class RedisWords:
    def __init__(self, client):
        self._client = client

    @staticmethod
    def _keys(app):
        return [key(app, "words"), key(app, "words", "itime")]

    @deferred
    async def add_words(self, app, words, itime, most):
        return await self._client.run(ADD, [*self._keys(app), key(app, "words", "seq")],
                                      [str(most), str(itime), *words])

    @deferred
    async def replace_word(self, app, old, new, itime):
        await self._client.run(REPLACE, self._keys(app), [old, new, str(itime)])

    @deferred
    async def remove_word(self, app, word):
        await self._client.run(REMOVE, self._keys(app), [word])

    @deferred
    async def list_words(self, app, start, count):
        check_page(start, count)
        total, words, itimes = await self._client.run(PAGE, self._keys(app),
                                                      [str(start), str(count)])
        return total, [(word, int(itime)) for word, itime in zip(words, itimes)]

    @deferred
    async def all_words(self, app):
        return await self._client.call("ZRANGE", key(app, "words"), 0, -1)
