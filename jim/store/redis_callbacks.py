# -*- test-case-name: tests.store_contract.test_callbacks -*-
"""The callback backlog of the Redis store (L{jim.interfaces.ICallbackStore}), shared by every
node.

Keys (named by L{jim.store.redis_keys.key}):

    jim:{app}:callbacks         STREAM  the app's items, oldest first: fields k (kind), d (text);
                                        an item's id is its entry id
    jim:{app}:callbacks:lease   STRING  the node sending the app's items, expiring (PX)
    jim:callbacks:apps          SET     the apps that have items

An append, a delete and a trim are each one script that keeps the set in step with the
streams (a delete that empties a stream removes it and its app from the set), so no app with
items is ever missing from the set, whatever other nodes do meanwhile.
"""
from zope.interface import implementer

from jim.interfaces import ICallbackStore
from jim.redis.client import Script
from jim.store.redis_keys import deferred, key

#: KEYS: the stream, the set of apps; ARGV: the app, then kind, text, ...
APPEND = Script("callbacks.append", """
for i = 2, #ARGV, 2 do
  redis.call('XADD', KEYS[1], '*', 'k', ARGV[i], 'd', ARGV[i + 1])
end
redis.call('SADD', KEYS[2], ARGV[1])
""")

#: what a delete and a trim end with: an emptied stream goes, and its app from the set
_FORGET_EMPTY = """
if redis.call('XLEN', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[1])
  redis.call('SREM', KEYS[2], ARGV[1])
end
"""

#: KEYS: the stream, the set of apps; ARGV: the app, then the ids
DELETE = Script("callbacks.delete", """
if #ARGV > 1 then redis.call('XDEL', KEYS[1], unpack(ARGV, 2)) end
""" + _FORGET_EMPTY)

#: KEYS: the stream, the set of apps; ARGV: the app, the most kept. How many were dropped.
TRIM = Script("callbacks.trim", """
local dropped = redis.call('XTRIM', KEYS[1], 'MAXLEN', ARGV[2])
""" + _FORGET_EMPTY + """
return dropped
""")

#: KEYS: the lease; ARGV: the holder, milliseconds. 1 when the holder has it now.
CLAIM = Script("callbacks.claim", """
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
""")

#: KEYS: the lease; ARGV: the holder
RELEASE = Script("callbacks.release", """
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
""")

APPS = key(None, "callbacks", "apps")


@implementer(ICallbackStore)
class RedisCallbacks:
    def __init__(self, client):
        self._client = client

    @staticmethod
    def _keys(app):
        return [key(app, "callbacks"), APPS]

    @deferred
    async def append(self, app, items):
        texts = [text for item in items for text in item]
        if texts:
            await self._client.run(APPEND, self._keys(app), [app, *texts])

    @deferred
    async def batch(self, app, count):
        if count <= 0:
            return []
        entries = await self._client.call("XRANGE", key(app, "callbacks"), "-", "+",
                                          "COUNT", count)
        found = []
        for entry_id, fields in entries:
            values = dict(zip(fields[::2], fields[1::2]))
            found.append((entry_id, values["k"], values["d"]))
        return found

    @deferred
    async def delete(self, app, ids):
        await self._client.run(DELETE, self._keys(app), [app, *ids])

    @deferred
    async def count(self, app):
        return int(await self._client.call("XLEN", key(app, "callbacks")))

    @deferred
    async def trim(self, app, most):
        return int(await self._client.run(TRIM, self._keys(app), [app, str(most)]))

    @deferred
    async def pending_apps(self):
        return list(await self._client.call("SMEMBERS", APPS))

    @deferred
    async def claim(self, app, holder, seconds):
        held = await self._client.run(CLAIM, [key(app, "callbacks", "lease")],
                                      [holder, str(max(1, int(seconds * 1000)))])
        return int(held) == 1

    @deferred
    async def release(self, app, holder):
        await self._client.run(RELEASE, [key(app, "callbacks", "lease")], [holder])

    @deferred
    async def forget_app(self, app):
        """The app was forgotten (L{jim.store.redis_forget}): its keys are gone; it leaves
        the set of apps with items too."""
        await self._client.call("SREM", APPS, app)
